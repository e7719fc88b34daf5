from rest_framework import serializers

from audit.models import AccessEvent


class AccessEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_username", read_only=True)

    class Meta:
        model = AccessEvent
        fields = ["id", "at", "action", "actor", "actor_municipality_id", "outcome", "data_categories", "reason"]
        read_only_fields = fields
