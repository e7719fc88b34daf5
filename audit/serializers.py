from rest_framework import serializers

from audit.models import AccessEvent
from core import api_fields


class AccessEventSerializer(api_fields.ModelSerializer):
    actor = serializers.CharField(source="actor_username", read_only=True)

    class Meta:
        model = AccessEvent
        fields = ["id", "at", "action", "actor", "actor_municipality_id", "outcome", "data_categories", "reason"]
        read_only_fields = fields
