"""Bans and access prohibitions in force, kept in Koha as patron restrictions (debarments) through the plugin.

Koha's circulation is where a banned patron is stopped at the desk, so every ban and access prohibition in
force today must be a restriction in Koha, and nothing else may be: the restriction goes when the ban ends, is
overturned or cancelled, or the patron is erased. The plugin (koha-plugin/, CONTRACT B3-4) offers
`PUT|DELETE /api/v1/contrib/patronprivacy/restrictions/<ref>`, one ref per decision (`ban-<id>`,
`prohibition-<id>`); Koha restricts through `ends_on` (the plugin sets expiration = ends_on + 1).

`koha_restrictions_push` compares what is in force (bans' own selector `patron_bans`, whose `in_force` applies
the ban state machine: no rule is repeated here) with what was put into Koha (KohaRestriction) and puts the
missing or changed ones and deletes the rest. Each call to Koha is made outside any transaction and its
outcome recorded in a small transaction of its own (KohaRestrictionPush, and the row's state), so one failure
never stops the others and a slow Koha holds no lock. A ref that failed waits (1 minute, doubled per failure,
at most 6 hours) unless the push re-asserts everything (`everything`, the nightly run).

It runs after each ban step or prohibition recorded (bans.changes, for that patron; `push_after_commit`), and
from `manage.py koha_push_restrictions` (cron).
"""

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bans.selectors import bans_visible_to_staff, patron_bans, prohibitions_visible_to_staff
from core.dates import today
from koha import errors
from koha.client import KohaClient
from koha.errors import KohaError
from koha.models import ErasedKohaPatron, KohaRestriction, KohaRestrictionPush, PushAction, PushOutcome
from koha.selectors import client_for
from patrons.models import Patron
from patrons.restrictions import RestrictionInForce
from staff.models import Consortium

logger = logging.getLogger(__name__)

BACKOFF_FIRST = datetime.timedelta(minutes=1)
BACKOFF_MAX = datetime.timedelta(hours=6)
# The plugin's names of the two kinds are bans' own (RestrictionInForce.kind).
REF_PREFIX = {"library_use_ban": "ban", "access_prohibition": "prohibition"}


@dataclass(frozen=True)
class Wanted:
    """A restriction in force today, as the plugin's PUT carries it: ids, a library code and dates only."""

    ref: str
    patron_id: int
    koha_patron_id: int
    kind: str
    library_id: str
    starts_on: datetime.date
    ends_on: datetime.date

    def body(self) -> dict[str, object]:
        return {
            "patron_id": self.koha_patron_id,
            "kind": self.kind,
            "library_id": self.library_id,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
        }

    def pushed_as(self, row: KohaRestriction) -> bool:
        """Whether Koha has it as it is now."""
        return row.in_koha and (
            row.koha_patron_id,
            row.kind,
            row.library_id,
            row.starts_on,
            row.ends_on,
        ) == (self.koha_patron_id, self.kind, self.library_id, self.starts_on, self.ends_on)


@dataclass
class PushReport:
    put: int = 0
    deleted: int = 0
    failed: int = 0
    waiting: int = 0  # refs still in their back-off after a failure
    unchanged: int = 0
    failed_refs: list[str] = field(default_factory=list)


def _wanted(patron: Patron, day: datetime.date) -> list[Wanted]:
    koha_patron_id = patron.koha_patron_id
    if koha_patron_id is None:
        return []  # not in Koha: nothing to restrict there
    in_force: list[RestrictionInForce] = patron_bans(patron, day).in_force
    return [
        Wanted(
            ref=f"{REF_PREFIX[item.kind]}-{item.id}",
            patron_id=patron.pk,
            koha_patron_id=koha_patron_id,
            kind=item.kind,
            library_id=item.library,
            starts_on=item.starts_on,
            ends_on=item.ends_on,
        )
        for item in in_force
    ]


def _wanted_of(consortium: Consortium, patron: Patron | None, day: datetime.date) -> dict[str, Wanted]:
    """What must be in Koha today: the in-force restrictions of the consortium's patrons that have a Koha id.

    Not an erased patron's: an erasure may keep the patron's ban decision and a reduced record under a legal hold
    (GDPR Art. 17(3)(b)), as an archived record, but the patron is no longer restricted in Koha (ErasedKohaPatron
    says who was erased)."""
    erased = ErasedKohaPatron.objects.filter(consortium=consortium).values("koha_patron_id")
    if patron is not None:
        koha_id = patron.koha_patron_id
        was_erased = koha_id is not None and erased.filter(koha_patron_id=koha_id).exists()
        patrons = [patron] if patron.consortium_id == consortium.pk and not was_erased else []
    else:
        # Only patrons with something a staff view shows can have anything in force; bans' selectors say which.
        patrons = list(
            Patron.objects.of_consortium(consortium.pk)
            .filter(koha_patron_id__isnull=False)
            .exclude(koha_patron_id__in=erased)
            .filter(
                Q(pk__in=bans_visible_to_staff(day).values("patron_id"))
                | Q(pk__in=prohibitions_visible_to_staff(day).values("patron_id"))
            )
            .order_by("pk")
        )
    return {wanted.ref: wanted for one in patrons for wanted in _wanted(one, day)}


def _backoff(attempts: int) -> datetime.timedelta:
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def _waiting(row: KohaRestriction | None, now: datetime.datetime) -> bool:
    return row is not None and row.next_attempt_at is not None and row.next_attempt_at > now


def _record(consortium: Consortium, ref: str, action: str, error: KohaError | None, at: datetime.datetime) -> None:
    KohaRestrictionPush.objects.create(
        consortium=consortium,
        ref=ref,
        action=action,
        outcome=PushOutcome.FAILED if error else PushOutcome.DONE,
        http_status=error.status if error else None,
        error_code=error.code if error else "",
        at=at,
    )


def _failed(consortium: Consortium, ref: str, action: str, error: KohaError, wanted: Wanted | None) -> None:
    """Record the failure and put the ref's next attempt off (doubling per failure in a row).

    The cron's push and the push after a ban step can fail on the same ref at the same time: the row is taken
    locked, or created by get_or_create, whose insert runs in a savepoint of its own and, when the other push
    inserted it first, takes that one instead; so neither push raises, and both failures count."""
    now = timezone.now()
    with transaction.atomic():
        _record(consortium, ref, action, error, now)
        rows = KohaRestriction.objects.select_for_update()
        if wanted is None:
            row = rows.filter(consortium=consortium, ref=ref).first()
            if row is None:
                return  # a DELETE of a ref nothing tracks any more: the record is all there is
        else:
            row, _created = rows.get_or_create(consortium=consortium, ref=ref, defaults=_fields(wanted))
        row.attempts += 1
        row.next_attempt_at = now + _backoff(row.attempts)
        row.last_error_code = error.code
        row.save(update_fields=["attempts", "next_attempt_at", "last_error_code", "updated_at"])


def _fields(wanted: Wanted) -> dict[str, object]:
    return {
        "patron_id": wanted.patron_id,
        "koha_patron_id": wanted.koha_patron_id,
        "kind": wanted.kind,
        "library_id": wanted.library_id,
        "starts_on": wanted.starts_on,
        "ends_on": wanted.ends_on,
    }


def _put(client: KohaClient | KohaError, consortium: Consortium, wanted: Wanted) -> bool:
    try:
        if isinstance(client, KohaError):
            raise client
        answer = client.restriction_put(wanted.ref, wanted.body())
    except KohaError as error:
        _failed(consortium, wanted.ref, PushAction.PUT, error, wanted)
        return False
    restriction_id = answer.get("koha_restriction_id")
    with transaction.atomic():
        _record(consortium, wanted.ref, PushAction.PUT, None, timezone.now())
        KohaRestriction.objects.update_or_create(
            consortium=consortium,
            ref=wanted.ref,
            defaults={
                **_fields(wanted),
                "koha_restriction_id": restriction_id if isinstance(restriction_id, int) else None,
                "in_koha": True,
                "attempts": 0,
                "next_attempt_at": None,
                "last_error_code": "",
            },
        )
    return True


def koha_restriction_remove(*, client: KohaClient | KohaError, consortium: Consortium, ref: str) -> bool:
    """DELETE one ref from Koha and record it; the row (if any) goes when Koha confirms, and stays, backed off
    for the next push, when it does not. Whether it is gone. `client` is the error that keeps every call from
    being made, when there is one."""
    try:
        if isinstance(client, KohaError):
            raise client
        client.restriction_delete(ref)
    except KohaError as error:
        _failed(consortium, ref, PushAction.DELETE, error, None)
        return False
    with transaction.atomic():
        _record(consortium, ref, PushAction.DELETE, None, timezone.now())
        KohaRestriction.objects.filter(consortium=consortium, ref=ref).delete()
    return True


def koha_restrictions_removed_with_patron(*, consortium: Consortium, refs: tuple[str, ...]) -> None:
    """Koha deleted the patron, and with it (ON DELETE CASCADE) every restriction of theirs: Koha confirmed the
    removal of `refs`, whose rows (detached by the erasure) go."""
    KohaRestriction.objects.filter(consortium=consortium, ref__in=refs, patron__isnull=True).delete()


def koha_restrictions_push(
    *,
    consortium: Consortium,
    patron: Patron | None = None,
    everything: bool = False,
    retries: int | None = None,
    timeout: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PushReport:
    """Make the consortium's Koha hold exactly the bans and access prohibitions in force today (of `patron`
    only, when given): PUT the missing and changed, DELETE those no longer in force, and those of erased
    patrons (rows without a patron, when no `patron` is given). `everything` PUTs every one in force again and
    ignores the back-off (the nightly run). No Koha connection: nothing to do.

    Never inside a transaction: each call to Koha is followed by its own small one recording the outcome.
    `retries` and `timeout` override the client's (the push after a ban step makes one short attempt; the next
    run retries).
    """
    report = PushReport()
    client: KohaClient | KohaError
    try:
        client = client_for(consortium)
    except errors.KohaNotConnected:
        return report
    except KohaError as error:  # the secret cannot be read: every call fails, and is recorded as such
        client = error
    if isinstance(client, KohaClient):
        if retries is not None:
            client.retries = retries
        if timeout is not None:
            client.timeout = timeout
    now, day = timezone.now(), today()
    wanted = _wanted_of(consortium, patron, day)
    rows = KohaRestriction.objects.filter(consortium=consortium)
    if patron is not None:
        rows = rows.filter(patron=patron)
    current = {row.ref: row for row in rows}
    to_put = []
    for ref, item in wanted.items():
        row = current.get(ref)
        if not everything and row is not None and item.pushed_as(row):
            report.unchanged += 1
        elif not everything and _waiting(row, now):
            report.waiting += 1
        else:
            to_put.append(item)
    to_delete = []
    for ref, row in current.items():
        if ref in wanted:
            continue
        if not everything and _waiting(row, now):
            report.waiting += 1
        else:
            to_delete.append(ref)
    total = len(to_put) + len(to_delete)
    for done, item in enumerate(to_put, start=1):
        if _put(client, consortium, item):
            report.put += 1
        else:
            report.failed_refs.append(item.ref)
        if progress is not None:
            progress(done, total)
    for done, ref in enumerate(to_delete, start=len(to_put) + 1):
        if koha_restriction_remove(client=client, consortium=consortium, ref=ref):
            report.deleted += 1
        else:
            report.failed_refs.append(ref)
        if progress is not None:
            progress(done, total)
    report.failed = len(report.failed_refs)
    return report


# The push after a ban step: one attempt per ref, so the decider's page does not wait out the client's retries.
AFTER_COMMIT_RETRIES = 0


def push_after_commit(patron_id: int) -> None:
    """The listener of bans.changes: push the patron's restrictions once a ban step or prohibition committed.

    One short attempt per ref (KOHA_PUSH_AFTER_COMMIT_TIMEOUT_SECONDS): it runs in the decider's request, so a
    hanging Koha delays the page by at most that per ref; the cron's push makes the full attempts. Never
    raises: the step is done, and a failure here must not turn the decider's page into an error. A failed call
    is recorded by the push (and retried by the next run); anything else is logged by id only.
    """
    try:
        patron = Patron.objects.select_related("consortium").filter(pk=patron_id).first()
        if patron is not None:
            koha_restrictions_push(
                consortium=patron.consortium,
                patron=patron,
                retries=AFTER_COMMIT_RETRIES,
                timeout=settings.KOHA_PUSH_AFTER_COMMIT_TIMEOUT_SECONDS,
            )
    except Exception:
        logger.exception("Pushing the restrictions of patron %s to Koha failed; the next run retries.", patron_id)
