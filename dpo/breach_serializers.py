"""The breach register's JSON: what the API takes in and what it answers.

Texts may be blank here: the services name the rule a missing text breaks (`{"detail", "code", "rule"}`).
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit.models import DataCategory
from core import api_fields
from dpo.breach_selectors import awaits_authority, people_must_be_told, time_left
from dpo.models import Art34Exemption, AuthorityNotification, Breach, NotificationPhase, RiskLevel
from dpo.services.breaches import supervisory_authority


class BreachFactsSerializer(serializers.Serializer):
    """The facts that may become known later (Art. 33(4)); on PATCH, the ones not sent stay as they were."""

    occurred_at = api_fields.DateTimeField(required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True, help_text="The nature of the breach")
    data_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=DataCategory.choices), required=False, allow_empty=True
    )
    people_affected = api_fields.CountField(required=False, allow_null=True)
    records_affected = api_fields.CountField(required=False, allow_null=True)
    consequences = serializers.CharField(required=False, allow_blank=True)
    measures = serializers.CharField(required=False, allow_blank=True)
    risk = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
    affected_patron_ids = api_fields.IdListField(required=False, allow_empty=True)


class BreachRecordSerializer(BreachFactsSerializer):
    aware_at = api_fields.DateTimeField(help_text="When the controller became aware; a time without a zone is local")
    description = serializers.CharField(allow_blank=True, help_text="The nature of the breach")


class AuthorityNotificationSerializer(api_fields.ModelSerializer):
    late = serializers.SerializerMethodField(help_text="An initial notification made after the 72-hour deadline")

    class Meta:
        model = AuthorityNotification
        fields = ["id", "phase", "notified_at", "late", "late_reason", "reference", "recorded_at", "recorded_by"]
        read_only_fields = fields

    def get_late(self, notification) -> bool:
        return (
            notification.phase == NotificationPhase.INITIAL
            and notification.notified_at > notification.breach.authority_deadline
        )


class AuthorityNotificationRecordSerializer(serializers.Serializer):
    notified_at = api_fields.DateTimeField()
    late_reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required when the initial notification is late"
    )
    phase = serializers.ChoiceField(
        choices=NotificationPhase.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: initial for the first notification, supplementary after it",
    )
    reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)


class BreachSerializer(api_fields.ModelSerializer):
    consortium = serializers.CharField(source="consortium.slug", read_only=True)
    authority = serializers.SerializerMethodField(help_text="The supervisory authority of the consortium's country")
    authority_notifications = AuthorityNotificationSerializer(many=True, read_only=True)
    awaiting_authority = serializers.SerializerMethodField(
        help_text="Open, with a risk, and the authority not notified yet: the 72 hours are running"
    )
    time_left_seconds = serializers.SerializerMethodField(
        help_text="Seconds until the authority deadline while awaiting it (negative when overdue), else null"
    )
    people_must_be_told = serializers.SerializerMethodField(
        help_text="High risk, and neither the people told nor an Art. 34(3) exemption recorded"
    )

    class Meta:
        model = Breach
        fields = [
            "id",
            "consortium",
            "aware_at",
            "occurred_at",
            "description",
            "data_categories",
            "people_affected",
            "records_affected",
            "consequences",
            "measures",
            "risk",
            "authority_deadline",
            "authority",
            "awaiting_authority",
            "time_left_seconds",
            "authority_notifications",
            "affected_patron_ids",
            "people_must_be_told",
            "people_notified_on",
            "art34_exemption",
            "art34_exemption_details",
            "recorded_at",
            "recorded_by",
            "closed_on",
        ]
        read_only_fields = fields

    def get_authority(self, breach) -> str:
        return str(supervisory_authority(breach.consortium.jurisdiction))

    def get_awaiting_authority(self, breach) -> bool:
        return awaits_authority(breach)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_time_left_seconds(self, breach) -> int | None:
        if not awaits_authority(breach):
            return None
        return int(time_left(breach, self.context.get("now") or timezone.now()).total_seconds())

    def get_people_must_be_told(self, breach) -> bool:
        return people_must_be_told(breach)


class PeopleNotificationSerializer(serializers.Serializer):
    notified_on = api_fields.DateField()


class Art34ExemptionSerializer(serializers.Serializer):
    exemption = serializers.ChoiceField(choices=Art34Exemption.choices)
    details = serializers.CharField(allow_blank=True, help_text="Why the exemption applies")


class BreachCloseSerializer(serializers.Serializer):
    closed_on = api_fields.DateField()


class RecipientSerializer(serializers.Serializer):
    patron_id = serializers.IntegerField()
    is_guardian = serializers.BooleanField(help_text="A minor's guardian, told instead of the minor")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    street_address = serializers.CharField()
    postal_code = serializers.CharField()
    city = serializers.CharField()


class AffectedPatronSerializer(serializers.Serializer):
    patron_id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    recipients = RecipientSerializer(many=True)


class AffectedContactsSerializer(serializers.Serializer):
    breach = serializers.IntegerField(source="breach.pk")
    patrons = AffectedPatronSerializer(many=True)
    missing_patron_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="Concerned patrons no longer in the register (erased)"
    )
