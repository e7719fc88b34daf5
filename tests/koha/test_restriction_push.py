"""Bans and access prohibitions in force become Koha restrictions through the plugin's route, and go when they end.

Against the fake Koha over HTTP: the PUT's expiration, a scheduled ban waiting for its day, ended and cancelled
bans removed, another consortium's bans never sent, Koha down (recorded, backed off, retried), the push after a
ban step's commit (and none after a rollback), and no personal data in any body or record.
"""

import datetime
import json
import threading
import time

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from bans.models import Ban, BanStatus
from koha.errors import unreachable
from koha.models import KohaConnection, KohaRestriction, KohaRestrictionPush
from koha.privacy import push_records_due
from koha.restrictions import Wanted, _failed, koha_restrictions_push, push_after_commit
from patrons.models import Patron
from staff.models import Consortium, Library
from tests.conftest import client_for
from tests.dpo.test_access_report import make_request
from tests.dpo.test_erasure import erase
from tests.koha.connected import connect_to_fake
from tests.patrons.procedure import (
    MONDAY,
    SECRETARY,
    as_user,
    ban_through,
    court_appeal,
    days,
    notify,
    ok,
    on,
    post,
    rectification,
    rectification_notice,
)

pytestmark = pytest.mark.django_db

LAPLAND = "lapin-kirjastot"
PLUGIN = "/api/v1/contrib/patronprivacy/restrictions/"


@pytest.fixture
def koha(fake_koha, settings):
    settings.KOHA_RETRIES = 1
    settings.KOHA_RETRY_BASE_DELAY_SECONDS = 0.001
    connect_to_fake(Consortium.objects.get(slug=LAPLAND), fake_koha)
    return fake_koha


@pytest.fixture
def patron(koha) -> Patron:
    """A Lapland patron (nobody's guardian) who is also in Koha."""
    patron = Patron.objects.filter(consortium__slug=LAPLAND, wards__isnull=True).order_by("pk").first()
    assert patron is not None
    koha_patron = koha.add_patron(surname="Kohala", library_id="ROV")
    Patron.objects.filter(pk=patron.pk).update(koha_patron_id=koha_patron["patron_id"])
    patron.refresh_from_db()
    return patron


def push(**options) -> object:
    return koha_restrictions_push(consortium=Consortium.objects.get(slug=LAPLAND), **options)


def plugin_calls(fake) -> list[tuple[str, str]]:
    return [(r.method, r.path.removeprefix(PLUGIN)) for r in fake.requests if r.path.startswith(PLUGIN)]


def test_a_ban_in_force_is_put_into_koha_restricting_through_its_last_day(koha, patron):
    with on(MONDAY):
        ban = ban_through(patron.pk, length=10)
        report = push()
    ref = f"ban-{ban['id']}"
    assert (report.put, report.failed) == (1, 0)
    restriction = koha.restrictions[ref]
    last_day = MONDAY + days(9)
    assert restriction["expiration"] == (last_day + days(1)).isoformat()  # Koha restricts while expiration > today
    assert (restriction["patron_id"], restriction["kind"], restriction["library_id"]) == (
        patron.koha_patron_id,
        "library_use_ban",
        "ROV",
    )
    assert (restriction["starts_on"], restriction["ends_on"]) == (MONDAY.isoformat(), last_day.isoformat())
    row = KohaRestriction.objects.get(ref=ref)
    assert row.in_koha and row.koha_restriction_id == restriction["koha_restriction_id"]
    assert list(KohaRestrictionPush.objects.values_list("ref", "action", "outcome")) == [(ref, "put", "done")]
    with on(MONDAY + days(1)):
        again = push()
    assert (again.put, again.unchanged) == (0, 1)  # nothing changed: no call
    assert plugin_calls(koha) == [("PUT", ref)]


def test_a_scheduled_ban_waits_for_its_first_day_and_goes_the_day_after_its_last(koha, patron):
    first = MONDAY + days(1)
    with on(MONDAY):
        ban = ban_through(patron.pk, starts_on=first, length=3)
        assert push().put == 0
    ref = f"ban-{ban['id']}"
    assert ref not in koha.restrictions
    with on(first):
        assert push().put == 1
    assert ref in koha.restrictions
    with on(first + days(2)):  # the last day: still in force
        assert push().deleted == 0
    with on(first + days(3)):
        assert push().deleted == 1
    assert ref not in koha.restrictions
    assert not KohaRestriction.objects.filter(ref=ref).exists()
    assert plugin_calls(koha) == [("PUT", ref), ("DELETE", ref)]


@pytest.mark.parametrize("how", ["cancelled", "overturned", "overturned_by_the_court"])
def test_a_cancelled_or_overturned_ban_is_removed_from_koha(koha, patron, how):
    with on(MONDAY):
        ban = ban_through(patron.pk, length=10)
        push()
        director = as_user("rovaniemi.director")
        if how == "cancelled":
            ok(post(director, f"/api/v1/bans/{ban['id']}/cancel/", {"reason": "Asia sovittiin."}))
        elif how == "overturned":
            ok(rectification(as_user(SECRETARY), ban["id"], MONDAY, "overturned", decided_on=MONDAY.isoformat()))
        else:
            ok(rectification(as_user(SECRETARY), ban["id"], MONDAY, "upheld"))
            ok(rectification_notice(as_user("rovaniemi.staff"), ban["id"], MONDAY))
            ok(court_appeal(director, ban["id"], MONDAY))
            assert push().deleted == 0  # pending in court: the ban stays in force
            ok(court_appeal(director, ban["id"], MONDAY, "overturned"))
        assert push().deleted == 1
    assert f"ban-{ban['id']}" not in koha.restrictions


def test_another_consortiums_bans_are_never_sent_to_this_koha(koha, mikkeli_patron):
    Patron.objects.filter(pk=mikkeli_patron.pk).update(koha_patron_id=1)  # an id this Koha has too
    koha.add_patron(surname="Someone", library_id="ROV")
    library = Library.objects.filter(municipality__consortium__slug="mikkelin-seutukirjasto").first()
    with on(MONDAY):
        Ban.objects.create(
            patron=mikkeli_patron,
            library=library,
            starts_on=MONDAY,
            ends_on=MONDAY + days(5),
            status=BanStatus.NOTIFIED,
            proposed_at=datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC),
        )
        assert push().put == 0
        mikkeli_patron.refresh_from_db()
        assert push(patron=mikkeli_patron).put == 0
    assert koha.restrictions == {} and plugin_calls(koha) == []


def test_a_patron_without_a_koha_id_is_skipped(koha, patron):
    with on(MONDAY):
        ban_through(patron.pk, length=5)
        Patron.objects.filter(pk=patron.pk).update(koha_patron_id=None)
        assert push().put == 0
    assert plugin_calls(koha) == []


def test_koha_down_is_recorded_backed_off_and_retried_until_it_succeeds(koha, patron):
    with on(MONDAY):
        ban = ban_through(patron.pk, length=10)
    ref = f"ban-{ban['id']}"
    noon = datetime.datetime.combine(MONDAY, datetime.time(12), tzinfo=datetime.UTC)
    koha.down()
    with time_machine.travel(noon, tick=False):
        report = push()
        assert (report.put, report.failed, report.failed_refs) == (0, 1, [ref])
        row = KohaRestriction.objects.get(ref=ref)
        assert (row.in_koha, row.attempts, row.last_error_code) == (False, 1, "koha_unreachable")
        assert row.next_attempt_at == noon + datetime.timedelta(minutes=1)
        failed = KohaRestrictionPush.objects.get()
        assert (failed.action, failed.outcome, failed.error_code) == ("put", "failed", "koha_unreachable")
    with time_machine.travel(noon + datetime.timedelta(seconds=61), tick=False):
        assert push().failed == 1  # second failure in a row: two minutes
        assert KohaRestriction.objects.get(ref=ref).next_attempt_at == noon + datetime.timedelta(seconds=181)
    koha.up()
    with time_machine.travel(noon + datetime.timedelta(seconds=120), tick=False):
        report = push()
        assert (report.put, report.waiting) == (0, 1)  # still in its back-off: Koha is not asked
        assert plugin_calls(koha) == []
    with time_machine.travel(noon + datetime.timedelta(seconds=182), tick=False):
        assert push().put == 1
    row = KohaRestriction.objects.get(ref=ref)
    assert (row.in_koha, row.attempts, row.next_attempt_at, row.last_error_code) == (True, 0, None, "")
    assert ref in koha.restrictions


def test_the_back_off_doubles_up_to_six_hours_and_all_ignores_it(koha, patron):
    with on(MONDAY):
        ban = ban_through(patron.pk, length=10)
        ref = f"ban-{ban['id']}"
        koha.edit_borrowers = False  # Koha's API user lacks borrowers: edit_borrowers
        for _attempt in range(12):
            KohaRestriction.objects.filter(ref=ref).update(next_attempt_at=None)
            push()
        row = KohaRestriction.objects.get(ref=ref)
        assert (row.attempts, row.last_error_code) == (12, "koha_auth_failed")
        assert datetime.timedelta(hours=5, minutes=59) < row.next_attempt_at - KohaRestrictionPush.objects.first().at
        koha.edit_borrowers = True
        assert push().waiting == 1
        assert push(everything=True).put == 1


def test_all_puts_every_one_in_force_again(koha, patron):
    with on(MONDAY):
        ban = ban_through(patron.pk, length=10)
        push()
        koha.store.restrictions.clear()  # removed in Koha by hand
        assert push().put == 0
        assert push(everything=True).put == 1
    assert f"ban-{ban['id']}" in koha.restrictions


def test_the_push_follows_a_ban_step_once_it_commits_and_never_after_a_rollback(
    koha, patron, django_capture_on_commit_callbacks
):
    with on(MONDAY):
        decided = ban_through(patron.pk, length=10, step="decided")
        ref = f"ban-{decided['id']}"
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
            ok(notify(as_user("rovaniemi.staff"), decided["id"], MONDAY))
            raise RuntimeError("the step's transaction rolls back")
        assert Ban.objects.get(pk=decided["id"]).status == BanStatus.DECIDED
        assert plugin_calls(koha) == []
        with django_capture_on_commit_callbacks(execute=True):
            ok(notify(as_user("rovaniemi.staff"), decided["id"], MONDAY))
        assert ref in koha.restrictions
        # Koha down during the step: the step succeeds, the failure is recorded for the next run.
        koha.down()
        with django_capture_on_commit_callbacks(execute=True):
            ok(post(as_user("rovaniemi.director"), f"/api/v1/bans/{decided['id']}/cancel/", {"reason": "Sovittu."}))
        koha.up()
    assert KohaRestrictionPush.objects.filter(ref=ref, action="delete", outcome="failed").exists()
    assert KohaRestriction.objects.get(ref=ref).last_error_code == "koha_unreachable"


def test_no_personal_data_in_the_bodies_or_the_records(koha, patron):
    with on(MONDAY):
        ban = ban_through(patron.pk, length=10, number="ROV-2027-77")
        push()
    sent = b"".join(koha.request_bodies).decode()
    bodies = [
        json.loads(body)
        for body, r in zip(koha.request_bodies, koha.requests, strict=True)
        if r.path.startswith(PLUGIN)
    ]
    assert bodies and all(set(body) == {"patron_id", "kind", "library_id", "starts_on", "ends_on"} for body in bodies)
    stored = Ban.objects.get(pk=ban["id"])
    for personal in (patron.first_name, patron.last_name, patron.cardnumber, stored.reasons, "ROV-2027-77"):
        assert personal not in sent
    records = json.dumps(list(KohaRestrictionPush.objects.values()), default=str) + json.dumps(
        list(KohaRestriction.objects.values()), default=str
    )
    for personal in (patron.first_name, patron.last_name, patron.cardnumber, stored.reasons):
        assert personal not in records


def test_the_command_pushes_each_connected_consortium_and_fails_when_a_push_failed(koha, patron, capsys):
    with on(MONDAY):
        ban = ban_through(patron.pk, length=10)
        call_command("koha_push_restrictions", "--consortium", LAPLAND)
        assert capsys.readouterr().out.startswith("lapin-kirjastot: ")  # in the language the command runs in
        assert f"ban-{ban['id']}" in koha.restrictions
        koha.edit_borrowers = False
        with pytest.raises(CommandError, match="1 "):
            call_command("koha_push_restrictions", "--all")
        with pytest.raises(CommandError):
            call_command("koha_push_restrictions", "--consortium", "no-such-consortium")


def test_push_records_are_kept_two_years(koha, patron):
    with on(MONDAY):
        ban_through(patron.pk, length=10)
        push()
    assert not push_records_due(MONDAY + datetime.timedelta(days=700)).exists()
    assert push_records_due(MONDAY + datetime.timedelta(days=732)).count() == 1


@pytest.mark.parametrize("koha_keeps_the_patron", [False, True])
def test_an_erased_patrons_restrictions_go_with_it(koha, patron, koha_keeps_the_patron):
    with on(MONDAY):
        ban = ban_through(patron.pk, length=10)
        push()
        ref = f"ban-{ban['id']}"
        if koha_keeps_the_patron:
            koha.add_checkout(patron.koha_patron_id)  # Koha refuses the patron's deletion (has_checkouts)
        request = make_request(patron, kind="erasure")
        assert erase(request.pk, dry_run=False).status_code == 200
        assert not KohaRestriction.objects.filter(ref=ref).exists()
        # Deleted with the patron in Koha, or one by one when Koha keeps the patron.
        assert ref not in koha.restrictions
        assert (("DELETE", ref) in plugin_calls(koha)) is koha_keeps_the_patron
        assert push().deleted == 0


# --- the second reader's findings (issue 13 review, B3, B4, B11) ----------------------------------------------


def test_a_404_on_the_delete_is_the_plugin_missing_and_is_retried_until_the_restriction_is_gone(koha, patron):
    """The plugin answers 204 to a DELETE also for a ref already gone, so a 404 means its route is missing
    (uninstalled, disabled, Plack not restarted): counting it as removed would leave the patron restricted."""
    noon = datetime.datetime.combine(MONDAY, datetime.time(12), tzinfo=datetime.UTC)
    with time_machine.travel(noon, tick=False):
        ban = ban_through(patron.pk, length=10)
        push()
        ok(post(as_user("rovaniemi.director"), f"/api/v1/bans/{ban['id']}/cancel/", {"reason": "Sovittu."}))
        ref = f"ban-{ban['id']}"
        koha.plugin_installed = False
        report = push()
    assert (report.deleted, report.failed_refs) == (0, [ref])
    assert ref in koha.restrictions  # still restricting the patron at Koha's desk
    row = KohaRestriction.objects.get(ref=ref)
    assert (row.attempts, row.last_error_code) == (1, "koha_plugin_missing")
    failed = KohaRestrictionPush.objects.filter(action="delete").get()
    assert (failed.outcome, failed.http_status, failed.error_code) == ("failed", 404, "koha_plugin_missing")
    koha.plugin_installed = True
    with time_machine.travel(noon + datetime.timedelta(minutes=2), tick=False):
        assert push().deleted == 1
    assert ref not in koha.restrictions and not KohaRestriction.objects.filter(ref=ref).exists()


def test_a_404_on_the_put_is_the_plugin_missing_unless_the_plugin_says_the_patron_is_not_in_koha(koha, patron):
    with on(MONDAY):
        ban = ban_through(patron.pk, length=10)
        ref = f"ban-{ban['id']}"
        koha.plugin_installed = False
        assert push().failed == 1
        assert KohaRestriction.objects.get(ref=ref).last_error_code == "koha_plugin_missing"
        koha.plugin_installed = True
        koha.store.patron_delete(patron.koha_patron_id)  # the plugin's own 404: patron_not_found
        assert push(everything=True).failed == 1
        assert KohaRestriction.objects.get(ref=ref).last_error_code == "koha_not_found"


def no_personal_data_in_restriction_rows(patron: Patron) -> None:
    rows = json.dumps(list(KohaRestriction.objects.values()), default=str)
    for personal in (patron.first_name, patron.last_name, patron.cardnumber):
        assert personal not in rows


def test_an_erasure_while_koha_is_down_keeps_the_restriction_to_remove_until_koha_confirms(koha, patron):
    noon = datetime.datetime.combine(MONDAY, datetime.time(12), tzinfo=datetime.UTC)
    with time_machine.travel(noon, tick=False):
        ban = ban_through(patron.pk, length=10)
        push()
        ref = f"ban-{ban['id']}"
        request = make_request(patron, kind="erasure")
        koha.down()
        assert erase(request.pk, dry_run=False).status_code == 200
        koha.up()
    assert ref in koha.restrictions  # Koha kept the patron and the restriction
    row = KohaRestriction.objects.get(ref=ref)
    assert (row.patron_id, row.in_koha, row.last_error_code) == (None, True, "koha_unreachable")
    assert row.koha_patron_id == patron.koha_patron_id  # what the removal needs, and no more
    no_personal_data_in_restriction_rows(patron)
    assert KohaRestrictionPush.objects.filter(ref=ref, action="delete", outcome="failed").exists()
    page = client_for("dpo").get("/admin/koha/koharestriction/?patron__isempty=1").content.decode()
    assert ref in page and "koha_unreachable" in page and patron.last_name not in page
    with time_machine.travel(noon + datetime.timedelta(seconds=30), tick=False):
        assert push().waiting == 1  # backed off like any failure
    with time_machine.travel(noon + datetime.timedelta(minutes=2), tick=False):
        report = push()
    assert (report.deleted, report.failed) == (1, 0)
    assert ref not in koha.restrictions
    assert not KohaRestriction.objects.filter(ref=ref).exists()
    # The ban decision is kept under a legal hold (with a reduced record naming the patron), still within its
    # dates; yet the erased patron is not restricted in Koha again, by the next push or the nightly one.
    assert Ban.objects.filter(pk=ban["id"]).exists()
    with time_machine.travel(noon + datetime.timedelta(minutes=3), tick=False):
        assert (push().put, push(everything=True).put) == (0, 0)
    assert ref not in koha.restrictions


def test_an_erasure_whose_koha_secret_cannot_be_read_records_each_removal_as_failed(koha, patron):
    with on(MONDAY):
        ban = ban_through(patron.pk, length=10)
        push()
        ref = f"ban-{ban['id']}"
        request = make_request(patron, kind="erasure")
        KohaConnection.objects.filter(consortium__slug=LAPLAND).update(secret_key_id="gone")
        assert erase(request.pk, dry_run=False).status_code == 200
    failed = KohaRestrictionPush.objects.get(ref=ref, action="delete")
    assert (failed.outcome, failed.error_code) == ("failed", "koha_secret_unreadable")
    row = KohaRestriction.objects.get(ref=ref)
    assert (row.patron_id, row.last_error_code) == (None, "koha_secret_unreadable")
    no_personal_data_in_restriction_rows(patron)
    assert ref in koha.restrictions


def test_pushes_failing_on_the_same_ref_one_after_the_other_count_both_failures(koha, patron):
    """The push after a ban step and the cron's push, on a ref whose row the other one created."""
    with on(MONDAY):
        ban = ban_through(patron.pk, length=10)
        ref = f"ban-{ban['id']}"
        koha.down()
        push_after_commit(patron.pk)
        assert KohaRestriction.objects.get(ref=ref).attempts == 1
        assert push(everything=True).failed == 1
    row = KohaRestriction.objects.get(ref=ref)
    assert (row.attempts, row.in_koha, row.last_error_code) == (2, False, "koha_unreachable")
    assert KohaRestrictionPush.objects.filter(ref=ref, outcome="failed").count() == 2


def test_the_push_after_a_ban_step_waits_for_a_hanging_koha_only_its_short_timeout(koha, patron, settings):
    settings.KOHA_PUSH_AFTER_COMMIT_TIMEOUT_SECONDS = 0.3
    with on(MONDAY):
        ban = ban_through(patron.pk, length=10)
        koha.delay = 3.0  # Koha answers, but far too late
        started = time.perf_counter()
        push_after_commit(patron.pk)
        assert time.perf_counter() - started < 1.5  # one short attempt, not KOHA_TIMEOUT_SECONDS with retries
        koha.delay = 0.0
    row = KohaRestriction.objects.get(ref=f"ban-{ban['id']}")
    assert (row.in_koha, row.last_error_code) == (False, "koha_unreachable")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two writers at once need a real database server")
def test_two_pushes_failing_at_once_on_a_new_ref_both_record_their_failure(monkeypatch):
    """The race: the cron's push and the push after a ban step both fail on a ref with no row yet, and both
    insert it. Two threads with their own connections, as two processes; both reach the insert before either
    commits (a barrier in save), so the second insert meets the first's unique key."""
    consortium = Consortium.objects.get(slug=LAPLAND)
    patron = Patron.objects.filter(consortium=consortium).order_by("pk").first()
    wanted = Wanted(
        ref="ban-987654321",
        patron_id=patron.pk,
        koha_patron_id=4242,
        kind="library_use_ban",
        library_id="ROV",
        starts_on=MONDAY,
        ends_on=MONDAY + days(9),
    )
    both_inserting = threading.Barrier(2, timeout=10)
    save = KohaRestriction.save

    def save_together(self, *args, **kwargs):
        if self._state.adding:
            both_inserting.wait()
        return save(self, *args, **kwargs)

    monkeypatch.setattr(KohaRestriction, "save", save_together)
    raised: list[BaseException] = []

    def fail_once() -> None:
        try:
            _failed(consortium, wanted.ref, "put", unreachable("https://koha.example/api/v1"), wanted)
        except BaseException as error:  # reported to the test's thread
            raised.append(error)
        finally:
            connection.close()

    def clean_up() -> None:
        try:
            KohaRestriction.objects.filter(ref=wanted.ref).delete()
            KohaRestrictionPush.objects.filter(ref=wanted.ref).delete()
        finally:
            connection.close()

    threads = [threading.Thread(target=fail_once) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert raised == []
        row = KohaRestriction.objects.get(ref=wanted.ref)
        assert (row.attempts, row.last_error_code) == (2, "koha_unreachable")
        assert KohaRestrictionPush.objects.filter(ref=wanted.ref, outcome="failed").count() == 2
    finally:
        cleaner = threading.Thread(target=clean_up)  # the threads committed: remove what they left
        cleaner.start()
        cleaner.join(timeout=30)
