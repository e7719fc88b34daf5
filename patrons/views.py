"""Staff pages: patron search, the patron's page, notes, choices (loan-history confirmations too), adult guardianship.

Thin: the actor comes from staff.access, data from patrons.selectors, writes go through
patrons.services; a broken rule is shown next to the form (status 400) and nothing is written.
"""

import functools
from collections.abc import Callable
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.actor import Actor
from core.dates import today
from patrons import forms
from patrons.page import patron_page_context
from patrons.selectors import (
    SearchBoxResult,
    loan_history_confirmations_due,
    note_open,
    patron_record_for_staff,
    patron_search_box,
    search_box_screen,
    trusteeship_open,
)
from patrons.services import (
    loan_history_choice_confirm,
    note_create,
    note_remove,
    note_update,
    patron_choices_update,
    trusteeship_record,
)
from staff.access import patron_data_actor


def run_service(form, service: Callable[..., Any], **arguments) -> Any | None:
    """Call `service`; a broken rule becomes the form's error. None when it failed."""
    try:
        return service(**arguments)
    except ValidationError as error:
        form.add_error(None, error)
        return None


def render_patron_page(request: HttpRequest, actor: Actor, patron_id: int, status: int = 200, **extra) -> HttpResponse:
    record = patron_record_for_staff(actor=actor, patron_id=patron_id)
    joined = {membership.register for membership in record.registers}
    choices = {"loan_history": record.patron.loan_history, **{register: True for register in joined}}
    context = {
        "record": record,
        "patron": record.patron,
        **patron_page_context(patron_id),
        "note_form": forms.NoteForm(
            consortium_id=actor.consortium_id,
            initial={"library": record.patron.home_library.koha_library_id, "incident_on": today()},
        ),
        "choices_form": forms.ChoicesForm(initial=choices),
        "confirm_form": forms.LoanHistoryConfirmForm(),
        "trusteeship_form": forms.TrusteeshipForm(),
        **extra,
    }
    return render(request, "patrons/detail.html", context, status=status)


PATRON_PAGE_FORMS: dict[str, Callable[[Any, Actor], django_forms.Form]] = {
    "note_form": lambda data, actor: forms.NoteForm(data, consortium_id=actor.consortium_id),
    "choices_form": lambda data, actor: forms.ChoicesForm(data),
    "confirm_form": lambda data, actor: forms.LoanHistoryConfirmForm(data),
    "trusteeship_form": lambda data, actor: forms.TrusteeshipForm(data),
}


def patron_page_form(request: HttpRequest, patron_id: int, name: str, service, success) -> HttpResponse:
    """A form posted from the patron's page: on success back to the page, else the page with the form's errors."""
    actor = patron_data_actor(request)
    form = PATRON_PAGE_FORMS[name](request.POST, actor)
    if form.is_valid() and run_service(form, service, actor=actor, patron_id=patron_id, **form.cleaned_data):
        messages.success(request, success)
        return redirect("patrons:detail", patron_id=patron_id)
    return render_patron_page(request, actor, patron_id, status=400, **{name: form})


def search_address_dropped(view):
    """A search page reached with a query string (an old bookmark or link, `?q=Virtanen`) is sent to its
    bare address at once, before the log-in check, so the name goes no further: not into the log-in's
    `next`, the address and history entry of the page shown, or a search. Searches travel in POST
    bodies only, since URLs end up in access logs, proxies, histories and Referers (issue 10)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "GET" and request.META.get("QUERY_STRING"):
            return redirect(request.path)
        return view(request, *args, **kwargs)

    return wrapper


def posted_search(request: HttpRequest, actor: Actor) -> dict:
    """The search box's results for a POSTed search (text `q`, page number `page`); a GET searches nothing
    (the billing view's search, which keeps no search)."""
    if request.method != "POST":
        return {"query": "", "page": None, "code_typed": False}
    search = patron_search_box(actor=actor, text=request.POST.get("q", ""), page_number=request.POST.get("page", 1))
    return {"query": search.query, "page": search.page, "code_typed": search.code_typed}


# The session key of the staff member's current search. A search is a name, so it is kept server-side in the
# session (never in a URL, not even as an opaque id, and never in a cookie's value): Back, a language switch and
# "Back to search" return to the same results and page, and the log-out's flush forgets it.
SEARCH_SESSION_KEY = "patron_search"


def search_remember(request: HttpRequest, search: SearchBoxResult, page_number: int | str) -> None:
    """Keep what the search box shows (an identity code never: it is kept as the fact that one was typed)."""
    page = search.page.number if search.page else page_number
    request.session[SEARCH_SESSION_KEY] = {"q": search.query, "page": page, "code_typed": search.code_typed}


def remembered_search(request: HttpRequest, actor: Actor) -> dict:
    """The session's current search, run again (a logged search: the list is shown again); nothing when none."""
    kept = request.session.get(SEARCH_SESSION_KEY) or {}
    if kept.get("code_typed"):
        return {"query": "", "page": None, "code_typed": True}
    search = patron_search_box(actor=actor, text=kept.get("q", ""), page_number=kept.get("page", 1))
    return {"query": search.query, "page": search.page, "code_typed": False}


@search_address_dropped
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def patron_search_view(request: HttpRequest) -> HttpResponse:
    """GET: the current search's results (remembered_search). POST (CSRF-checked), from htmx as you type: the
    results fragment; from the plain form (no JavaScript): kept in the session and redirected to the GET
    (POST-redirect-GET), so that no history entry is a POST that Back would have to send again."""
    actor = patron_data_actor(request)
    if request.method == "POST":
        text, page_number = request.POST.get("q", ""), request.POST.get("page", 1)
        if request.headers.get("HX-Request"):
            search = patron_search_box(actor=actor, text=text, page_number=page_number)
            search_remember(request, search, page_number)
            context = {"query": search.query, "page": search.page, "code_typed": search.code_typed}
            return render(request, "patrons/search.html#results", context)
        search_remember(request, search_box_screen(actor=actor, text=text), page_number)
        return redirect("patrons:search")
    return render(request, "patrons/search.html", remembered_search(request, actor))


@never_cache
@login_required
@require_GET
def patron_detail_view(request: HttpRequest, patron_id: int) -> HttpResponse:
    return render_patron_page(request, patron_data_actor(request), patron_id)


# --- Notes ------------------------------------------------------------------------------------------


@never_cache
@login_required
@require_POST
def note_add_view(request: HttpRequest, patron_id: int) -> HttpResponse:
    return patron_page_form(request, patron_id, "note_form", note_create, _("The note was saved."))


@never_cache
@login_required
@require_POST
def note_open_view(request: HttpRequest, patron_id: int, note_id: int) -> HttpResponse:
    """A deliberate request to read a note's text (a logged read); htmx swaps in just the text."""
    note = note_open(actor=patron_data_actor(request), patron_id=patron_id, note_id=note_id)
    template = "patrons/note_text.html" if request.headers.get("HX-Request") else "patrons/note_opened.html"
    return render(request, template, {"note": note, "patron_id": patron_id})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def note_edit_view(request: HttpRequest, patron_id: int, note_id: int) -> HttpResponse:
    actor = patron_data_actor(request)
    if request.method == "POST":
        form = forms.NoteEditForm(request.POST)
        if form.is_valid() and run_service(
            form, note_update, actor=actor, patron_id=patron_id, note_id=note_id, text=form.cleaned_data["text"]
        ):
            messages.success(request, _("The note was changed; the earlier text is kept in its history."))
            return redirect("patrons:detail", patron_id=patron_id)
        note = note_open(actor=actor, patron_id=patron_id, note_id=note_id)
        status = 400
    else:
        note = note_open(actor=actor, patron_id=patron_id, note_id=note_id)
        form = forms.NoteEditForm(initial={"text": note.text})
        status = 200
    context = {"note": note, "patron_id": patron_id, "form": form, "remove_form": forms.ReasonForm()}
    return render(request, "patrons/note_edit.html", context, status=status)


@never_cache
@login_required
@require_POST
def note_remove_view(request: HttpRequest, patron_id: int, note_id: int) -> HttpResponse:
    actor = patron_data_actor(request)
    form = forms.ReasonForm(request.POST)
    if form.is_valid() and run_service(
        form, note_remove, actor=actor, patron_id=patron_id, note_id=note_id, reason=form.cleaned_data["reason"]
    ):
        messages.success(request, _("The note was removed. Who removed it, when and why is kept."))
        return redirect("patrons:detail", patron_id=patron_id)
    note = note_open(actor=actor, patron_id=patron_id, note_id=note_id)
    context = {"note": note, "patron_id": patron_id, "form": forms.NoteEditForm(), "remove_form": form}
    return render(request, "patrons/note_edit.html", context, status=400)


@never_cache
@login_required
@require_POST
def choices_view(request: HttpRequest, patron_id: int) -> HttpResponse:
    return patron_page_form(
        request, patron_id, "choices_form", patron_choices_update, _("The patron's choices were saved.")
    )


@never_cache
@login_required
@require_POST
def loan_history_confirm_view(request: HttpRequest, patron_id: int) -> HttpResponse:
    return patron_page_form(
        request,
        patron_id,
        "confirm_form",
        loan_history_choice_confirm,
        _("The patron confirmed their loan-history choice."),
    )


@never_cache
@login_required
@require_GET
def loan_history_confirmations_view(request: HttpRequest) -> HttpResponse:
    """ "Confirm loan-history choice": patrons who turned 15 or 18 since their choice was recorded (a logged list)."""
    page = loan_history_confirmations_due(actor=patron_data_actor(request), page_number=request.GET.get("page", 1))
    return render(request, "patrons/loan_history_confirmations.html", {"page": page})


@never_cache
@login_required
@require_POST
def trusteeship_record_view(request: HttpRequest, patron_id: int) -> HttpResponse:
    return patron_page_form(
        request, patron_id, "trusteeship_form", trusteeship_record, _("The guardianship was recorded.")
    )


@never_cache
@login_required
@require_POST
def trusteeship_open_view(request: HttpRequest, patron_id: int) -> HttpResponse:
    trusteeship = trusteeship_open(actor=patron_data_actor(request), patron_id=patron_id)
    return render(request, "patrons/trusteeship.html", {"trusteeship": trusteeship, "patron_id": patron_id})
