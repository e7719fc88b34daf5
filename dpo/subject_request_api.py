"""The data-subject request JSON API (the DPO only). A role that may not act is a 403 (staff.access); another
consortium's patron or request is a 404; a rule broken is a 400 naming the rule (core.api_errors)."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_fields import validated_body
from core.api_pages import page_body
from dpo import subject_request_serializers as shapes
from dpo.selectors import subject_request_get, subject_request_list
from dpo.services.subject_requests import (
    legal_claim_holds_lift,
    subject_request_complete,
    subject_request_deliver,
    subject_request_extend,
    subject_request_fee_decide,
    subject_request_keeping_record,
    subject_request_record,
    subject_request_refuse,
    subject_request_restrict,
    subject_request_restriction_lift,
)
from staff.access import subject_request_actor


def _answer(subject_request, status: int = 200) -> Response:
    return Response(shapes.SubjectRequestDetailSerializer(subject_request).data, status=status)


class SubjectRequestListApi(APIView):
    @extend_schema(
        operation_id="subject_requests_list",
        summary="Data-subject requests of the caller's consortium",
        description="Newest first, 25 per page.",
        parameters=[
            OpenApiParameter("open", bool, description="1: only requests not answered yet"),
            OpenApiParameter("page", int, description="Page number"),
        ],
        responses=shapes.SubjectRequestPageSerializer,
    )
    def get(self, request: Request) -> Response:
        actor = subject_request_actor(request)
        page = subject_request_list(
            actor=actor,
            open_only=request.query_params.get("open") in ("1", "true"),
            page_number=request.query_params.get("page", 1),
        )
        return Response(page_body(request, page, shapes.SubjectRequestSerializer))

    @extend_schema(
        operation_id="subject_requests_record",
        summary="Record a data-subject request as received",
        description="Kinds: access, rectification, erasure, restriction, objection. The identity check (ID card, "
        "passport or driving licence) is recorded as done by the caller today unless given. Answers the request "
        "with `id` and `due_on`: one month after receipt (EU Regulation 1182/71), moved past weekends and public "
        "holidays of the consortium's country.",
        request=shapes.SubjectRequestRecordSerializer,
        responses={
            201: shapes.SubjectRequestDetailSerializer,
            404: OpenApiResponse(description="No such patron in the caller's consortium."),
        },
    )
    def post(self, request: Request) -> Response:
        actor = subject_request_actor(request)
        data = validated_body(shapes.SubjectRequestRecordSerializer, request)
        subject_request = subject_request_record(actor=actor, patron_id=data.pop("patron"), **data)
        return _answer(subject_request, status=201)


class SubjectRequestDetailApi(APIView):
    @extend_schema(
        operation_id="subject_requests_retrieve",
        summary="One data-subject request",
        responses=shapes.SubjectRequestDetailSerializer,
    )
    def get(self, request: Request, request_id: int) -> Response:
        return _answer(subject_request_get(actor=subject_request_actor(request), request_id=request_id))


class SubjectRequestExtensionApi(APIView):
    @extend_schema(
        operation_id="subject_requests_extend",
        summary="Extend the time to answer by one or two months",
        description="Once, with the reasons, and the date the patron was told: within the first month (GDPR Art. "
        "12(3)). Answers `extended_due_on`, counted from receipt.",
        request=shapes.SubjectRequestExtensionSerializer,
        responses=shapes.SubjectRequestDetailSerializer,
    )
    def post(self, request: Request, request_id: int) -> Response:
        actor = subject_request_actor(request)
        data = validated_body(shapes.SubjectRequestExtensionSerializer, request)
        return _answer(subject_request_extend(actor=actor, request_id=request_id, **data))


class SubjectRequestFeeDecisionApi(APIView):
    @extend_schema(
        operation_id="subject_requests_fee_decide",
        summary="Record a finding that lets an access request cost a fee or be refused",
        description="Every copy is free unless one is recorded (GDPR Art. 15(3), 12(5)): unfounded_fee or refused "
        "(the request is manifestly unfounded or excessive), further_copy (a reasonable fee; needs an earlier report "
        "of the patron). The reasoning is required. A refusal answers the request. Nothing waits for a finding: the "
        "report can be delivered without one. Rules (400): fee_reason_required, not_a_further_copy, "
        "fee_already_decided, fee_rule_repealed (the old `charged`).",
        request=shapes.SubjectRequestFeeDecisionSerializer,
        responses=shapes.SubjectRequestDetailSerializer,
    )
    def post(self, request: Request, request_id: int) -> Response:
        actor = subject_request_actor(request)
        data = validated_body(shapes.SubjectRequestFeeDecisionSerializer, request)
        return _answer(subject_request_fee_decide(actor=actor, request_id=request_id, **data))


class SubjectRequestDeliveryApi(APIView):
    @extend_schema(
        operation_id="subject_requests_deliver",
        summary="Record the delivery of the access report",
        description="Electronically or on paper, picked up. Answers the request; the request form copy is recorded "
        "as destroyed on the same day.",
        request=shapes.SubjectRequestDeliverySerializer,
        responses=shapes.SubjectRequestDetailSerializer,
    )
    def post(self, request: Request, request_id: int) -> Response:
        actor = subject_request_actor(request)
        data = validated_body(shapes.SubjectRequestDeliverySerializer, request)
        return _answer(subject_request_deliver(actor=actor, request_id=request_id, **data))


class SubjectRequestRefusalApi(APIView):
    @extend_schema(
        operation_id="subject_requests_refuse",
        summary="Refuse a request, with its ground and reasons",
        description="An erasure only on an Art. 17(3) exception (art17_3_a-e); other requests as manifestly "
        "unfounded or excessive (art12_5).",
        request=shapes.SubjectRequestRefusalSerializer,
        responses=shapes.SubjectRequestDetailSerializer,
    )
    def post(self, request: Request, request_id: int) -> Response:
        actor = subject_request_actor(request)
        data = validated_body(shapes.SubjectRequestRefusalSerializer, request)
        return _answer(subject_request_refuse(actor=actor, request_id=request_id, **data))


class SubjectRequestCompletionApi(APIView):
    @extend_schema(
        operation_id="subject_requests_complete",
        summary="Record that a request was carried out",
        description="Rectification, restriction and objection; an erasure once it has been carried out.",
        request=shapes.SubjectRequestCompletionSerializer,
        responses=shapes.SubjectRequestDetailSerializer,
    )
    def post(self, request: Request, request_id: int) -> Response:
        actor = subject_request_actor(request)
        data = validated_body(shapes.SubjectRequestCompletionSerializer, request)
        return _answer(subject_request_complete(actor=actor, request_id=request_id, **data))


class SubjectRequestRestrictionApi(APIView):
    @extend_schema(
        operation_id="subject_requests_restrict",
        summary="Restrict the patron's processing on the request (GDPR Art. 18)",
        description="On a restriction request (any ground of Art. 18(1); answers the request), a rectification "
        "(art18_1_a) or an objection (art18_1_d), open. While in force every write, billing and Koha sync of the "
        "patron is refused or skipped. Rules (400): ground_not_for_request, already_restricted, request_closed.",
        request=shapes.SubjectRequestRestrictionSerializer,
        responses=shapes.SubjectRequestDetailSerializer,
    )
    def post(self, request: Request, request_id: int) -> Response:
        actor = subject_request_actor(request)
        data = validated_body(shapes.SubjectRequestRestrictionSerializer, request)
        return _answer(subject_request_restrict(actor=actor, request_id=request_id, **data))


class SubjectRequestRestrictionLiftApi(APIView):
    @extend_schema(
        operation_id="subject_requests_restriction_lift",
        summary="Lift the restriction of processing the request put in force",
        description="With the day the patron was told (GDPR Art. 18(3)), not in the future and not before the "
        "restriction. Rules (400): not_restricted_by_request, informed_in_future, informed_before_restriction.",
        request=shapes.SubjectRequestRestrictionLiftSerializer,
        responses=shapes.SubjectRequestDetailSerializer,
    )
    def post(self, request: Request, request_id: int) -> Response:
        actor = subject_request_actor(request)
        data = validated_body(shapes.SubjectRequestRestrictionLiftSerializer, request)
        return _answer(subject_request_restriction_lift(actor=actor, request_id=request_id, **data))


class SubjectRequestClaimHoldLiftApi(APIView):
    @extend_schema(
        operation_id="subject_requests_claim_hold_lift",
        summary="The claim behind an erasure's legal hold is settled: erase what was kept for it now",
        description="GDPR Art. 17(3)(e): the identity code (and the reduced record, unless a kept ban decision still "
        "needs it) was kept only to collect the claim. Lifts the request's holds of the legal-claims ground now "
        "instead of at their end. Rules (400): no_claim_hold.",
        request=shapes.SubjectRequestClaimHoldLiftSerializer,
        responses=shapes.SubjectRequestDetailSerializer,
    )
    def post(self, request: Request, request_id: int) -> Response:
        actor = subject_request_actor(request)
        data = validated_body(shapes.SubjectRequestClaimHoldLiftSerializer, request)
        return _answer(legal_claim_holds_lift(actor=actor, request_id=request_id, **data))


class SubjectRequestKeepingApi(APIView):
    @extend_schema(
        operation_id="subject_requests_keeping_record",
        summary="Record why another system still holds an erased patron's data",
        description="After an erasure whose request lists `held_elsewhere` (the library system refused or could "
        "not be reached): the ground (legal_claims, loans, guarantor, protected, removed_by_hand, other) and "
        "details (required for other). Answers the request. Rules (400): not_erased, nothing_held_elsewhere, "
        "keeping_details_required, request_closed.",
        request=shapes.SubjectRequestKeepingSerializer,
        responses=shapes.SubjectRequestDetailSerializer,
    )
    def post(self, request: Request, request_id: int) -> Response:
        actor = subject_request_actor(request)
        data = validated_body(shapes.SubjectRequestKeepingSerializer, request)
        return _answer(subject_request_keeping_record(actor=actor, request_id=request_id, **data))
