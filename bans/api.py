"""The ban procedure's JSON API. A role that may not act is a 403 (staff.access); a rule broken is a 400
naming the rule (core.errors.RuleBroken, answered by core.api_errors)."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bans import serializers
from bans.services import (
    access_prohibition_court_record,
    access_prohibition_record,
    access_prohibition_revoke,
    ban_appeal_record,
    ban_cancel,
    ban_court_appeal_record,
    ban_decide,
    ban_hearing_record,
    ban_notification_record,
    ban_propose,
    ban_receipt_record,
    ban_rectification_notification_record,
)
from bans.state import ban_state
from bans.views import ban_for_reader
from core.api_fields import validated_body
from staff.access import ban_decider_actor, ban_preparer_actor


def _ban_response(ban, status: int = 200) -> Response:
    ban.state = ban_state(ban)
    return Response(serializers.BanSerializer(ban).data, status=status)


class PatronBanApi(APIView):
    @extend_schema(
        operation_id="bans_propose",
        summary="Propose a library-use ban (Finland)",
        description="One patron, one library, at most 30 days (first and last day included), grounds under the "
        "Library Act s. 15 citing the patron's behaviour notes. Answers the ban with `id` and `status`.",
        request=serializers.BanProposeSerializer,
        responses={201: serializers.BanSerializer},
    )
    def post(self, request: Request, patron_id: int) -> Response:
        actor = ban_preparer_actor(request)
        ban = ban_propose(actor=actor, patron_id=patron_id, **validated_body(serializers.BanProposeSerializer, request))
        return _ban_response(ban, status=201)


class BanDetailApi(APIView):
    @extend_schema(
        operation_id="bans_retrieve",
        summary="One ban with its procedure",
        description="Staff see a ban while it is in procedure or in force; ban deciders and the DPO also "
        "ended ones (the decision archive).",
        responses=serializers.BanSerializer,
    )
    def get(self, request: Request, ban_id: int) -> Response:
        return _ban_response(ban_for_reader(request, ban_id))


class BanHearingApi(APIView):
    @extend_schema(
        operation_id="bans_hearing",
        summary="Record the hearing, or why it was waived",
        description='`{"heard_on", "method", "statement", "answer_by", "material_shown"}` (an empty statement: none '
        'came yet; record again when it comes), with `guardians` `[{"guardian", "heard_on", "method", "statement"}]` '
        'for a party under 18 on the hearing day (Administrative Procedure Act s. 14); or `{"waiver_ground", '
        '"waived_reason"}` (a ground of s. 34(2), free text only as an addition).',
        request=serializers.BanHearingSerializer,
        responses=serializers.BanSerializer,
    )
    def post(self, request: Request, ban_id: int) -> Response:
        actor = ban_preparer_actor(request)
        ban = ban_hearing_record(
            actor=actor, ban_id=ban_id, **validated_body(serializers.BanHearingSerializer, request)
        )
        return _ban_response(ban)


class BanDecisionApi(APIView):
    @extend_schema(
        operation_id="bans_decide",
        summary="Decide the ban (ban deciders only)",
        description="Not before the hearing is recorded or waived, each guardian of a minor heard, and the time to "
        "answer (`answer_by`) has run out unless every statement came. Enforced before it is final unless "
        "`enforced_before_final` is false. Enforced before it is final, it gives `starts_on`, `ends_on` and "
        "`enforcement_reasons` (Local Government Act s. 143); not enforced, it gives `length_days` (1-30) and the ban "
        "starts the day after it becomes final.",
        request=serializers.BanDecisionSerializer,
        responses=serializers.BanSerializer,
    )
    def post(self, request: Request, ban_id: int) -> Response:
        actor = ban_decider_actor(request)
        ban = ban_decide(actor=actor, ban_id=ban_id, **validated_body(serializers.BanDecisionSerializer, request))
        return _ban_response(ban)


class BanNotificationApi(APIView):
    @extend_schema(
        operation_id="bans_notify",
        summary="Record how and when the decision was sent",
        description="Answers `deemed_received_on` (letter: 7th day, electronic: 3rd day, in person: same day) and "
        "`appeal_deadline` (14 days later, moved to the next working day when it falls on a weekend or holiday). "
        'For a party under 18 on the sending day, `guardians` `[{"guardian", "method", "sent_on"}]` names the notice '
        "to every guardian, and the deadline runs from the last deemed receipt. The method `electronic` needs the "
        "recipient's consent: `electronic_consent_on` (on or before `sent_on`) and `electronic_consent_how` "
        "(at_hearing, in_writing, electronically), for the party and each guardian (Act 13/2003 s. 19).",
        request=serializers.BanNotificationSerializer,
        responses=serializers.BanSerializer,
    )
    def post(self, request: Request, ban_id: int) -> Response:
        actor = ban_preparer_actor(request)
        ban = ban_notification_record(
            actor=actor, ban_id=ban_id, **validated_body(serializers.BanNotificationSerializer, request)
        )
        return _ban_response(ban)


class BanReceiptApi(APIView):
    @extend_schema(
        operation_id="bans_receipt",
        summary="Record a proven later receipt of the decision",
        description="For the party, or a notified guardian (`guardian`: patron id): `received_on`, later than the "
        "deemed receipt (an earlier date is refused, the same changes nothing), and `evidence` (acknowledgement, "
        "delivery_record, party_account, other with a `note`). Moves `appeal_deadline`, which runs from the last "
        "receipt. Allowed until a rectification request has been decided.",
        request=serializers.BanReceiptSerializer,
        responses=serializers.BanSerializer,
    )
    def post(self, request: Request, ban_id: int) -> Response:
        actor = ban_preparer_actor(request)
        ban = ban_receipt_record(
            actor=actor, ban_id=ban_id, **validated_body(serializers.BanReceiptSerializer, request)
        )
        return _ban_response(ban)


class BanAppealApi(APIView):
    @extend_schema(
        operation_id="bans_appeal",
        summary="Record a rectification request and its outcome (ban deciders only)",
        description="Outcomes: pending, upheld, overturned (the ban ends at once), dismissed. A decided outcome is "
        "the municipality's body's decision: `body` (default: the rectification body the decision named), "
        "`decided_on` and `reference`, recorded by someone other than the ban's decider "
        "(`rectification_by_decider`).",
        request=serializers.BanAppealSerializer,
        responses=serializers.BanSerializer,
    )
    def post(self, request: Request, ban_id: int) -> Response:
        actor = ban_decider_actor(request)
        ban = ban_appeal_record(actor=actor, ban_id=ban_id, **validated_body(serializers.BanAppealSerializer, request))
        return _ban_response(ban)


class BanRectificationNoticeApi(APIView):
    @extend_schema(
        operation_id="bans_rectification_notice",
        summary="Record how and when the rectification decision was sent",
        description="After a rectification decision that left the ban standing (upheld or dismissed). Answers "
        "`rectification_deemed_received_on` (letter: 7th day, electronic: 3rd, in person: same day) and "
        "`court_appeal_deadline` (30 days later, moved off weekends and holidays).",
        request=serializers.BanRectificationNoticeSerializer,
        responses=serializers.BanSerializer,
    )
    def post(self, request: Request, ban_id: int) -> Response:
        actor = ban_preparer_actor(request)
        ban = ban_rectification_notification_record(
            actor=actor, ban_id=ban_id, **validated_body(serializers.BanRectificationNoticeSerializer, request)
        )
        return _ban_response(ban)


class BanCourtAppealApi(APIView):
    @extend_schema(
        operation_id="bans_court_appeal",
        summary="Record an appeal to the administrative court and its outcome (ban deciders only)",
        description="`lodged_on`, `court`, `outcome` (pending, upheld, overturned: the ban ends at once, "
        "dismissed) and `decided_on`. One lodged after `court_appeal_deadline` can only be dismissed.",
        request=serializers.BanCourtAppealSerializer,
        responses=serializers.BanSerializer,
    )
    def post(self, request: Request, ban_id: int) -> Response:
        actor = ban_decider_actor(request)
        ban = ban_court_appeal_record(
            actor=actor, ban_id=ban_id, **validated_body(serializers.BanCourtAppealSerializer, request)
        )
        return _ban_response(ban)


class BanCancelApi(APIView):
    @extend_schema(
        operation_id="bans_cancel",
        summary="Cancel a ban, with a reason (ban deciders only)",
        request=serializers.BanCancelSerializer,
        responses=serializers.BanSerializer,
    )
    def post(self, request: Request, ban_id: int) -> Response:
        actor = ban_decider_actor(request)
        ban = ban_cancel(
            actor=actor, ban_id=ban_id, reason=validated_body(serializers.BanCancelSerializer, request)["reason"]
        )
        return _ban_response(ban)


class PatronAccessProhibitionApi(APIView):
    @extend_schema(
        operation_id="access_prohibitions_record",
        summary="Record a prosecutor's access prohibition (Sweden)",
        description="The library's own application (date, reference), the prosecutor's reference and dates, as the "
        "prosecutor decided them. A period of a year or more is recorded and answered with `warnings`; refused: a "
        "start before the decision day, an end before the start, an overlap with another prohibition of the patron "
        "at the same library, a person under 15.",
        request=serializers.AccessProhibitionSerializer,
        responses={201: serializers.AccessProhibitionSerializer},
    )
    def post(self, request: Request, patron_id: int) -> Response:
        actor = ban_preparer_actor(request)
        data = validated_body(serializers.AccessProhibitionSerializer, request)
        data["library"] = data.pop("library")["koha_library_id"]
        prohibition = access_prohibition_record(actor=actor, patron_id=patron_id, **data)
        return Response(serializers.AccessProhibitionSerializer(prohibition).data, status=201)


class AccessProhibitionRevocationApi(APIView):
    @extend_schema(
        operation_id="access_prohibitions_revoke",
        summary="Record the prosecutor's revocation of an access prohibition (Sweden)",
        description="From `revoked_on` the prohibition is no longer in force (nor in Koha); the record stays. Refused: "
        "a date in the future, before the prohibition was decided or after its last day, a second revocation.",
        request=serializers.AccessProhibitionRevokeSerializer,
        responses=serializers.AccessProhibitionSerializer,
    )
    def post(self, request: Request, prohibition_id: int) -> Response:
        actor = ban_preparer_actor(request)
        data = validated_body(serializers.AccessProhibitionRevokeSerializer, request)
        prohibition = access_prohibition_revoke(actor=actor, prohibition_id=prohibition_id, **data)
        return Response(serializers.AccessProhibitionSerializer(prohibition).data)


class AccessProhibitionCourtApi(APIView):
    @extend_schema(
        operation_id="access_prohibitions_court",
        summary="Record the district court's outcome on a review of an access prohibition (Sweden)",
        description="Outcomes: upheld; revoked (no longer in force from the court's decision day); changed, with "
        "`new_ends_on` (a year or more is recorded and answered with `warnings`). One outcome per prohibition.",
        request=serializers.AccessProhibitionCourtSerializer,
        responses=serializers.AccessProhibitionSerializer,
    )
    def post(self, request: Request, prohibition_id: int) -> Response:
        actor = ban_preparer_actor(request)
        data = validated_body(serializers.AccessProhibitionCourtSerializer, request)
        prohibition = access_prohibition_court_record(actor=actor, prohibition_id=prohibition_id, **data)
        return Response(serializers.AccessProhibitionSerializer(prohibition).data)
