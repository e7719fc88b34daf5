"""Syncing a consortium's patrons from its Koha, the register: `koha_sync_run` (manage.py koha_sync).

- Libraries: Koha's `library_id` is matched to Library.koha_library_id of the consortium. A Koha library we do
  not have is reported as unmatched, never created: a Library needs a municipality, which Koha cannot tell.
  A patron of an unmatched library is refused.
- Patrons: read by patron id in pages (keyset: `patron_id > last`), incremental ones by `updated_on >= since`
  (whole seconds: `>` would miss a change made in the second the last sync started), upserted by Koha's
  patron id. A record that fails validation is refused, counted and listed by Koha patron id, never by name.
- Each page is written in one transaction with one `koha_sync` access event naming its patrons, and the run's
  place (SyncRun.after_patron_id): a crash or a Koha outage loses at most the page under way, and the next
  invocation resumes after the last page written, with the same `since`.
- Guarantors: Koha's REST patron has no guarantor list, so the link comes from a convention: an extended
  attribute (settings.KOHA_GUARANTOR_ATTRIBUTE, default GUARANTOR) on the child holding the guarantor's card
  number, and Koha's `relationship_type` (mother/father/parent: parent; anything else: guardian).
- Gone patrons: only a full sync sees every id. A patron of ours whose Koha id falls between the ids of a page
  and is not in it is asked for once (GET /patrons/{id}); on Koha's 404 it gets a KohaDeparture: flagged when
  an app has an open matter about it (core.privacy_contract.open_matters), else marked. Nothing is deleted
  here: the DPO's erasure is the one path that removes a patron.
- A patron whose processing is restricted (GDPR Art. 18, patrons.processing) is not overwritten: the sync skips
  them and counts them (`restricted`); the data stays as it was stored until the DPO lifts the restriction.
- One sync of a consortium at a time (`_one_sync_at_a_time`): a second one refuses at its start. Two at once
  would walk the same pages and resume the same run, each writing over the other's place.
"""

import contextlib
import datetime
import fcntl
import hashlib
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from audit.actor import Actor
from audit.models import Action, DataCategory
from audit.services import access_event_record
from core.dates import today
from core.privacy_contract import open_matters
from koha.client import KohaClient
from koha.errors import KohaError, KohaNotFound
from koha.models import ErasedKohaPatron, KohaDeparture, SyncKind, SyncRun, SyncStatus
from koha.selectors import client_for
from patrons.models import GuardianRelationship, Guardianship, LoanHistoryPreference, Patron, PatronStatus
from patrons.processing import restricted_patron_ids
from patrons.services.registration import DEFAULT_LANGUAGE
from staff.models import Consortium, Library

SYNC_ACTOR = "koha_sync"
PER_PAGE = 200
# Written from Koha's record; a patron whose values all equal these is unchanged.
SYNCED_FIELDS = (
    "cardnumber",
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "street_address",
    "postal_code",
    "city",
    "home_library_id",
    "card_expires_on",
    "loan_history",
    "language",
    "status",
)
# Koha's `privacy` is Koha's setting, not a recorded choice: who set it there (staff, or the patron in the
# OPAC) and when is not known. A value that differs from the recorded choice empties these, so the patron's
# page asks for the patron's own choice again (patrons.services.choices).
LOAN_HISTORY_CHOICE_FIELDS = ("loan_history_chosen_on", "loan_history_chosen_by")
PARENT_RELATIONSHIPS = {"mother", "father", "parent"}
COUNT_NAMES = (
    "created",
    "updated",
    "unchanged",
    "restricted",
    "refused",
    "erased_here",
    "flagged",
    "marked_removed",
    "libraries_matched",
    "libraries_unmatched",
)

Progress = Callable[[SyncRun, int, int], None]


@dataclass
class SyncReport:
    run: SyncRun
    dry_run: bool
    resumed: bool
    counts: Counter[str]
    refused_ids: list[int]
    unmatched_libraries: list[str]
    pages: int = 0
    seconds: float = 0.0
    flagged: dict[int, list[str]] = field(default_factory=dict)


class SyncAlreadyRunning(Exception):
    """Another koha_sync of the consortium holds its lock; the message says so, in the operator's language."""


# pg_try_advisory_lock(SYNC_LOCK_CLASS, consortium id): a key space of its own ("Koha" in ASCII), apart from
# the access log's one-number lock (audit/chain.py).
SYNC_LOCK_CLASS = 0x4B6F6861


def _sqlite_lock_path(consortium_id: int) -> Path:
    """Beside the database file, so that one database has one lock; an in-memory test database in the temp
    directory, under a name of its own."""
    name = str(connection.settings_dict["NAME"])
    if name.startswith("file:") or name == ":memory:":
        tag = hashlib.sha256(name.encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"koha-sync-{tag}-{consortium_id}.lock"
    return Path(f"{name}.koha-sync-{consortium_id}.lock")


@contextlib.contextmanager
def _one_sync_at_a_time(consortium: Consortium) -> Iterator[None]:
    """Hold the consortium's sync lock for the whole run, or refuse at once (SyncAlreadyRunning).

    The run spans many transactions (one per page), so the lock is one that outlives a transaction and goes
    with the process: on PostgreSQL a session advisory lock, released at the end or when the connection
    closes (a killed run frees it); on SQLite an exclusive lock on a file beside the database, released by
    the operating system when the process ends. Not a write transaction held for the run: on SQLite that
    would stop every other writer of the service for as long. Not a flag row: a crashed run would leave it set.
    """
    refused = SyncAlreadyRunning(
        _(
            "Another Koha sync of %(consortium)s is running. Wait for it to finish (one sync of a consortium at a "
            "time: check that cron lines do not overlap)."
        )
        % {"consortium": consortium.slug}
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [SYNC_LOCK_CLASS, consortium.pk])
            if not cursor.fetchone()[0]:
                raise refused
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [SYNC_LOCK_CLASS, consortium.pk])
        return
    with open(_sqlite_lock_path(consortium.pk), "a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise refused from None
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


class Refused(Exception):
    """A Koha record this service does not take (the reason is a field name, never its value)."""


def _actor(consortium: Consortium) -> Actor:
    return Actor(
        user_id=None,
        username=SYNC_ACTOR,
        municipality_id=None,
        consortium_id=consortium.pk,
        client_ip=None,
        resource=SYNC_ACTOR,
    )


def _text(record: dict[str, Any], *names: str) -> str:
    return " ".join(str(record[name]).strip() for name in names if record.get(name)).strip()


def _date(value: Any, name: str) -> datetime.date | None:
    if not value:
        return None
    try:
        parsed = parse_date(str(value))
    except ValueError:
        parsed = None
    if parsed is None:
        raise Refused(name)
    return parsed


def _language(value: Any) -> str | None:
    code = str(value or "")[:2].lower()
    return code if code in dict(settings.LANGUAGES) else None


def patron_fields_from_koha(
    record: dict[str, Any], *, libraries: dict[str, Library], day: datetime.date
) -> dict[str, Any]:
    """Our Patron's fields from Koha's patron object; Refused(field) when the record cannot be taken."""
    library = libraries.get(str(record.get("library_id") or ""))
    if library is None:
        raise Refused("library_id")
    born = _date(record.get("date_of_birth"), "date_of_birth")
    if born is not None and born > day:
        raise Refused("date_of_birth")
    expires = _date(record.get("expiry_date"), "expiry_date")
    privacy = record.get("privacy", LoanHistoryPreference.DEFAULT)
    if privacy not in LoanHistoryPreference.values:
        raise Refused("privacy")
    fields = {
        "cardnumber": _text(record, "cardnumber"),
        "first_name": _text(record, "firstname") or _text(record, "preferred_name"),
        "last_name": _text(record, "surname"),
        "date_of_birth": born,
        "email": _text(record, "email"),
        "phone": _text(record, "phone") or _text(record, "mobile"),
        "street_address": _text(record, "address"),
        "postal_code": _text(record, "postal_code"),
        "city": _text(record, "city"),
        "home_library_id": library.pk,
        "card_expires_on": expires,
        "loan_history": privacy,
        "language": _language(record.get("lang")),
        "status": PatronStatus.EXPIRED if expires is not None and expires < day else PatronStatus.ACTIVE,
    }
    for name in ("cardnumber", "first_name", "last_name"):
        if not fields[name]:
            raise Refused(name)
    try:
        Patron(**{name: value for name, value in fields.items() if value is not None}).clean_fields(
            exclude=["consortium", "home_library", "language"]
        )
    except ValidationError as error:
        raise Refused(",".join(sorted(error.message_dict))) from None
    return fields


def _guarantor_cardnumber(record: dict[str, Any]) -> str:
    code = settings.KOHA_GUARANTOR_ATTRIBUTE
    for attribute in record.get("extended_attributes") or []:
        if attribute.get("type") == code and attribute.get("value"):
            return str(attribute["value"]).strip()
    return ""


def _relationship(record_or_text: Any) -> str:
    text = str(record_or_text or "").strip().lower()
    return GuardianRelationship.PARENT if text in PARENT_RELATIONSHIPS else GuardianRelationship.GUARDIAN


class _Sync:
    def __init__(
        self, *, consortium: Consortium, client: KohaClient, run: SyncRun, dry_run: bool, per_page: int
    ) -> None:
        self.consortium = consortium
        self.client = client
        self.run = run
        self.dry_run = dry_run
        self.per_page = per_page
        self.day = today()
        self.actor = _actor(consortium)
        self.counts: Counter[str] = Counter({name: run.counts.get(name, 0) for name in COUNT_NAMES})
        self.refused_ids: list[int] = list(run.refused_ids)
        self.flagged: dict[int, list[str]] = {}
        self.libraries: dict[str, Library] = {}
        self.unmatched_libraries: list[str] = []
        self.default_language = DEFAULT_LANGUAGE.get(consortium.jurisdiction, settings.LANGUAGE_CODE)

    # --- libraries ----------------------------------------------------------------------------------------
    def match_libraries(self) -> None:
        ours = {
            library.koha_library_id: library
            for library in Library.objects.filter(municipality__consortium=self.consortium)
        }
        for koha_library in self.client.libraries():
            library_id = str(koha_library.get("library_id", ""))
            if library_id in ours:
                self.libraries[library_id] = ours[library_id]
            else:
                self.unmatched_libraries.append(library_id)
        self.counts["libraries_matched"] = len(self.libraries)
        self.counts["libraries_unmatched"] = len(self.unmatched_libraries)

    # --- pages --------------------------------------------------------------------------------------------
    def pages(self, progress: Progress | None) -> int:
        embed = ["extended_attributes"] if settings.KOHA_GUARANTOR_ATTRIBUTE else []
        pages = 0
        while True:
            page = next(
                self.client.patron_pages(
                    updated_since=self.run.since,
                    after_patron_id=self.run.after_patron_id or None,
                    per_page=self.per_page,
                    embed=embed,
                )
            )
            done = sum(
                self.counts[name]
                for name in ("created", "updated", "unchanged", "restricted", "refused", "erased_here")
            )
            self.run.total = done + page.total
            last_page = len(page.items) < self.per_page
            gone = self.gone_in(page.items, last_page=last_page) if self.run.kind == SyncKind.FULL else []
            if page.items or gone:
                with transaction.atomic():
                    self.page_write(page.items, gone)
                pages += 1
            if progress is not None:
                progress(self.run, self.run.total if last_page else done + len(page.items), self.run.total)
            if last_page:
                return pages

    def gone_in(self, items: list[dict[str, Any]], *, last_page: bool) -> list[Patron]:
        """Our patrons whose Koha id lies in this page's range but not in it, and that Koha says it lacks."""
        seen = {int(item["patron_id"]) for item in items}
        candidates = Patron.objects.filter(
            consortium=self.consortium, koha_patron_id__gt=self.run.after_patron_id
        ).exclude(koha_patron_id__in=seen)
        if not last_page:
            candidates = candidates.filter(koha_patron_id__lte=max(seen))
        gone = []
        for patron in candidates:
            assert patron.koha_patron_id is not None  # filtered on koha_patron_id__gt above
            try:
                self.client.patron(patron.koha_patron_id)
            except KohaNotFound:
                gone.append(patron)
        return gone

    def page_write(self, items: list[dict[str, Any]], gone: list[Patron]) -> None:
        koha_ids = [int(item["patron_id"]) for item in items]
        ours = Patron.objects.filter(consortium=self.consortium)
        existing = {patron.koha_patron_id: patron for patron in ours.filter(koha_patron_id__in=koha_ids)}
        restricted = restricted_patron_ids(patron.pk for patron in existing.values())
        cards = [str(item.get("cardnumber") or "") for item in items]
        card_owners = dict(ours.filter(cardnumber__in=cards).values_list("cardnumber", "koha_patron_id"))
        created: list[Patron] = []
        updated: list[Patron] = []
        touched: list[int] = []
        guarantors: list[tuple[int, str, str]] = []
        erased = set(
            ErasedKohaPatron.objects.of_consortium(self.consortium.pk)
            .filter(koha_patron_id__in=koha_ids)
            .values_list("koha_patron_id", flat=True)
        )
        for item in items:
            koha_id = int(item["patron_id"])
            if koha_id in erased:  # erased here; Koha still holds it: never brought back (koha.ErasedKohaPatron)
                self.counts["erased_here"] += 1
                continue
            try:
                fields = patron_fields_from_koha(item, libraries=self.libraries, day=self.day)
                owner = card_owners.get(fields["cardnumber"], koha_id)
                if owner != koha_id:
                    raise Refused("cardnumber")
            except Refused:
                self.counts["refused"] += 1
                self.refused_ids.append(koha_id)
                continue
            patron = existing.get(koha_id)
            if patron is not None and patron.pk in restricted:  # GDPR Art. 18(2): stored, not overwritten
                self.counts["restricted"] += 1
                continue
            if patron is None:
                fields["language"] = fields["language"] or self.default_language
                created.append(Patron(consortium=self.consortium, koha_patron_id=koha_id, **fields))
            else:
                fields["language"] = fields["language"] or patron.language
                if patron.status == PatronStatus.LOCKED:
                    fields["status"] = patron.status  # a lock is ours, not Koha's
                if all(getattr(patron, name) == value for name, value in fields.items()):
                    self.counts["unchanged"] += 1
                else:
                    if fields["loan_history"] != patron.loan_history:
                        patron.loan_history_chosen_on, patron.loan_history_chosen_by = None, ""
                    for name, value in fields.items():
                        setattr(patron, name, value)
                    patron.updated_at = timezone.now()
                    updated.append(patron)
                touched.append(patron.pk)
            if guarantor := _guarantor_cardnumber(item):
                guarantors.append((koha_id, guarantor, _relationship(item.get("relationship_type"))))
        self.counts["created"] += len(created)
        self.counts["updated"] += len(updated)
        matters = open_matters([patron.pk for patron in gone], day=self.day)
        for patron in gone:
            if patron.pk in matters:
                self.counts["flagged"] += 1
                self.flagged[patron.pk] = matters[patron.pk]
            else:
                self.counts["marked_removed"] += 1
        if koha_ids:
            self.run.after_patron_id = max(koha_ids)
        if self.dry_run:
            return
        Patron.objects.bulk_create(created)
        Patron.objects.bulk_update(updated, [*SYNCED_FIELDS, *LOAN_HISTORY_CHOICE_FIELDS, "updated_at"])
        synced = [*touched, *(patron.pk for patron in created)]
        KohaDeparture.objects.filter(patron_id__in=synced).delete()
        now = timezone.now()
        for patron in gone:
            KohaDeparture.objects.update_or_create(
                patron=patron, defaults={"noticed_at": now, "open_matters": matters.get(patron.pk, [])}
            )
        self.run.pending_guardians = [*self.run.pending_guardians, *guarantors]
        linked = self.guardians_link()
        categories = [DataCategory.BASIC, DataCategory.CONTACT, DataCategory.PREFERENCES]
        access_event_record(
            actor=self.actor,
            action=Action.KOHA_SYNC,
            patron_ids=[*synced, *linked, *(patron.pk for patron in gone)],
            data_categories=[*categories, DataCategory.GUARDIANS] if linked else categories,
            detail=f"{self.run.kind} run {self.run.pk} page {self.run.pages_done + 1}",
        )
        self.run.pages_done += 1
        self.run_save()

    def guardians_link(self) -> list[int]:
        """Link the wards to their guarantors found by card number; the rest wait for a later page."""
        waiting = []
        linked: list[int] = []
        ours = Patron.objects.filter(consortium=self.consortium)
        for ward_koha_id, cardnumber, relationship in self.run.pending_guardians:
            ward = ours.filter(koha_patron_id=ward_koha_id).only("pk").first()
            guardian = ours.filter(cardnumber=cardnumber).only("pk").first()
            if ward is None or guardian is None or ward.pk == guardian.pk:
                waiting.append([ward_koha_id, cardnumber, relationship])
                continue
            _link, created = Guardianship.objects.get_or_create(
                ward=ward, guardian=guardian, defaults={"relationship": relationship}
            )
            if created:
                linked += [ward.pk, guardian.pk]
        self.run.pending_guardians = waiting
        return linked

    def run_save(self) -> None:
        self.run.counts = dict(self.counts)
        self.run.refused_ids = self.refused_ids
        self.run.save()


def _run_to_do(*, consortium: Consortium, full: bool, dry_run: bool) -> tuple[SyncRun, bool]:
    """The unfinished run of the same kind to resume, or a new one; `since` from the last completed run."""
    runs = SyncRun.objects.filter(consortium=consortium)
    last_completed = runs.filter(status=SyncStatus.COMPLETED).first()
    kind = SyncKind.FULL if full or last_completed is None else SyncKind.INCREMENTAL
    unfinished = runs.exclude(status=SyncStatus.COMPLETED).first()
    if unfinished is not None and unfinished.kind == kind:
        return unfinished, True
    since = None
    if kind == SyncKind.INCREMENTAL and last_completed is not None:
        since = last_completed.started_at - datetime.timedelta(seconds=settings.KOHA_SYNC_OVERLAP_SECONDS)
    run = SyncRun(consortium=consortium, kind=kind, since=since, started_at=timezone.now())
    if not dry_run:
        if unfinished is not None:  # of the other kind: this run covers it
            runs.filter(pk=unfinished.pk).update(status=SyncStatus.FAILED, error_code="superseded")
        run.save()
    return run, False


def koha_sync_run(
    *,
    consortium: Consortium,
    full: bool = False,
    dry_run: bool = False,
    client: KohaClient | None = None,
    per_page: int = PER_PAGE,
    progress: Progress | None = None,
) -> SyncReport:
    """Sync the consortium's libraries and patrons from its Koha (see the module's docstring).

    A dry run reads all it would read and counts; it writes nothing, no access event either (it stores no
    patron data), and starts from the beginning. A KohaError stops the run (status failed, resumable).
    A second sync of the consortium while one runs refuses at once (SyncAlreadyRunning).
    """
    if dry_run:  # writes nothing, so it may read beside a running sync
        return _sync_run(
            consortium=consortium, full=full, dry_run=True, client=client, per_page=per_page, progress=progress
        )
    with _one_sync_at_a_time(consortium):
        return _sync_run(
            consortium=consortium, full=full, dry_run=False, client=client, per_page=per_page, progress=progress
        )


def _sync_run(
    *,
    consortium: Consortium,
    full: bool,
    dry_run: bool,
    client: KohaClient | None,
    per_page: int,
    progress: Progress | None,
) -> SyncReport:
    started = time.monotonic()
    client = client or client_for(consortium)
    run, resumed = _run_to_do(consortium=consortium, full=full, dry_run=dry_run)
    if dry_run and resumed:
        run = SyncRun(consortium=consortium, kind=run.kind, since=run.since, started_at=timezone.now())
        resumed = False
    sync = _Sync(consortium=consortium, client=client, run=run, dry_run=dry_run, per_page=per_page)
    try:
        sync.match_libraries()
        pages = sync.pages(progress)
    except KohaError as error:
        if not dry_run:
            run.status, run.error_code = SyncStatus.FAILED, error.code
            sync.run_save()
        raise
    if not dry_run:
        with transaction.atomic():
            if linked := sync.guardians_link():
                access_event_record(
                    actor=sync.actor,
                    action=Action.KOHA_SYNC,
                    patron_ids=linked,
                    data_categories=[DataCategory.GUARDIANS],
                    detail=f"{run.kind} run {run.pk} guardians",
                )
            run.status, run.finished_at, run.error_code = SyncStatus.COMPLETED, timezone.now(), ""
            sync.run_save()
    return SyncReport(
        run=run,
        dry_run=dry_run,
        resumed=resumed,
        counts=sync.counts,
        refused_ids=sync.refused_ids,
        unmatched_libraries=sync.unmatched_libraries,
        pages=pages,
        seconds=time.monotonic() - started,
        flagged=sync.flagged,
    )
