"""The breach register's JSON API (DPO only). A role that may not act is a 403 (staff.access.breach_actor);
another consortium's breach is a 404; a rule broken is a 400 naming the rule."""

from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_fields import validated_body
from dpo import breach_serializers as serializers
from dpo.breach_selectors import breach_affected_contacts, breach_get, breaches_of
from dpo.services.breaches import (
    art34_exemption_record,
    authority_notification_record,
    breach_close,
    breach_record,
    breach_update,
    people_notification_record,
)
from staff.access import breach_actor


def _breach_response(actor, breach_id: int, status: int = 200) -> Response:
    """The breach as stored now, read back with its notifications."""
    return Response(serializers.BreachSerializer(breach_get(actor=actor, breach_id=breach_id)).data, status=status)


class BreachListApi(APIView):
    @extend_schema(
        operation_id="breaches_list",
        summary="The breach register of the caller's consortium",
        description="Every breach, notified or not (Art. 33(5)), newest first.",
        responses=serializers.BreachSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        actor = breach_actor(request)
        return Response(serializers.BreachSerializer(breaches_of(actor=actor), many=True).data)

    @extend_schema(
        operation_id="breaches_record",
        summary="Record a personal-data breach",
        description="`aware_at` (when the controller became aware, not in the future) and the nature of the breach; "
        "the rest may follow later. Answers the breach with `id` and `authority_deadline`: exactly 72 hours after "
        "`aware_at`, not moved by weekends or holidays.",
        request=serializers.BreachRecordSerializer,
        responses={201: serializers.BreachSerializer},
    )
    def post(self, request: Request) -> Response:
        actor = breach_actor(request)
        breach = breach_record(actor=actor, **validated_body(serializers.BreachRecordSerializer, request))
        return _breach_response(actor, breach.pk, status=201)


class BreachDetailApi(APIView):
    @extend_schema(
        operation_id="breaches_retrieve",
        summary="One breach with its notifications, the time left and whether people must be told",
        responses=serializers.BreachSerializer,
    )
    def get(self, request: Request, breach_id: int) -> Response:
        return _breach_response(breach_actor(request), breach_id)

    @extend_schema(
        operation_id="breaches_update",
        summary="Add or correct the facts that became known later",
        description="Only the fields sent change. `aware_at` cannot change: the deadline was fixed from it.",
        request=serializers.BreachFactsSerializer,
        responses=serializers.BreachSerializer,
    )
    def patch(self, request: Request, breach_id: int) -> Response:
        actor = breach_actor(request)
        breach_update(actor=actor, breach_id=breach_id, **validated_body(serializers.BreachFactsSerializer, request))
        return _breach_response(actor, breach_id)


class BreachAuthorityNotificationApi(APIView):
    @extend_schema(
        operation_id="breaches_authority_notification",
        summary="Record a notification to the supervisory authority",
        description="The first is the initial notification; later ones are supplementary information or the "
        "final report (Art. 33(4)). An initial notification after the deadline needs `late_reason` (a 400 "
        '`{"rule": "late_reason_required"}` without it); one exactly at the deadline is on time.',
        request=serializers.AuthorityNotificationRecordSerializer,
        responses={201: serializers.AuthorityNotificationSerializer},
    )
    def post(self, request: Request, breach_id: int) -> Response:
        actor = breach_actor(request)
        notification = authority_notification_record(
            actor=actor,
            breach_id=breach_id,
            **validated_body(serializers.AuthorityNotificationRecordSerializer, request),
        )
        return Response(serializers.AuthorityNotificationSerializer(notification).data, status=201)


class BreachPeopleNotificationApi(APIView):
    @extend_schema(
        operation_id="breaches_people_notification",
        summary="Record the day the people concerned were told (Art. 34)",
        request=serializers.PeopleNotificationSerializer,
        responses=serializers.BreachSerializer,
    )
    def post(self, request: Request, breach_id: int) -> Response:
        actor = breach_actor(request)
        people_notification_record(
            actor=actor, breach_id=breach_id, **validated_body(serializers.PeopleNotificationSerializer, request)
        )
        return _breach_response(actor, breach_id)


class BreachArt34ExemptionApi(APIView):
    @extend_schema(
        operation_id="breaches_art34_exemption",
        summary="Record why the people concerned are not told (Art. 34(3))",
        description="The exemption and the facts that show it applies (`details`, required).",
        request=serializers.Art34ExemptionSerializer,
        responses=serializers.BreachSerializer,
    )
    def post(self, request: Request, breach_id: int) -> Response:
        actor = breach_actor(request)
        art34_exemption_record(
            actor=actor, breach_id=breach_id, **validated_body(serializers.Art34ExemptionSerializer, request)
        )
        return _breach_response(actor, breach_id)


class BreachCloseApi(APIView):
    @extend_schema(
        operation_id="breaches_close",
        summary="Close a handled breach",
        description="A breach with a risk only once the authority was notified; a high-risk one only once the "
        "people were told or an Art. 34(3) exemption is recorded.",
        request=serializers.BreachCloseSerializer,
        responses=serializers.BreachSerializer,
    )
    def post(self, request: Request, breach_id: int) -> Response:
        actor = breach_actor(request)
        breach_close(actor=actor, breach_id=breach_id, **validated_body(serializers.BreachCloseSerializer, request))
        return _breach_response(actor, breach_id)


# Names, addresses and phones: no browser or proxy may keep a copy.
@method_decorator(never_cache, name="dispatch")
class BreachAffectedContactsApi(APIView):
    @extend_schema(
        operation_id="breaches_affected_contacts",
        summary="Contact channels of the people concerned (logged)",
        description="Email, phone and postal address of each concerned patron; for a minor, the guardians' "
        "instead. Recorded in the access log of every patron listed.",
        responses=serializers.AffectedContactsSerializer,
    )
    def get(self, request: Request, breach_id: int) -> Response:
        contacts = breach_affected_contacts(actor=breach_actor(request), breach_id=breach_id)
        return Response(serializers.AffectedContactsSerializer(contacts).data)
