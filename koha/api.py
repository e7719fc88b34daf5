"""The machine API Koha's plugin calls, /api/v1/koha/: the service's own description (the plugin's test call and
version check), a patron's privacy status, and the views made in Koha.

Machine clients only: a staff session is not accepted here (a 401), and a key opens nothing else
(staff.machine_keys). Each view names the key permission it needs.
"""

from dataclasses import asdict

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_fields import validated_body
from koha import serializers
from koha.selectors import patron_privacy_status, plugin_version_supported
from koha.services import ReportedView, koha_views_record
from staff.machine_keys import MachineKeyAuthentication, MachineKeyPermission, machine_actor, machine_key_of

UNAUTHENTICATED = OpenApiResponse(
    description="No API key, or one that is not valid, revoked or expired (`not_authenticated`, `invalid_key`, "
    "`key_expired`); a staff session is not accepted here."
)


class MachineApi(APIView):
    authentication_classes = [MachineKeyAuthentication]
    permission_classes = [MachineKeyPermission]
    machine_permission: str | None = ""


PLUGIN_VERSION_HEADER = "X-Patron-Privacy-Plugin"


class ServiceApi(MachineApi):
    machine_permission = None  # any valid key

    @extend_schema(
        operation_id="koha_service",
        summary="This service, for the Koha plugin's test call and version check (machine clients)",
        description="Any valid key; no permission needed and no access event (it reads no patron). Says whether "
        f"the plugin version sent in `{PLUGIN_VERSION_HEADER}` is supported, the key's consortium and the key's "
        "permissions, so the plugin's configuration page can tell an administrator what works.",
        parameters=[
            OpenApiParameter(
                PLUGIN_VERSION_HEADER, str, OpenApiParameter.HEADER, description="The plugin's version, e.g. 1.0.0."
            )
        ],
        responses={200: serializers.ServiceSerializer, 401: UNAUTHENTICATED},
    )
    def get(self, request: Request) -> Response:
        key = machine_key_of(request)
        body = {
            "service": "patron-privacy",
            "api_version": 1,
            "plugin_min_version": settings.KOHA_PLUGIN_MIN_VERSION,
            "plugin_supported": plugin_version_supported(request.headers.get(PLUGIN_VERSION_HEADER)),
            "consortium": key.consortium.slug,
            "permissions": sorted(
                f"{app_label}.{codename}"
                for app_label, codename in key.permissions.values_list("content_type__app_label", "codename")
            ),
        }
        return Response(serializers.ServiceSerializer(body).data)


class PrivacyStatusApi(MachineApi):
    machine_permission = "koha.view_privacy_status"

    @extend_schema(
        operation_id="koha_privacy_status",
        summary="A patron's privacy status, by Koha patron id (machine clients)",
        description="Bans and access prohibitions in force (library, dates), the categories of sensitive marks "
        "present, whether notices go to guardians, whether the patron's processing is restricted (GDPR Art. 18), "
        "the loan-history value with whether it is the patron's recorded choice (when, by whom) and awaits their "
        "confirmation at 15 or 18, and whether an identity code is stored. Only the key's consortium's patrons "
        "staff may reach; another's, and a record an erasure kept under a legal hold, are not found. Each call is "
        "an access event naming the key. Needs the key permission `koha.view_privacy_status`.",
        responses={200: serializers.PrivacyStatusSerializer, 401: UNAUTHENTICATED},
    )
    def get(self, request: Request, koha_patron_id: int) -> Response:
        actor = machine_actor(request._request, machine_key_of(request))
        status = patron_privacy_status(actor=actor, koha_patron_id=koha_patron_id)
        body = asdict(status)
        return Response(serializers.PrivacyStatusSerializer(body).data)


class ReportedViewsApi(MachineApi):
    machine_permission = "koha.record_views"

    @extend_schema(
        operation_id="koha_views_record",
        summary="Report patron views made in Koha's staff interface (machine clients)",
        description="A batch of at most `KOHA_VIEWS_BATCH_MAX` (500) views, all recorded or none. Idempotent by "
        "`event_id` per consortium: a view sent again is `duplicate` and not logged twice. Each recorded view is "
        "the staff member's access event (matched by Koha user id; unknown ones are recorded as such), with the "
        "staff address checked against their municipality's allow-list (a would-be denial is recorded). A "
        "Koha patron id no patron has is `unknown_patron` and records nothing. Needs `koha.record_views`.",
        request=serializers.ReportedViewsSerializer,
        responses={200: serializers.ViewAnswersSerializer, 401: UNAUTHENTICATED},
    )
    def post(self, request: Request) -> Response:
        key = machine_key_of(request)
        body = validated_body(serializers.ReportedViewsSerializer, request)
        views = [ReportedView(**view) for view in body["views"]]
        answers = koha_views_record(actor=machine_actor(request._request, key), key=key, views=views)
        return Response(serializers.ViewAnswersSerializer({"views": [asdict(answer) for answer in answers]}).data)
