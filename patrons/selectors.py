"""Reads of patron data. Each one records its AccessEvent in the same transaction."""

import datetime
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import (
    Case,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import ExtractDay, ExtractMonth, ExtractYear

from audit.actor import Actor
from audit.models import AccessEvent, Action, DataCategory, Outcome
from audit.sealing import without_unsealed_forgeries
from audit.services import access_event_record
from core.compiled_query import CompiledQuery
from core.dates import ADULT_AGE, age_on, today
from core.errors import NotFound
from patrons.models import (
    SENSITIVE_NOTE_CATEGORIES,
    Guardianship,
    Note,
    Patron,
    ProcessingRestriction,
    RegisterMembership,
    Trusteeship,
)
from patrons.processing import restricted_subquery, restriction_in_force
from patrons.restrictions import RestrictionInForce, RestrictionSection, restriction_presences, restrictions_of
from patrons.services.choices import CONFIRMATION_AGES, loan_history_confirmation_due
from staff.typed_text import IdentityCodeInSearch, search_text_check

DETAIL_CATEGORIES = (
    DataCategory.BASIC,
    DataCategory.CONTACT,
    DataCategory.GUARDIANS,
    DataCategory.PREFERENCES,
    DataCategory.NOTES,
    DataCategory.BANS,
    DataCategory.REGISTERS,
)


class SelectorNotFound(Exception):
    """Raised inside a selector's transaction (a selector of another app too, e.g. bans.selectors); recorded as a
    denied event after the rollback by `logs_not_found`."""

    def __init__(self, action: str) -> None:
        self.action = action


def logs_not_found(selector):
    """A 404 of `selector` is a denied access event, written outside the selector's own (rolled back) transaction."""

    @functools.wraps(selector)
    def wrapper(*, actor: Actor, **kwargs):
        try:
            return selector(actor=actor, **kwargs)
        except SelectorNotFound as missing:
            access_event_record(actor=actor, action=missing.action, outcome=Outcome.DENIED, detail="not_found")
            raise NotFound from None

    return wrapper


# Age until which notices go to a patron's guardians (Swedish guidance: "reminders go to the guardian until 18").
NOTICES_TO_GUARDIAN_UNTIL_AGE = ADULT_AGE


# The detail of the event of a read that showed a patron whose processing is restricted (GDPR Art. 18): such
# reads are only storage's, and the DPO finds them in the access log by it.
RESTRICTED_READ = "processing_restricted"


def staff_patrons(actor: Actor) -> QuerySet[Patron]:
    """THE one query of the patrons staff may reach, here and in every app above (Koha's plugin included): the
    actor's consortium's, without the records an erasure kept under a legal hold (GDPR Art. 17(3): kept for the
    hold's purpose only; the DPO reaches them through dpo/). A staff read that finds a patron by any other query
    would show a held record again."""
    return staff_patrons_of(actor.consortium_id)


def staff_patrons_of(consortium_id: int | None) -> QuerySet[Patron]:
    """staff_patrons for an actor of the consortium `consortium_id` (for a query compiled ahead of its actor)."""
    return Patron.objects.of_consortium(consortium_id).filter(held_after_erasure=False)


# What a row of the search box's results shows of a patron (name, card number, date of birth, home library and
# status), and so what its access event names: the billing page's lookup by identity code shows its patron in
# such a row too.
SEARCH_BOX_CATEGORIES = (DataCategory.LISTING, DataCategory.BASIC)

# The shortest search the staff search box runs: one letter would list a good part of the register.
SEARCH_MIN_LETTERS = 2

# A search counts its matches up to this many; a broader one says "more than SEARCH_COUNT_LIMIT" and its pages
# stop there. Counting the 100,000 matches of one letter among a million patrons took longer than the rest of
# the search together, and nobody pages through more than 40 pages of names: they type another letter.
SEARCH_COUNT_LIMIT = 1000


def search_terms(query: str) -> list[str]:
    """The words of a search; a comma separates them too, so "Kangas, Aino" (as lists show a name) is two."""
    return [term for term in re.split(r"[\s,]+", query) if term]


class SearchKey(Func):
    """A name upper-cased and compared by code point: the search's sort key, and what a word's prefix is matched
    against (_search_sql), so on PostgreSQL one B-tree (patrons/migrations/0016_search_keys.py) finds a prefix's
    patrons already in the order shown (COLLATE "C": a B-tree in it serves LIKE 'PREFIX%', and the order does
    not depend on the database's locale). SQLite (development) compares by code point anyway."""

    function = "UPPER"
    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, Any]:
        sql, params = self.as_sql(compiler, connection, **extra_context)
        return f'({sql} COLLATE "C")', params


SEARCH_ORDER = (SearchKey("last_name").asc(), SearchKey("first_name").asc(), F("id").asc())


def _search_sql(scope: QuerySet[Patron], terms: list[str], *, limit: int, ordered: bool) -> tuple[str, list[Any]]:
    """The ids of `scope`'s patrons matching `terms` (every word starts a first or last name or the card number),
    at most `limit` from each part of the search (the first ones in the order shown when `ordered`), as one
    UNION: its parts together hold every match, and each is one range of an index.

    One OR over last name, first name and card number, ordered by last name, has no plan that is fast for
    every prefix: a common last name's matches are bunched together in the order shown (a walk in that order
    meets the Virtanens after every A..U name), a rare one's are few. But every match has the longest word at
    the start of its last name, its first name or its card number, so those are the three parts, each with
    the other words checked on its rows: the last-name part is a range of patron_search_last_idx, already in
    the order shown; first names and card numbers are spread evenly over that order, so a walk of the same
    index meets their matches soon, or they are few and their own index (patron_search_first_idx,
    patron_cardnumber_prefix_idx) finds them all. The parts may overlap (UNION drops the repeats), and the first
    `limit` of the whole are among the first `limit` of its parts. The longest word is the likeliest to be
    rare. Each part names that word once, not again in an OR of every word, or PostgreSQL's row estimates come
    out far too low.

    Written as SQL around the scope's own query (staff_patrons, compiled by the ORM): built with the ORM, the
    parts' expressions cost more to build and compile than the database takes to answer them.
    """
    scope_sql, scope_params = (
        scope.order_by().values("id", "last_name", "first_name", "cardnumber").query.sql_with_params()
    )
    collate = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
    last, first = f"(UPPER(p.last_name){collate})", f"(UPPER(p.first_name){collate})"
    order = f" ORDER BY {last}, {first}, p.id" if ordered else ""
    card = "p.cardnumber"

    def starts(column: str, term: str) -> tuple[str, list[Any]]:
        """`term` starts `column`: a name key (the term upper-cased as the name is) or the card number (as typed)."""
        typed = "%s" if column == card else "UPPER(%s)"
        return f"{column} LIKE {typed} ESCAPE '\\'", [connection.ops.prep_for_like_query(term) + "%"]

    def anywhere(term: str) -> tuple[str, list[Any]]:
        found = [starts(last, term), starts(first, term), starts(card, term)]
        return "(" + " OR ".join(sql for sql, _ in found) + ")", [param for _, params in found for param in params]

    if terms:
        longest = terms.index(max(terms, key=len))
        others = [anywhere(term) for number, term in enumerate(terms) if number != longest]
        parts = [[starts(column, terms[longest]), *others] for column in (last, first, card)]
    else:
        parts = [[("1 = 1", [])]]
    selects, params = [], []
    for number, conditions in enumerate(parts):
        where = " AND ".join(sql for sql, _ in conditions)
        selects.append(
            # Only this function's fixed fragments and the ORM's compiled scope are formatted in; the words are
            # parameters.
            f"SELECT part{number}.id FROM (SELECT p.id FROM ({scope_sql}) p WHERE {where}{order} LIMIT {int(limit)}) "  # noqa: S608
            f"part{number}"
        )
        params += [*scope_params, *(param for _, values in conditions for param in values)]
    return " UNION ".join(selects), params


class SearchPaginator(Paginator):
    """Pages of a search whose count stops at SEARCH_COUNT_LIMIT (`count_exact` False: there are more) and
    whose page is read from the parts of `_search_sql`, each cut at the page's end, then ordered once."""

    def __init__(self, patrons: QuerySet[Patron], *, scope: QuerySet[Patron], terms: list[str], per_page: int) -> None:
        super().__init__(patrons, per_page)
        self.patrons = patrons
        self.scope = scope
        self.terms = terms
        self.count_exact = True

    @functools.cached_property
    def count(self) -> int:
        sql, params = _search_sql(self.scope, self.terms, limit=SEARCH_COUNT_LIMIT + 1, ordered=False)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) found", params)  # noqa: S608 (_search_sql's)
            found = cursor.fetchone()[0]
        self.count_exact = found <= SEARCH_COUNT_LIMIT
        return min(found, SEARCH_COUNT_LIMIT)

    def page(self, number: int | str) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)  # a page never goes past what was counted
        ids = _search_sql(self.scope, self.terms, limit=max(top, 1), ordered=True)
        candidates = RawSQL(*ids)  # noqa: S611 (_search_sql's: the words are parameters)
        return Page(self.patrons.filter(id__in=candidates).order_by(*SEARCH_ORDER)[bottom:top], number, self)


def patron_search(
    *,
    actor: Actor,
    query: str,
    page_number: int | str = 1,
    page_size: int = 25,
    data_categories: list[str] | None = None,
) -> Page:
    """One page of the actor's consortium's patrons matching `query`, by last name, first name and id; the
    listed patrons are logged, with `data_categories` (a list shows names and card numbers; the staff search
    box dates of birth too). The page's paginator is a SearchPaginator: its count stops at SEARCH_COUNT_LIMIT.

    The search text itself is not logged: it is often a name. A search holding a personal identity code,
    however written, is refused (IdentityCodeInSearch) and logged as a denied search: a code is looked up
    only in the billing view, with a reason.
    """

    search_text_check(actor=actor, action=Action.PATRON_SEARCH, text=query)
    scope = staff_patrons(actor)
    patrons = scope.select_related("home_library").annotate(processing_restricted=restricted_subquery())
    terms = search_terms(query.strip())
    with transaction.atomic():
        page = SearchPaginator(patrons, scope=scope, terms=terms, per_page=page_size).get_page(page_number)
        listed: list[Any] = list(page.object_list)  # read once, inside the logged transaction; annotated
        page.object_list = listed
        access_event_record(
            actor=actor,
            action=Action.PATRON_SEARCH,
            patron_ids=[patron.pk for patron in listed],
            data_categories=data_categories or [DataCategory.LISTING],
            detail=RESTRICTED_READ if any(patron.processing_restricted for patron in listed) else "",
        )
    return page


def _with_age_when_chosen(patrons: QuerySet[Patron]) -> QuerySet[Patron]:
    """`age_when_chosen`: the patron's age on the day their loan-history choice was recorded, counted in the
    database as core.dates.age_on counts it (from the birthday's own date; 29 February on 1 March)."""
    years = ExtractYear("loan_history_chosen_on") - ExtractYear("date_of_birth")
    patrons = patrons.annotate(
        chosen_day=ExtractMonth("loan_history_chosen_on") * 100 + ExtractDay("loan_history_chosen_on"),
        born_day=ExtractMonth("date_of_birth") * 100 + ExtractDay("date_of_birth"),
    )
    return patrons.annotate(
        age_when_chosen=Case(
            When(chosen_day__lt=F("born_day"), then=years - 1), default=years, output_field=IntegerField()
        )
    )


def loan_history_confirmations_due(*, actor: Actor, page_number: int | str = 1, page_size: int = 50) -> Page:
    """ "Confirm loan-history choice": one page of the actor's consortium's patrons who have turned 15 or 18 since
    their loan-history choice was recorded (patrons.services.choices.CONFIRMATION_AGES), by name.

    The list reads many patrons' data, so it is one access event naming the listed patrons, as a search is.
    """
    day = today()
    due = Q()
    for age in CONFIRMATION_AGES:
        due |= Q(date_of_birth__lte=day - relativedelta(years=age), age_when_chosen__lt=age)
    patrons = (
        _with_age_when_chosen(
            staff_patrons(actor).filter(loan_history_chosen_on__isnull=False, date_of_birth__isnull=False)
        )
        .filter(due)
        .annotate(processing_restricted=restricted_subquery())
        # A restricted patron's choice cannot be confirmed until the restriction is lifted (GDPR Art. 18(2)).
        .filter(processing_restricted=False)
        .select_related("home_library")
        .order_by("last_name", "first_name", "id")
    )
    with transaction.atomic():
        page = Paginator(patrons, page_size).get_page(page_number)
        page.object_list = list(page.object_list)  # read once, inside the logged transaction
        access_event_record(
            actor=actor,
            action=Action.PATRON_SEARCH,
            patron_ids=[patron.pk for patron in page.object_list],
            data_categories=[DataCategory.LISTING, DataCategory.PREFERENCES],
            detail="loan_history_confirmations",
        )
    return page


@dataclass(frozen=True)
class SearchBoxResult:
    query: str  # what may be shown back in the search box ("" when it held an identity code)
    page: Page | None  # None when nothing was searched (empty, too short, or an identity code)
    code_typed: bool


def search_box_screen(*, actor: Actor, text: str) -> SearchBoxResult:
    """The search box's text as it may be kept (in the session) and shown back, without searching: a text
    holding an identity code is refused and logged as a denied search (staff.typed_text), and kept as ""."""
    query = text.strip()
    try:
        search_text_check(actor=actor, action=Action.PATRON_SEARCH, text=query)
    except IdentityCodeInSearch:
        return SearchBoxResult(query="", page=None, code_typed=True)
    return SearchBoxResult(query=query, page=None, code_typed=False)


def patron_search_box(*, actor: Actor, text: str, page_number: int | str = 1) -> SearchBoxResult:
    """The staff search box: a text holding an identity code is neither searched with nor shown back, and a
    text of fewer than SEARCH_MIN_LETTERS letters is not searched (the page shows the empty box's hint)."""
    screened = search_box_screen(actor=actor, text=text)
    if screened.code_typed or len("".join(search_terms(screened.query))) < SEARCH_MIN_LETTERS:
        return screened
    page = patron_search(
        actor=actor, query=screened.query, page_number=page_number, data_categories=list(SEARCH_BOX_CATEGORIES)
    )
    return SearchBoxResult(query=screened.query, page=page, code_typed=False)


def notice_recipient_ids(patron: Patron, day: datetime.date | None = None) -> list[int]:
    """Who gets the patron's notices: the guardians until the patron turns 18, then the patron."""
    day = day or today()
    guardians = [g.guardian_id for g in patron.guardianships.all()]
    minor = patron.date_of_birth is not None and age_on(patron.date_of_birth, day) < NOTICES_TO_GUARDIAN_UNTIL_AGE
    return guardians if minor and guardians else [patron.pk]


@dataclass
class PatronRecord:
    """Everything a staff member sees on a patron's page, read (and logged) together."""

    patron: Patron
    notes: list[Note] = field(default_factory=list)
    restrictions: list[RestrictionSection] = field(default_factory=list)
    registers: list[RegisterMembership] = field(default_factory=list)
    under_trusteeship: bool = False
    notices_to: list[int] = field(default_factory=list)
    # The birthday (15 or 18) since which the patron's loan-history choice awaits their confirmation, or None.
    loan_history_confirmation_due: int | None = None
    processing_restriction: ProcessingRestriction | None = None  # in force (GDPR Art. 18): the page's banner

    @property
    def in_force(self) -> list[RestrictionInForce]:
        """The restrictions in force (bans, prohibitions), from every provider (patrons.restrictions)."""
        return [restriction for section in self.restrictions for restriction in section.in_force]


def _listed_notes(patron_id: int) -> QuerySet[Note]:
    """A patron's notes for a list: a sensitive note's text is not even read (it opens through note_open)."""
    return (
        Note.objects.filter(patron_id=patron_id)
        .select_related("library")
        .annotate(
            listed_text=Case(
                When(category__in=SENSITIVE_NOTE_CATEGORIES, then=Value("")),
                default=F("text"),
                output_field=TextField(),
            )
        )
        .defer("text")
    )


@logs_not_found
def note_list_for_staff(*, actor: Actor, patron_id: int) -> list[Note]:
    """A patron's notes, newest first, sensitive ones by category only; the listing is logged."""
    with transaction.atomic():
        if not staff_patrons(actor).filter(pk=patron_id).exists():
            raise SelectorNotFound(Action.PATRON_VIEW)
        notes = list(_listed_notes(patron_id))
        access_event_record(
            actor=actor, action=Action.PATRON_VIEW, patron_ids=[patron_id], data_categories=[DataCategory.NOTES]
        )
    return notes


def _relations_fill(patron: Any) -> None:  # a Patron with has_guardians and has_wards
    """The patron's guardianships (with each guardian) and wards (with each ward), as prefetched relations; each
    is read only when the patron's query said there are any (an empty one costs no query)."""
    lookups = []
    for relation, other, present in (
        ("guardianships", "guardian", patron.has_guardians),
        ("wards", "ward", patron.has_wards),
    ):
        if present:
            lookups.append(Prefetch(relation, queryset=Guardianship.objects.select_related(other)))
        else:
            # What prefetch_related_objects leaves for a relation with no rows, without its machinery (most
            # patrons have neither: it was a tenth of the detail API's CPU).
            empty = getattr(patron, relation).get_queryset()
            empty._result_cache = []
            empty._prefetch_done = True
            patron.__dict__.setdefault("_prefetched_objects_cache", {})[relation] = empty
    if lookups:
        prefetch_related_objects([patron], *lookups)


def _patron_with_presences(day: datetime.date, *, consortium_id: int, patron_id: int) -> QuerySet[Patron]:
    """The patron of a staff read, with whether each of its lists has anything at all (EXISTS), as `first()`
    asked it: ordered by the key, one row."""
    return (
        staff_patrons_of(consortium_id)
        .select_related("home_library__municipality", "consortium")
        .annotate(
            has_trusteeship=Exists(Trusteeship.objects.filter(patron=OuterRef("pk"))),
            processing_restricted=restricted_subquery(),
            has_guardians=Exists(Guardianship.objects.filter(ward=OuterRef("pk"))),
            has_wards=Exists(Guardianship.objects.filter(guardian=OuterRef("pk"))),
            has_notes=Exists(Note.objects.filter(patron=OuterRef("pk"))),
            has_registers=Exists(RegisterMembership.objects.filter(patron=OuterRef("pk"))),
            **restriction_presences(day),
        )
        .filter(pk=patron_id)
        .order_by("pk")[:1]
    )


# Compiled once per worker thread and day (core/compiled_query.py): the statement, never a row, is kept.
_PATRON_RECORD = CompiledQuery(_patron_with_presences, names=("consortium_id", "patron_id"))


@logs_not_found
def patron_record_for_staff(*, actor: Actor, patron_id: int) -> PatronRecord:
    """A patron with notes (sensitive texts withheld), restrictions (patrons.restrictions), registers; logged once."""
    with transaction.atomic():
        # One query for the patron, with whether each of its lists has anything at all (EXISTS): a list that
        # is empty, as most are, costs no query of its own (issue 16). Guardians and wards come with their
        # guardianship rows; a processing restriction is read only when one is in force (the page's banner).
        day = today()
        if actor.consortium_id is None:  # no consortium, no patron (staff_patrons_of(None) finds none)
            raise SelectorNotFound(Action.PATRON_VIEW)
        found = _PATRON_RECORD.objects(key=day, consortium_id=actor.consortium_id, patron_id=int(patron_id))
        if not found:
            raise SelectorNotFound(Action.PATRON_VIEW)
        patron = found[0]
        _relations_fill(patron)
        record = PatronRecord(
            patron=patron,
            notes=list(_listed_notes(patron.pk)) if patron.has_notes else [],
            restrictions=restrictions_of(patron, day),
            registers=list(RegisterMembership.objects.filter(patron=patron).order_by("register"))
            if patron.has_registers
            else [],
            under_trusteeship=patron.has_trusteeship,
            notices_to=notice_recipient_ids(patron, day),
            loan_history_confirmation_due=loan_history_confirmation_due(patron, day),
            processing_restriction=restriction_in_force(patron.pk) if patron.processing_restricted else None,
        )
        related = [g.guardian_id for g in patron.guardianships.all()] + [w.ward_id for w in patron.wards.all()]
        categories = [*DETAIL_CATEGORIES, *([DataCategory.TRUSTEESHIP] if record.under_trusteeship else [])]
        access_event_record(
            actor=actor,
            action=Action.PATRON_VIEW,
            patron_ids=[patron.pk, *related],
            data_categories=categories,
            detail=RESTRICTED_READ if record.processing_restriction else "",
        )
    return record


@logs_not_found
def note_open(*, actor: Actor, patron_id: int, note_id: int) -> Note:
    """One note with its text; opening a sensitive note is its own access event."""
    with transaction.atomic():
        note = (
            Note.objects.filter(pk=note_id, patron__in=staff_patrons(actor).filter(pk=patron_id))
            .prefetch_related("revisions")
            .first()
        )
        if note is None:
            raise SelectorNotFound(Action.SENSITIVE_READ)
        access_event_record(
            actor=actor,
            action=Action.SENSITIVE_READ if note.sensitive else Action.PATRON_VIEW,
            patron_ids=[note.patron_id],
            data_categories=[DataCategory.SENSITIVE_NOTE if note.sensitive else DataCategory.NOTES],
            detail=f"note:{note.category}",
        )
    return note


@logs_not_found
def trusteeship_open(*, actor: Actor, patron_id: int) -> Trusteeship:
    """The guardian's contact of an adult under guardianship; opening it is its own access event."""
    with transaction.atomic():
        trusteeship = Trusteeship.objects.filter(patron__in=staff_patrons(actor).filter(pk=patron_id)).first()
        if trusteeship is None:
            raise SelectorNotFound(Action.SENSITIVE_READ)
        access_event_record(
            actor=actor,
            action=Action.SENSITIVE_READ,
            patron_ids=[patron_id],
            data_categories=[DataCategory.TRUSTEESHIP],
            detail="trusteeship",
        )
    return trusteeship


@logs_not_found
def access_event_list_for_patron(*, actor: Actor, patron_id: int, limit: int = 500) -> list[AccessEvent]:
    """The newest events about one patron of the actor's consortium, newest first; other patrons are not found."""
    with transaction.atomic():
        if not Patron.objects.visible_to(actor).filter(pk=patron_id).exists():
            raise SelectorNotFound(Action.ACCESS_LOG_VIEW)
        about = without_unsealed_forgeries(AccessEvent.objects.about_patron(patron_id))
        events = list(about.order_by("-id")[:limit])
        access_event_record(
            actor=actor,
            action=Action.ACCESS_LOG_VIEW,
            patron_ids=[patron_id],
            data_categories=[DataCategory.ACCESS_LOG],
        )
    return events
