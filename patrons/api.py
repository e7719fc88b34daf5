"""The patron JSON API. Thin: each view asks `patrons.access` for the actor and a selector for the data."""

from django.core.paginator import Page
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from audit.selectors import access_event_list_for_patron
from audit.serializers import AccessEventSerializer
from patrons.access import access_log_actor, patron_data_actor
from patrons.selectors import patron_get_for_staff, patron_search
from patrons.serializers import PatronDetailSerializer, PatronListSerializer, PatronPageSerializer


def page_links(request: Request, page: Page) -> dict[str, str | None]:
    """DRF's `next`/`previous` URLs for a page the selector already read (and logged)."""
    url = request.build_absolute_uri()

    def link(number: int) -> str:
        return replace_query_param(url, "page", number) if number > 1 else remove_query_param(url, "page")

    return {
        "next": link(page.next_page_number()) if page.has_next() else None,
        "previous": link(page.previous_page_number()) if page.has_previous() else None,
    }


class PatronListApi(APIView):
    @extend_schema(
        operation_id="patrons_list",
        summary="Search patrons",
        description="Patrons of the caller's consortium whose first or last name starts with each word, "
        "or whose card number does. An empty search lists all. The listed patrons are logged.",
        parameters=[
            OpenApiParameter("search", str, description="Words to match"),
            OpenApiParameter("page", int, description="Page number, 25 per page"),
        ],
        responses=PatronPageSerializer,
    )
    def get(self, request: Request) -> Response:
        actor = patron_data_actor(request)
        page = patron_search(
            actor=actor, query=request.query_params.get("search", ""), page_number=request.query_params.get("page", 1)
        )
        return Response(
            {
                "count": page.paginator.count,
                **page_links(request, page),
                "results": PatronListSerializer(page.object_list, many=True).data,
            }
        )


class PatronDetailApi(APIView):
    @extend_schema(operation_id="patrons_retrieve", summary="One patron", responses=PatronDetailSerializer)
    def get(self, request: Request, patron_id: int) -> Response:
        patron = patron_get_for_staff(actor=patron_data_actor(request), patron_id=patron_id)
        return Response(PatronDetailSerializer(patron).data)


class PatronAccessEventsApi(APIView):
    @extend_schema(
        operation_id="patrons_access_events_list",
        summary="A patron's access log (DPO)",
        description="Who processed this patron's data and when, newest first. Reading it is logged too.",
        responses=AccessEventSerializer(many=True),
    )
    def get(self, request: Request, patron_id: int) -> Response:
        events = access_event_list_for_patron(actor=access_log_actor(request), patron_id=patron_id)
        return Response(AccessEventSerializer(events, many=True).data)
