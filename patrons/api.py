"""The patron JSON API. Thin: each view asks `staff.access` for the actor and a selector for the data."""

from typing import cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.serializers import AccessEventSerializer
from core.api_pages import page_body
from patrons import registration_api, serializers
from patrons.selectors import (
    SearchPaginator,
    access_event_list_for_patron,
    loan_history_confirmations_due,
    note_list_for_staff,
    note_open,
    patron_record_for_staff,
    patron_search,
    trusteeship_open,
)
from patrons.serializers import PatronDetailSerializer, PatronListSerializer, PatronPageSerializer
from patrons.services import (
    loan_history_choice_confirm,
    note_create,
    note_remove,
    note_update,
    patron_choices_update,
    trusteeship_end,
    trusteeship_record,
)
from staff.access import access_log_actor, patron_data_actor


class PatronListApi(APIView):
    @extend_schema(
        operation_id="patrons_list",
        summary="Search patrons",
        description="Patrons of the caller's consortium whose first or last name starts with each word, "
        "or whose card number does. An empty search lists all. The listed patrons are logged. The count stops at "
        "1,000: `count_exact` false means more than `count` match (and the pages stop there).",
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
                **page_body(request, page, PatronListSerializer),
                "count_exact": cast(SearchPaginator, page.paginator).count_exact,
            }
        )

    @registration_api.register_schema
    def post(self, request: Request) -> Response:
        return registration_api.patron_register_response(request)


class PatronSearchApi(APIView):
    """The search in a POST body: names stay out of URLs, and so out of access logs, proxies and histories."""

    @extend_schema(
        operation_id="patrons_search",
        summary="Search patrons (the search in the body)",
        description="The same search and answer as `GET /api/v1/patrons/?search=`, with the search in the body "
        "instead of the URL, where it would reach access logs, proxies and browser histories. `next` and "
        "`previous` are page numbers: POST the same search again with that `page`. The listed patrons are logged.",
        request=serializers.PatronSearchSerializer,
        responses=serializers.PatronSearchPageSerializer,
    )
    def post(self, request: Request) -> Response:
        actor = patron_data_actor(request)
        body = serializers.PatronSearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        page = patron_search(actor=actor, query=body.validated_data["search"], page_number=body.validated_data["page"])
        return Response(
            {
                "count": page.paginator.count,
                "count_exact": cast(SearchPaginator, page.paginator).count_exact,
                "next": page.next_page_number() if page.has_next() else None,
                "previous": page.previous_page_number() if page.has_previous() else None,
                "results": PatronListSerializer(page.object_list, many=True).data,
            }
        )


class PatronDetailApi(APIView):
    @extend_schema(operation_id="patrons_retrieve", summary="One patron", responses=PatronDetailSerializer)
    def get(self, request: Request, patron_id: int) -> Response:
        return _patron_response(request, patron_id)


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


class NoteListApi(APIView):
    @extend_schema(
        operation_id="patron_notes_list",
        summary="A patron's notes",
        description="Newest first. Behaviour, guardianship and accessibility notes are sensitive: listed with "
        "their category, `text` null; open one by its own URL (a logged read of its own).",
        responses=serializers.NoteSerializer(many=True),
    )
    def get(self, request: Request, patron_id: int) -> Response:
        notes = note_list_for_staff(actor=patron_data_actor(request), patron_id=patron_id)
        return Response(serializers.NoteSerializer(notes, many=True).data)

    @extend_schema(
        operation_id="patron_notes_create",
        summary="Write a note",
        request=serializers.NoteCreateSerializer,
        responses={201: serializers.OpenedNoteSerializer},
    )
    def post(self, request: Request, patron_id: int) -> Response:
        actor = patron_data_actor(request)
        body = serializers.NoteCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = note_create(actor=actor, patron_id=patron_id, **body.validated_data)
        return Response(serializers.OpenedNoteSerializer(note).data, status=201)


class NoteDetailApi(APIView):
    @extend_schema(
        operation_id="patron_notes_retrieve",
        summary="Open one note (with its earlier versions)",
        description="Opening a sensitive note is its own access event.",
        responses=serializers.OpenedNoteSerializer,
    )
    def get(self, request: Request, patron_id: int, note_id: int) -> Response:
        note = note_open(actor=patron_data_actor(request), patron_id=patron_id, note_id=note_id)
        return Response(serializers.OpenedNoteSerializer(note).data)

    @extend_schema(
        operation_id="patron_notes_update",
        summary="Edit a note's text (the old text is kept as a revision)",
        request=serializers.NoteUpdateSerializer,
        responses=serializers.OpenedNoteSerializer,
    )
    def patch(self, request: Request, patron_id: int, note_id: int) -> Response:
        actor = patron_data_actor(request)
        body = serializers.NoteUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = note_update(actor=actor, patron_id=patron_id, note_id=note_id, text=body.validated_data["text"])
        return Response(serializers.OpenedNoteSerializer(note).data)

    @extend_schema(
        operation_id="patron_notes_remove",
        summary="Remove a note, with a reason",
        description="The text and its earlier versions are erased; who removed it, when and why is kept.",
        request=serializers.NoteRemoveSerializer,
        responses={200: serializers.NoteSerializer},
    )
    def delete(self, request: Request, patron_id: int, note_id: int) -> Response:
        actor = patron_data_actor(request)
        body = serializers.NoteRemoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = note_remove(actor=actor, patron_id=patron_id, note_id=note_id, reason=body.validated_data["reason"])
        return Response(serializers.NoteSerializer(note).data)


def _patron_response(request: Request, patron_id: int) -> Response:
    """The patron as `GET /patrons/<id>/` shows it, which is also the answer to every write to a patron."""
    record = patron_record_for_staff(actor=patron_data_actor(request), patron_id=patron_id)
    return Response(PatronDetailSerializer(record.patron, context={"record": record}).data)


class PatronChoicesApi(APIView):
    @extend_schema(
        operation_id="patron_choices_update",
        summary="Record the patron's own choices",
        description="Loan history (Koha's privacy 0/1/2), newsletter (email only, consent date recorded), home "
        "service and interlibrary-loan registers. Fields left out stay as they are. Answers the patron.",
        request=serializers.PatronChoicesSerializer,
        responses=PatronDetailSerializer,
    )
    def patch(self, request: Request, patron_id: int) -> Response:
        actor = patron_data_actor(request)
        body = serializers.PatronChoicesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        patron_choices_update(actor=actor, patron_id=patron_id, **body.validated_data)
        return _patron_response(request, patron_id)


class LoanHistoryConfirmApi(APIView):
    @extend_schema(
        operation_id="patron_loan_history_confirm",
        summary="The patron confirms their loan-history choice (at 15 or 18)",
        description="Records today and the patron as the chooser of the loan-history choice recorded before their "
        "15th or 18th birthday. 400 `loan_history_nothing_to_confirm` when none awaits confirmation. Answers the "
        "patron.",
        request=serializers.LoanHistoryConfirmSerializer,
        responses=PatronDetailSerializer,
    )
    def post(self, request: Request, patron_id: int) -> Response:
        actor = patron_data_actor(request)
        body = serializers.LoanHistoryConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        loan_history_choice_confirm(actor=actor, patron_id=patron_id, **body.validated_data)
        return _patron_response(request, patron_id)


class LoanHistoryConfirmationsApi(APIView):
    @extend_schema(
        operation_id="patrons_loan_history_confirmations_list",
        summary="Confirm loan-history choice: patrons who turned 15 or 18 since their choice was recorded",
        description="The caller's consortium's patrons whose loan-history choice predates their latest 15th or 18th "
        "birthday, by name, 50 a page. The listed patrons are logged (one event).",
        parameters=[OpenApiParameter("page", int, description="Page number, 50 per page")],
        responses=serializers.LoanHistoryConfirmationPageSerializer,
    )
    def get(self, request: Request) -> Response:
        page = loan_history_confirmations_due(
            actor=patron_data_actor(request), page_number=request.query_params.get("page", 1)
        )
        return Response(page_body(request, page, serializers.LoanHistoryConfirmationSerializer))


class TrusteeshipApi(APIView):
    @extend_schema(
        operation_id="patron_adult_guardianship_retrieve",
        summary="Open the guardian's contact of an adult under guardianship (edunvalvonta)",
        description="Sensitive: opening it is its own access event. 404 when the patron has no such mark.",
        responses=serializers.TrusteeshipSerializer,
    )
    def get(self, request: Request, patron_id: int) -> Response:
        trusteeship = trusteeship_open(actor=patron_data_actor(request), patron_id=patron_id)
        return Response(serializers.TrusteeshipSerializer(trusteeship).data)

    @extend_schema(
        operation_id="patron_adult_guardianship_record",
        summary="Mark an adult patron as under guardianship, with the guardian's contact",
        description="A personal identity code in the guardian's name, phone number or email address is a 400 "
        "`identity_code_in_text` (a denied access event; nothing of it is echoed).",
        request=serializers.TrusteeshipSerializer,
        responses=serializers.TrusteeshipSerializer,
    )
    def put(self, request: Request, patron_id: int) -> Response:
        actor = patron_data_actor(request)
        body = serializers.TrusteeshipSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        trusteeship = trusteeship_record(actor=actor, patron_id=patron_id, **body.validated_data)
        return Response(serializers.TrusteeshipSerializer(trusteeship).data)

    @extend_schema(
        operation_id="patron_adult_guardianship_end", summary="The guardianship has ended", responses={204: None}
    )
    def delete(self, request: Request, patron_id: int) -> Response:
        trusteeship_end(actor=patron_data_actor(request), patron_id=patron_id)
        return Response(status=204)
