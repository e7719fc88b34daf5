from django.utils.text import capfirst
from rest_framework import serializers

from audit.models import AccessEvent, Action
from core import api_fields


class AccessEventSerializer(api_fields.ModelSerializer):
    actor = serializers.CharField(source="actor_username", read_only=True)
    # The field has no choices (audit.models.Action): the schema still lists the actions.
    action = serializers.ChoiceField(
        choices=Action.choices, label=capfirst(AccessEvent._meta.get_field("action").verbose_name), read_only=True
    )

    class Meta:
        model = AccessEvent
        fields = ["id", "at", "action", "actor", "actor_municipality_id", "outcome", "data_categories", "reason"]
        read_only_fields = fields
