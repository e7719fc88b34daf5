"""The ban procedure's and the access prohibitions' JSON shapes."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bans.models import NOTICE_FIELDS, AccessProhibition, Ban, BanGuardian
from core import api_fields
from core.bounds import column_length


class BanGuardianSerializer(api_fields.ModelSerializer):
    """A minor party's guardian in the procedure, by patron id: the name is only in the decision document."""

    guardian = serializers.IntegerField(source="guardian_id", read_only=True, allow_null=True)

    class Meta:
        model = BanGuardian
        fields = [
            "guardian",
            "heard_on",
            "hearing_method",
            "statement",
            *NOTICE_FIELDS,
        ]
        read_only_fields = fields


class BanSerializer(api_fields.ModelSerializer):
    """A ban with its procedure. `status` is what the ban is today; `step` is the last step recorded."""

    patron = serializers.IntegerField(source="patron_id", read_only=True)
    library = serializers.CharField(source="library.koha_library_id", read_only=True)
    status = serializers.CharField(source="state", read_only=True)
    step = serializers.CharField(source="status", read_only=True)
    note_ids = serializers.SerializerMethodField()
    days = serializers.SerializerMethodField()
    guardians = BanGuardianSerializer(many=True, read_only=True)

    class Meta:
        model = Ban
        fields = [
            "id",
            "patron",
            "library",
            "status",
            "step",
            "grounds",
            "note_ids",
            "starts_on",
            "ends_on",
            "days",
            "proposed_at",
            "proposed_by",
            "heard_on",
            "hearing_method",
            "statement",
            "answer_by",
            "material_shown",
            "guardians",
            "hearing_waiver_ground",
            "hearing_waived_reason",
            "decision_number",
            "decided_on",
            "decider_name",
            "decider_title",
            "delegation",
            "reasons",
            "decided_text",
            "legal_basis",
            "contact_person",
            "enforced_before_final",
            "enforcement_reasons",
            "length_days",
            *NOTICE_FIELDS,
            "appeal_deadline",
            "appeal_lodged_on",
            "appeal_outcome",
            "appeal_decided_on",
            "appeal_body",
            "appeal_reference",
            "appeal_recorded_by",
            "rectification_notification_method",
            "rectification_notified_on",
            "rectification_deemed_received_on",
            "court_appeal_deadline",
            "court_appeal_lodged_on",
            "court",
            "court_outcome",
            "court_decided_on",
            "authority",
            "ended_early_on",
            "cancellation_reason",
        ]
        read_only_fields = fields

    def get_note_ids(self, ban: Ban) -> list[int]:
        return sorted(note.pk for note in ban.notes.all())

    def get_days(self, ban: Ban) -> int:
        return (ban.ends_on - ban.starts_on).days + 1


class BanProposeSerializer(serializers.Serializer):
    library = serializers.CharField(help_text="Koha library_id (branchcode) of the library the ban concerns")
    grounds = serializers.ListField(child=serializers.CharField(), allow_empty=True)
    note_ids = api_fields.IdListField(allow_empty=True)
    starts_on = api_fields.DateField()
    ends_on = api_fields.DateField()


class GuardianHearingSerializer(serializers.Serializer):
    guardian = api_fields.IdField(help_text="The guardian's patron id")
    heard_on = api_fields.DateField(required=False, allow_null=True)
    method = serializers.CharField(required=False, allow_blank=True, default="")
    statement = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Empty when no statement came"
    )


class BanHearingSerializer(serializers.Serializer):
    heard_on = api_fields.DateField(required=False, allow_null=True)
    method = serializers.CharField(required=False, allow_blank=True, default="")
    statement = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Empty when no statement came"
    )
    answer_by = api_fields.DateField(
        required=False, allow_null=True, help_text="The last day on which the party may answer"
    )
    material_shown = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="What was shown or sent to the party"
    )
    guardians = serializers.ListField(
        child=GuardianHearingSerializer(),
        required=False,
        default=list,
        max_length=10,
        help_text="For a party under 18: each guardian's hearing",
    )
    waiver_ground = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="would_endanger_purpose, delay_would_harm or manifestly_unnecessary (s. 34(2))",
    )
    waived_reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Optional: more on the waiver ground"
    )


class BanDecisionSerializer(serializers.Serializer):
    # Blank or missing text is left to the service, whose 400 names the rule.
    decision_number = serializers.CharField(
        allow_blank=True, default="", max_length=column_length(Ban, "decision_number")
    )
    reasons = serializers.CharField(allow_blank=True, default="")
    starts_on = api_fields.DateField(required=False, allow_null=True, help_text="Enforced before it is final")
    ends_on = api_fields.DateField(required=False, allow_null=True, help_text="Enforced before it is final")
    contact_person = serializers.CharField(
        allow_blank=True, default="", max_length=column_length(Ban, "contact_person")
    )
    decided_on = api_fields.DateField(required=False, allow_null=True, help_text="Default: today")
    enforced_before_final = serializers.BooleanField(required=False, default=True)
    enforcement_reasons = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required when enforced before it is final (s. 143)"
    )
    length_days = api_fields.CountField(
        required=False, allow_null=True, help_text="Not enforced before it is final: its length, 1 to 30 days"
    )
    decided_text = serializers.CharField(required=False, allow_blank=True, default="")


class ConsentFields(serializers.Serializer):
    """The recipient's consent to electronic notice (Act 13/2003 s. 19): required for the method electronic."""

    electronic_consent_on = api_fields.DateField(required=False, allow_null=True)
    electronic_consent_how = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="at_hearing, in_writing or electronically"
    )


class GuardianNotificationSerializer(ConsentFields):
    guardian = api_fields.IdField(help_text="The guardian's patron id")
    method = serializers.CharField(help_text="letter, electronic or in_person")
    sent_on = api_fields.DateField()


class BanNotificationSerializer(ConsentFields):
    method = serializers.CharField(help_text="letter, electronic or in_person")
    sent_on = api_fields.DateField()
    guardians = serializers.ListField(
        child=GuardianNotificationSerializer(),
        required=False,
        default=list,
        max_length=10,
        help_text="For a party under 18: the notice to each guardian",
    )


class BanNotificationResultSerializer(BanSerializer):
    pass


class BanReceiptSerializer(serializers.Serializer):
    received_on = api_fields.DateField(required=False, allow_null=True, default=None)
    evidence = serializers.CharField(
        allow_blank=True, default="", help_text="acknowledgement, delivery_record, party_account or other"
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    guardian = api_fields.IdField(required=False, allow_null=True, help_text="A guardian's patron id; none: the party")


class BanAppealSerializer(serializers.Serializer):
    lodged_on = api_fields.DateField()
    outcome = serializers.CharField(required=False, default="pending")
    decided_on = api_fields.DateField(required=False, allow_null=True)
    body = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=column_length(Ban, "appeal_body"),
        help_text="The body that decided it; default: the rectification body the decision named",
    )
    reference = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=column_length(Ban, "appeal_reference"),
        help_text="The body's decision's reference (required with a decided outcome)",
    )


class BanRectificationNoticeSerializer(serializers.Serializer):
    method = serializers.CharField(help_text="letter, electronic or in_person")
    sent_on = api_fields.DateField()


class BanCourtAppealSerializer(serializers.Serializer):
    lodged_on = api_fields.DateField()
    court = serializers.CharField(
        allow_blank=True, default="", max_length=column_length(Ban, "court"), help_text="The administrative court"
    )
    outcome = serializers.CharField(required=False, default="pending")
    decided_on = api_fields.DateField(required=False, allow_null=True)


class BanCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, default="", max_length=column_length(Ban, "cancellation_reason"))


class ProhibitionWarningSerializer(serializers.Serializer):
    """A warning about a recorded decision (bans.models.ProhibitionWarning), in the shape of the API's errors."""

    code = serializers.CharField(read_only=True)
    detail = serializers.CharField(read_only=True)


class AccessProhibitionSerializer(api_fields.ModelSerializer):
    patron = serializers.IntegerField(source="patron_id", read_only=True)
    library = serializers.CharField(source="library.koha_library_id")
    warnings = serializers.SerializerMethodField(
        help_text="What was unusual in the decision recorded (e.g. `longer_than_one_year`): recorded all the same, "
        "for the staff to check against the prosecutor's decision."
    )

    class Meta:
        model = AccessProhibition
        fields = [
            "id",
            "patron",
            "library",
            "applied_on",
            "application_reference",
            "prosecutor_reference",
            "decided_on",
            "starts_on",
            "ends_on",
            "recorded_at",
            "recorded_by",
            "revoked_on",
            "revocation_reference",
            "court",
            "court_decided_on",
            "court_reference",
            "court_outcome",
            "decided_ends_on",
            "warnings",
        ]
        read_only_fields = [
            "id",
            "patron",
            "recorded_at",
            "recorded_by",
            "revoked_on",
            "revocation_reference",
            "court",
            "court_decided_on",
            "court_reference",
            "court_outcome",
            "decided_ends_on",
        ]
        # Blank or missing references are left to the service, whose 400 names the rule.
        extra_kwargs = {
            "application_reference": {"allow_blank": True, "default": ""},
            "prosecutor_reference": {"allow_blank": True, "default": ""},
        }

    @extend_schema_field(ProhibitionWarningSerializer(many=True))
    def get_warnings(self, prohibition: AccessProhibition) -> list[dict]:
        warnings = getattr(prohibition, "warnings", [])
        return [{"code": warning.code, "detail": warning.detail} for warning in warnings]


class AccessProhibitionRevokeSerializer(serializers.Serializer):
    revoked_on = api_fields.DateField(help_text="The day of the prosecutor's revocation: no longer in force from it")
    reference = serializers.CharField(
        allow_blank=True, default="", max_length=column_length(AccessProhibition, "revocation_reference")
    )


class AccessProhibitionCourtSerializer(serializers.Serializer):
    court = serializers.CharField(allow_blank=True, default="", max_length=column_length(AccessProhibition, "court"))
    decided_on = api_fields.DateField()
    reference = serializers.CharField(
        allow_blank=True,
        default="",
        max_length=column_length(AccessProhibition, "court_reference"),
        help_text="The court's case number",
    )
    outcome = serializers.CharField(help_text="upheld, revoked or changed")
    new_ends_on = api_fields.DateField(required=False, allow_null=True, help_text="Only when the outcome is changed")
