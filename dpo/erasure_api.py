"""The erasure API: a dry run that lists exactly what would go, or the erasure itself (DPO only).

A role that may not act is a 403 (staff.access); a broken rule is a 400 naming it (RuleBroken, answered
by core.api_errors); another consortium's request is a 404.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dpo.services.erasure import ErasureResult, subject_request_erase
from staff.access import subject_request_actor


class ErasureRequestSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(help_text="true: list what would go and change nothing; false: erase.")
    confirm = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="Required to erase (dry_run false): the patron's card number, as a typed confirmation of the "
        "irreversible step; anything else is a 400 confirmation_mismatch. Ignored in a dry run.",
    )


class DecisionLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField(help_text="What it is today: e.g. active, proposed, ended.")
    archived = serializers.BooleanField()
    retain_until = serializers.DateField(allow_null=True, help_text="Kept in the decision archive until.")


class PlanWarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    ids = serializers.ListField(child=serializers.IntegerField())


class LegalHoldSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="What is kept, under the name of its line in `keeps`.")
    what = serializers.CharField(source="label", help_text="What is kept, in the DPO's words.")
    ground = serializers.CharField(help_text="art17_3_b (archive, legal obligation) or art17_3_e (legal claims)")
    reason = serializers.CharField(help_text="decision_archive, open_claim or kept_data_needs_record")
    reason_text = serializers.CharField()
    until = serializers.DateField(help_text="Kept to this day inclusive; the retention run erases it the day after.")
    ids = serializers.ListField(child=serializers.IntegerField())


class ErasurePlanSerializer(serializers.Serializer):
    removes = serializers.DictField(child=serializers.IntegerField(), help_text="Counts of what would go.")
    keeps = serializers.DictField(child=serializers.IntegerField(), help_text="Counts of what stays.")
    note_ids = serializers.ListField(child=serializers.IntegerField())
    sensitive_note_ids = serializers.ListField(child=serializers.IntegerField())
    guardian_ids = serializers.ListField(child=serializers.IntegerField(), help_text="Guardians: the links go.")
    ward_ids = serializers.ListField(child=serializers.IntegerField(), help_text="Wards: the links go.")
    register_membership_ids = serializers.ListField(child=serializers.IntegerField())
    bans = DecisionLineSerializer(many=True)
    access_prohibitions = DecisionLineSerializer(many=True)
    subject_request_ids = serializers.ListField(child=serializers.IntegerField(), help_text="Kept.")
    warnings = PlanWarningSerializer(many=True)
    holds = LegalHoldSerializer(
        many=True,
        help_text="Legal holds (GDPR Art. 17(3)(b), (e)): what the erasure keeps, why and until when.",
    )


class ErasureResultSerializer(serializers.Serializer):
    request_id = serializers.IntegerField()
    patron_id = serializers.IntegerField()
    dry_run = serializers.BooleanField()
    plan = ErasurePlanSerializer(source="plan.shown")
    removed = serializers.DictField(
        child=serializers.IntegerField(), help_text="Counts of what was removed; empty in a dry run."
    )
    erased_at = serializers.DateTimeField(allow_null=True)
    held_elsewhere = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="The systems that still hold the patron after the erasure, as {key, reason} codes; the request "
        "stays open until the DPO records the ground (kept-elsewhere/).",
    )


class SubjectRequestEraseApi(APIView):
    @extend_schema(
        operation_id="subject_requests_erase",
        summary="Erase the patron of an erasure request, or list what would go (dry run)",
        description='`{"dry_run": true}` lists exactly what the erasure removes and keeps, as counts and opaque '
        "ids, with warnings (a child left without a guardian) and the legal holds: what is kept, why and until "
        "when (a ban decision in its archive period with the reduced patron record it names, Art. 17(3)(b); the "
        "identity code of a patron who owes money by Koha, Art. 17(3)(e)), and changes nothing. "
        '`{"dry_run": false, "confirm": "<card number>"}` erases the patron, everything '
        "on their record and their identity code, leaves a tombstone without personal data and marks the request "
        "answered. Both are logged, with the patron's id only: the dry run as `erasure_plan`, the erasure as "
        "`patron_erase`. Rules (400): not_an_erasure_request, request_refused, already_erased, patron_not_found, "
        "confirmation_mismatch.",
        request=ErasureRequestSerializer,
        responses=ErasureResultSerializer,
    )
    def post(self, request: Request, request_id: int) -> Response:
        actor = subject_request_actor(request)
        body = ErasureRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result: ErasureResult = subject_request_erase(
            actor=actor,
            request_id=request_id,
            dry_run=body.validated_data["dry_run"],
            confirm=body.validated_data.get("confirm", ""),
        )
        return Response(ErasureResultSerializer(result).data)
