"""The shapes of the data-subject request API: a request as answered, and the body of each step."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core import api_fields
from core.api_pages import page_serializer
from core.dates import today
from dpo.models import (
    AuthorityCheck,
    ClaimSettled,
    DeliveryMethod,
    IdentityDocument,
    KeepingGround,
    LegalHold,
    RefusalGround,
    RequesterRole,
    RequestKind,
    SubjectRequest,
)
from dpo.selectors import RequestState, days_left, earlier_report, processing_restriction_of, subject_request_state
from dpo.services.subject_requests import FEE_FINDINGS
from patrons.models import ProcessingRestriction, RestrictionGround


class SubjectRequestSerializer(api_fields.ModelSerializer):
    """A request and its handling. `deadline` is the due date in force (extended or not); `state` is computed
    from the dates (open, extended, overdue, answered, refused); `days_left` is null once answered.
    `answered_by` is the user who answered, `answered_as` contact_person or dpo: an access request is answered
    only by the register's contact person or the DPO (rule not_the_contact_person)."""

    patron = serializers.IntegerField(source="patron_id", read_only=True)
    report_language = serializers.CharField(read_only=True, help_text="fi, sv or en; empty until the report is made")
    deadline = serializers.DateField(read_only=True)
    state = serializers.SerializerMethodField()
    days_left = serializers.SerializerMethodField()
    repeat_of = serializers.IntegerField(
        source="previous_report_id",
        read_only=True,
        allow_null=True,
        help_text="The patron's earlier access request whose report was made, recorded when this report is made. "
        "The copy is still free unless `fee_decision` records a finding (GDPR Art. 12(5), 15(3)).",
    )

    class Meta:
        model = SubjectRequest
        fields = [
            "id",
            "patron",
            "kind",
            "received_on",
            "requester_role",
            "requester_name",
            "requester_authority_check",
            "requester_authority_note",
            "identity_document",
            "identity_verified_by",
            "identity_verified_on",
            "due_on",
            "extended_due_on",
            "extension_reason",
            "extension_notified_on",
            "deadline",
            "state",
            "days_left",
            "recorded_at",
            "recorded_by",
            "report_made_at",
            "report_language",
            "repeat_of",
            "fee_decision",
            "fee_reason",
            "delivery_method",
            "delivered_on",
            "request_form_destroyed_on",
            "completed_on",
            "answered_by",
            "answered_as",
            "refusal_ground",
            "refusal_details",
            "erased_at",
            "report_incomplete",
            "held_elsewhere",
            "keeping_ground",
            "keeping_details",
        ]
        read_only_fields = fields

    def get_state(self, subject_request: SubjectRequest) -> RequestState:
        return subject_request_state(subject_request)

    def get_days_left(self, subject_request: SubjectRequest) -> int | None:
        return days_left(subject_request)


class LegalHoldRowSerializer(api_fields.ModelSerializer):
    class Meta:
        model = LegalHold
        fields = ["key", "ids", "ground", "reason", "held_until", "lifted_on"]
        read_only_fields = fields


class ProcessingRestrictionSerializer(api_fields.ModelSerializer):
    """A restriction of processing (GDPR Art. 18) the request put in force; `lifted_at` null while in force."""

    class Meta:
        model = ProcessingRestriction
        fields = ["ground", "restricted_at", "restricted_by", "patron_informed_on", "lifted_at", "lifted_by"]
        read_only_fields = fields


class SubjectRequestDetailSerializer(SubjectRequestSerializer):
    """One request, with the earlier report that makes it a repeat, looked up now (not in the list: a query a row)."""

    earlier_report_id = serializers.SerializerMethodField(
        help_text=(
            "The patron's latest access request received before this one whose report was made (refused requests "
            "do not count), however long ago; shown before this report is made. A repeat is free too unless the "
            "DPO records a finding (fee_decision)."
        )
    )

    legal_holds = LegalHoldRowSerializer(
        many=True,
        read_only=True,
        help_text="What the erasure kept under legal holds (GDPR Art. 17(3)(b), (e)), until when, and when each "
        "lifted itself (the retention run erases what it kept the day after `held_until`).",
    )

    processing_restriction = serializers.SerializerMethodField(
        help_text="The restriction of processing (GDPR Art. 18) this request put in force, in force or lifted; "
        "null when it restricted nothing."
    )

    class Meta(SubjectRequestSerializer.Meta):
        fields = [*SubjectRequestSerializer.Meta.fields, "earlier_report_id", "legal_holds", "processing_restriction"]
        read_only_fields = fields

    def get_earlier_report_id(self, subject_request: SubjectRequest) -> int | None:
        earlier = earlier_report(subject_request)
        return earlier.pk if earlier else None

    @extend_schema_field(ProcessingRestrictionSerializer(allow_null=True))
    def get_processing_restriction(self, subject_request: SubjectRequest) -> dict | None:
        restriction = processing_restriction_of(subject_request)
        return dict(ProcessingRestrictionSerializer(restriction).data) if restriction else None


SubjectRequestPageSerializer = page_serializer("SubjectRequestPageSerializer", SubjectRequestSerializer)


class SubjectRequestRecordSerializer(serializers.Serializer):
    patron = api_fields.IdField(help_text="The patron's id")
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    received_on = api_fields.DateField()
    requester_role = serializers.ChoiceField(
        choices=RequesterRole.choices,
        default=RequesterRole.PATRON,
        help_text="Who asked: the patron (default) or a representative. A guardian only for a patron under 18 on "
        "the day the request came (rule guardian_of_adult); then as authorised_representative.",
    )
    requester_name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, help_text="The representative's name"
    )
    requester_authority_check = serializers.ChoiceField(
        choices=AuthorityCheck.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="How the representative's authority was checked; required for a representative",
    )
    requester_authority_note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required for role or check `other`"
    )
    identity_document = serializers.ChoiceField(
        choices=IdentityDocument.choices, help_text="How the identity of whoever asked was checked"
    )
    identity_verified_by = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=150, help_text="Default: the caller"
    )
    identity_verified_on = api_fields.DateField(
        required=False, allow_null=True, default=None, help_text="Default: today"
    )


class SubjectRequestExtensionSerializer(serializers.Serializer):
    months = api_fields.CountField(help_text="1 or 2 more months")
    reason = serializers.CharField(allow_blank=True, default="")
    notified_on = api_fields.DateField(help_text="When the patron was told, within the first month")


class SubjectRequestFeeDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=FEE_FINDINGS)
    reason = serializers.CharField(allow_blank=True, default="", help_text="The reasoning of the finding; required")


class SubjectRequestDeliverySerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=DeliveryMethod.choices)
    delivered_on = api_fields.DateField()


class SubjectRequestRefusalSerializer(serializers.Serializer):
    ground = serializers.ChoiceField(choices=RefusalGround.choices)
    details = serializers.CharField(allow_blank=True, default="")


class SubjectRequestRestrictionSerializer(serializers.Serializer):
    ground = serializers.ChoiceField(
        choices=RestrictionGround.choices,
        help_text="GDPR Art. 18(1): art18_1_a (accuracy contested; also on a rectification request), art18_1_b "
        "(unlawful, erasure opposed), art18_1_c (needed for the patron's legal claims), art18_1_d (objection "
        "pending; also on an objection request)",
    )


class SubjectRequestRestrictionLiftSerializer(serializers.Serializer):
    informed_on = api_fields.DateField(help_text="The day the patron was told, before the lifting (GDPR Art. 18(3))")


class SubjectRequestClaimHoldLiftSerializer(serializers.Serializer):
    settled = serializers.ChoiceField(
        choices=ClaimSettled.choices, help_text="How the claim behind the hold ended: paid or written_off"
    )


class SubjectRequestCompletionSerializer(serializers.Serializer):
    completed_on = api_fields.DateField(required=False, default=today, help_text="Default: today")


class SubjectRequestKeepingSerializer(serializers.Serializer):
    ground = serializers.ChoiceField(choices=KeepingGround.choices)
    details = serializers.CharField(required=False, allow_blank=True, default="")
