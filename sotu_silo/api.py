"""The identity-code API: write-only store for desk staff and billing; reveal, lookup and conflicts for billing."""

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import Action
from sotu_silo import serializers
from sotu_silo.access import billing_actor, identity_code_writer_actor
from sotu_silo.conflicts import ConflictUnreadable, identity_code_conflict_list, identity_code_conflict_resolve
from sotu_silo.services import (
    IdentityCodeStoreRateLimited,
    identity_code_lookup,
    identity_code_reveal,
    identity_code_store,
)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(serializers.IdentityCodeErrorSerializer, description=description)


# never_cache sends Cache-Control: no-store on every answer, a revealed code included.
silo_view = [sensitive_post_parameters(), never_cache]


@method_decorator(silo_view, name="dispatch")
class IdentityCodeStoreApi(APIView):
    @extend_schema(
        operation_id="identity_code_store",
        summary="Store or replace a patron's identity code (write only)",
        description="Desk staff and billing. The response never contains the code, and is the same whether or "
        "not another patron of the consortium has the code (billing resolves such a conflict). An invalid code "
        "is a 400 saying what is wrong; every attempt is an access event without the code. At most "
        "IDENTITY_CODE_STORE_RATE_PER_HOUR stores per user in an hour: then 429 with Retry-After.",
        request=serializers.IdentityCodeStoreSerializer,
        responses={
            200: serializers.StoredSerializer,
            400: _error("The code is not valid (the `code` says what is wrong)."),
            403: _error("Not desk staff or billing."),
            404: _error("No such patron in your consortium."),
            429: _error("Too many codes stored in the last hour (`rate_limited`)."),
        },
    )
    @sensitive_variables("request_data")
    def put(self, request: Request, patron_id: int) -> Response:
        actor = identity_code_writer_actor(request, patron_id=patron_id)
        request_data = serializers.IdentityCodeStoreSerializer(data=request.data)
        request_data.is_valid(raise_exception=True)
        try:
            identity_code_store(actor=actor, patron_id=patron_id, code=request_data.validated_data["identity_code"])
        except IdentityCodeStoreRateLimited as limited:
            return Response(
                {"detail": limited.message, "code": limited.code},
                status=429,
                headers={"Retry-After": str(limited.retry_after)},
            )
        return Response({"stored": True})


@method_decorator(silo_view, name="dispatch")
class IdentityCodeRevealApi(APIView):
    @extend_schema(
        operation_id="identity_code_reveal",
        summary="Reveal a patron's identity code (billing, with a reason)",
        description="The reveal and its reason are logged before the code is returned. 400 without a reason, "
        "404 when no code is stored. Never cached.",
        request=serializers.RevealRequestSerializer,
        responses={
            200: serializers.RevealedSerializer,
            409: OpenApiResponse(description="The stored code fails its integrity check (`unreadable`)."),
        },
    )
    @sensitive_variables("code")
    def post(self, request: Request, patron_id: int) -> Response:
        actor = billing_actor(request, action=Action.IDENTITY_CODE_REVEAL, patron_id=patron_id)
        body = serializers.RevealRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        code = identity_code_reveal(actor=actor, patron_id=patron_id, reason=body.validated_data["reason"])
        return Response({"identity_code": code})


@method_decorator(silo_view, name="dispatch")
class IdentityCodeLookupApi(APIView):
    @extend_schema(
        operation_id="identity_code_lookup",
        summary="Find the patron with an identity code (billing, with a reason)",
        description="Exact match within the caller's consortium through the blind index; 404 when none.",
        request=serializers.LookupRequestSerializer,
        responses={
            200: serializers.LookupResultSerializer,
            404: OpenApiResponse(description="No patron of the caller's consortium has the code."),
        },
    )
    @sensitive_variables("body")
    def post(self, request: Request) -> Response:
        actor = billing_actor(request, action=Action.IDENTITY_CODE_LOOKUP)
        body = serializers.LookupRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        patron = identity_code_lookup(
            actor=actor, code=body.validated_data["identity_code"], reason=body.validated_data["reason"]
        )
        return Response({"patron": {"id": patron.pk}})


@method_decorator(never_cache, name="dispatch")
class IdentityCodeConflictListApi(APIView):
    @extend_schema(
        operation_id="identity_code_conflicts_list",
        summary="Identity code conflicts waiting for a resolution (billing)",
        description="Codes entered for one patron while another patron of the consortium has them, oldest "
        "first: both patrons (name, card number, date of birth), who entered the code and when; never the "
        "code. The listing is an access event with both patrons' ids.",
        responses={200: serializers.ConflictPageSerializer, 403: _error("Not billing.")},
    )
    def get(self, request: Request) -> Response:
        actor = billing_actor(request, action=Action.IDENTITY_CODE_CONFLICT)
        return Response(serializers.ConflictPageSerializer(identity_code_conflict_list(actor=actor)).data)


@method_decorator(never_cache, name="dispatch")
class IdentityCodeConflictResolveApi(APIView):
    @extend_schema(
        operation_id="identity_code_conflict_resolve",
        summary="Resolve an identity code conflict (billing, with a reason)",
        description="`move`: the code becomes the patron's it was entered for and the other patron loses it; "
        "`keep`: the entry is discarded. The entered code is wiped either way; the resolution is an access "
        "event with both patrons' ids and the reason.",
        request=serializers.ConflictResolveRequestSerializer,
        responses={
            200: serializers.ConflictResolvedSerializer,
            400: _error(
                "No reason (`reason_required`), an identity code in it (`identity_code_in_text`), or "
                "an unknown resolution (`resolution_unknown`)."
            ),
            403: _error("Not billing."),
            404: _error("No such conflict waiting in your consortium."),
            409: _error("The entered code failed its integrity check (`unreadable`)."),
        },
    )
    def post(self, request: Request, conflict_id: int) -> Response:
        actor = billing_actor(request, action=Action.IDENTITY_CODE_CONFLICT)
        body = serializers.ConflictResolveRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            conflict = identity_code_conflict_resolve(actor=actor, conflict_id=conflict_id, **body.validated_data)
        except ConflictUnreadable as error:
            return Response({"detail": str(error.message), "code": "unreadable"}, status=409)
        return Response({"id": conflict.pk, "resolution": conflict.resolution, "resolved_at": conflict.resolved_at})
