"""Reads of patron data. Each one records its AccessEvent in the same transaction."""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404

from audit.actor import Actor
from audit.models import Action, DataCategory, Outcome
from audit.services import access_event_record
from patrons.models import Patron

DETAIL_CATEGORIES = (
    DataCategory.BASIC,
    DataCategory.CONTACT,
    DataCategory.GUARDIANS,
    DataCategory.PREFERENCES,
)


def _consortium_patrons(actor: Actor) -> QuerySet[Patron]:
    return Patron.objects.filter(consortium_id=actor.consortium_id)


def _matching(patrons: QuerySet[Patron], query: str) -> QuerySet[Patron]:
    """Every word must match the start of a first or last name, or a card number."""
    for term in query.split():
        patrons = patrons.filter(
            Q(last_name__istartswith=term) | Q(first_name__istartswith=term) | Q(cardnumber__startswith=term)
        )
    return patrons


def patron_search(*, actor: Actor, query: str, page_number: int | str = 1, page_size: int = 25) -> Page:
    """One page of the actor's consortium's patrons matching `query`; the listed patrons are logged.

    The search text itself is not logged: it is often a name.
    """
    patrons = _matching(_consortium_patrons(actor), query.strip()).select_related("home_library")
    with transaction.atomic():
        page = Paginator(patrons.order_by("last_name", "first_name", "id"), page_size).get_page(page_number)
        page.object_list = list(page.object_list)  # read once, inside the logged transaction
        access_event_record(
            actor=actor,
            action=Action.PATRON_SEARCH,
            patron_ids=[patron.pk for patron in page.object_list],
            data_categories=[DataCategory.LISTING],
        )
    return page


@dataclass(frozen=True)
class SearchBoxResult:
    query: str  # what may be shown back in the search box ("" when it held an identity code)
    page: Page | None
    code_typed: bool


def patron_search_box(*, actor: Actor, text: str, page_number: int | str = 1) -> SearchBoxResult:
    """The staff search box: identity-code-shaped text is neither searched with nor shown back."""
    from patrons.tenancy import jurisdiction_of
    from sotu_silo.validation import contains_identity_code

    query = text.strip()
    if contains_identity_code(query, country=jurisdiction_of(actor.consortium_id)):
        return SearchBoxResult(query="", page=None, code_typed=True)
    page = patron_search(actor=actor, query=query, page_number=page_number) if query else None
    return SearchBoxResult(query=query, page=page, code_typed=False)


def patron_get_for_staff(*, actor: Actor, patron_id: int) -> Patron:
    """One patron of the actor's consortium with guardians; anything else is a 404 (and a denied event)."""
    with transaction.atomic():
        patron = (
            _consortium_patrons(actor)
            .select_related("home_library__municipality")
            .prefetch_related("guardianships__guardian", "wards__ward")
            .filter(pk=patron_id)
            .first()
        )
        if patron is not None:
            # The page names the patron's guardians and wards too: their data is read as well.
            related = [g.guardian_id for g in patron.guardianships.all()] + [w.ward_id for w in patron.wards.all()]
            access_event_record(
                actor=actor,
                action=Action.PATRON_VIEW,
                patron_ids=[patron.pk, *related],
                data_categories=DETAIL_CATEGORIES,
            )
            return patron
    access_event_record(actor=actor, action=Action.PATRON_VIEW, outcome=Outcome.DENIED, detail="not_found")
    raise Http404
