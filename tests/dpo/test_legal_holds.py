"""Erasure that respects archives (GDPR Art. 17(3)(b)): a ban decision within its archive period is kept,
with the notes it cites and the patron record it names (reduced), under a legal hold that says what, why and
until when, and lifts itself the day after its end. (Debts, Art. 17(3)(e): tests/koha/test_dpo_koha.py.)"""

from typing import cast

import pytest
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone

from audit.models import AccessEvent, Action
from bans.models import Ban, BanStatus, NotificationMethod
from dpo.models import ErasureTombstone, LegalHold
from dpo.services.erasure import erasures_reapply
from dpo.services.retention import retention_apply
from patrons.models import Note, NoteCategory, Patron
from sotu_silo.models import IdentityCode
from staff.models import Library
from tests.conftest import client_for
from tests.dpo.test_erasure import CODE, days, erase, subject_request, today
from tests.factories import PatronFactory

pytestmark = pytest.mark.django_db


class Decided:
    """A patron with a decided ban still in the decision archive, citing one of their two notes."""

    def __init__(self, *, retain_until=None, archived: bool = True, ends_ago: int = 40):
        rovaniemi = Library.objects.get(koha_library_id="ROV")
        self.patron = cast(
            Patron, PatronFactory(home_library=rovaniemi, email="held@example.fi", street_address="Katu 1")
        )
        self.cited = self.note(NoteCategory.BEHAVIOUR, "Threw books at the desk.")
        self.other = self.note(NoteCategory.GENERAL, "Prefers large print.")
        self.ban = Ban.objects.create(
            patron=self.patron,
            library=rovaniemi,
            grounds=["repeated_disturbance"],
            proposed_at=timezone.now() - days(ends_ago + 30),
            proposed_by="rovaniemi.staff",
            status=BanStatus.NOTIFIED,
            starts_on=today() - days(ends_ago + 20),
            ends_on=today() - days(ends_ago),
            decision_number=f"HOLD-{self.patron.pk}",
            decided_on=today() - days(ends_ago + 22),
            notification_method=NotificationMethod.LETTER,
            notified_on=today() - days(ends_ago + 22),
            archived_at=timezone.now() - days(ends_ago - 1) if archived else None,
            retain_until=retain_until,
        )
        self.ban.notes.add(self.cited)
        stored = client_for("rovaniemi.staff").put(
            f"/api/v1/patrons/{self.patron.pk}/identity-code/", {"identity_code": CODE}, content_type="application/json"
        )
        assert stored.status_code == 200
        self.request = subject_request(self.patron)

    def note(self, category: str, text: str) -> Note:
        return Note.objects.create(
            patron=self.patron, category=category, text=text, created_at=timezone.now(), created_by="rovaniemi.staff"
        )


def holds_of(plan: dict) -> dict[str, tuple]:
    return {hold["key"]: (hold["ids"], hold["ground"], hold["until"]) for hold in plan["holds"]}


def test_an_erasure_keeps_a_ban_decision_within_its_archive_period_and_says_what_why_and_until_when():
    kept_until = today() + days(600)
    world = Decided(retain_until=kept_until)
    patron = world.patron

    plan = erase(world.request.pk, dry_run=True).json()["plan"]

    assert holds_of(plan) == {
        "bans": ([world.ban.pk], "art17_3_b", kept_until.isoformat()),
        "notes": ([world.cited.pk], "art17_3_b", kept_until.isoformat()),
        "patron": ([patron.pk], "art17_3_b", kept_until.isoformat()),
    }
    assert (plan["keeps"]["bans"], plan["keeps"]["notes"], plan["keeps"]["patron"]) == (1, 1, 1)
    assert (plan["removes"]["bans"], plan["removes"]["notes"], plan["removes"]["patron"]) == (0, 1, 0)
    assert plan["removes"]["identity_code"] == 1  # no open claim: the code goes
    page = client_for("dpo").get(f"/admin/dpo/requests/{world.request.pk}/erase/").content.decode()
    assert 'class="legal-holds"' in page and kept_until.strftime("%d.%m.%Y") in page

    done = erase(world.request.pk, dry_run=False)

    assert done.status_code == 200, done.content
    # Kept: the decision, its grounds and the record it names, reduced and watched.
    assert Ban.objects.filter(pk=world.ban.pk).exists()
    assert list(Note.objects.filter(patron=patron).values_list("pk", flat=True)) == [world.cited.pk]
    reduced = Patron.objects.get(pk=patron.pk)
    assert (reduced.email, reduced.street_address, reduced.needs_protection) == ("", "", True)
    assert reduced.last_name == patron.last_name
    # Erased: everything else; the erasure is recorded and the request answered.
    assert not IdentityCode.objects.using("sotu").filter(patron_id=patron.pk).exists()
    assert ErasureTombstone.objects.filter(patron_id=patron.pk).exists()
    world.request.refresh_from_db()
    assert world.request.completed_on == today()
    rows = LegalHold.objects.filter(subject_request=world.request)
    assert sorted(rows.values_list("key", "held_until", "lifted_on")) == [
        ("bans", kept_until, None),
        ("notes", kept_until, None),
        ("patron", kept_until, None),
    ]
    shown = client_for("dpo").get(f"/api/v1/subject-requests/{world.request.pk}/").json()["legal_holds"]
    assert sorted((hold["key"], hold["held_until"]) for hold in shown) == [
        (key, kept_until.isoformat()) for key in ("bans", "notes", "patron")
    ]
    assert (
        'class="module legal-holds"'
        in client_for("dpo").get(f"/admin/dpo/subjectrequest/{world.request.pk}/change/").content.decode()
    )
    # Applying the erasure again after a restore keeps what the holds keep.
    erasures_reapply()
    assert Ban.objects.filter(pk=world.ban.pk).exists() and Patron.objects.filter(pk=patron.pk).exists()

    # The hold keeps its data on its last day, and lifts itself the day after.
    retention_apply(day=kept_until, dry_run=False)
    assert Ban.objects.filter(pk=world.ban.pk).exists() and Patron.objects.filter(pk=patron.pk).exists()
    report = retention_apply(day=kept_until + days(1), dry_run=False)
    assert not Patron.objects.filter(pk=patron.pk).exists()
    assert not Ban.objects.filter(pk=world.ban.pk).exists()
    assert not Note.objects.filter(pk=world.cited.pk).exists()
    assert set(rows.values_list("lifted_on", flat=True)) == {today()}
    lifted = next(outcome for outcome in report.outcomes if outcome.rule.name == "legal_holds")
    assert (lifted.removed, lifted.patron_ids) == (3, [patron.pk])
    event = AccessEvent.objects.filter(action=Action.RETENTION_APPLIED, detail="legal_holds").get()
    assert list(event.patron_ids) == [patron.pk]


def test_a_decision_not_archived_yet_is_held_to_the_day_the_archive_will_keep_it():
    world = Decided(archived=False, ends_ago=10)
    until = world.ban.ends_on + relativedelta(years=settings.BAN_DECISION_RETENTION_YEARS)
    plan = erase(world.request.pk, dry_run=True).json()["plan"]
    assert holds_of(plan)["bans"] == ([world.ban.pk], "art17_3_b", until.isoformat())


def test_a_decision_whose_archive_period_ended_is_not_held():
    world = Decided(retain_until=today() - days(1))
    plan = erase(world.request.pk, dry_run=True).json()["plan"]
    assert plan["holds"] == [] and plan["removes"]["patron"] == 1
    assert erase(world.request.pk, dry_run=False).status_code == 200
    assert not Patron.objects.filter(pk=world.patron.pk).exists() and not LegalHold.objects.exists()


def test_a_decision_kept_to_today_is_still_held():
    world = Decided(retain_until=today())
    assert set(holds_of(erase(world.request.pk, dry_run=True).json()["plan"])) == {"bans", "notes", "patron"}
