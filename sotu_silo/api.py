"""The identity-code API: write-only store for desk staff and billing; reveal and lookup for billing."""

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import Action
from patrons.access import billing_actor, identity_code_writer_actor
from sotu_silo import serializers
from sotu_silo.services import identity_code_lookup, identity_code_reveal, identity_code_store

# never_cache sends Cache-Control: no-store on every answer, a revealed code included.
silo_view = [sensitive_post_parameters(), never_cache]


@method_decorator(silo_view, name="dispatch")
class IdentityCodeStoreApi(APIView):
    @extend_schema(
        operation_id="identity_code_store",
        summary="Store or replace a patron's identity code (write only)",
        description="Desk staff and billing. The response never contains the code. An invalid code is a 400 "
        "saying what is wrong; every attempt is an access event without the code.",
        request=serializers.IdentityCodeStoreSerializer,
        responses=serializers.StoredSerializer,
    )
    @sensitive_variables("request_data")
    def put(self, request: Request, patron_id: int) -> Response:
        actor = identity_code_writer_actor(request, patron_id=patron_id)
        request_data = serializers.IdentityCodeStoreSerializer(data=request.data)
        request_data.is_valid(raise_exception=True)
        identity_code_store(actor=actor, patron_id=patron_id, code=request_data.validated_data["identity_code"])
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
