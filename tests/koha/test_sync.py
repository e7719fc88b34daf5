"""koha_sync against the fake Koha over HTTP: full and incremental runs, resume, errors, gone patrons, guarantors."""

import datetime
import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import translation

from audit.models import AccessEvent, Action
from bans.models import Ban, BanStatus
from dpo.models import SubjectRequest
from koha import sync
from koha.models import KohaDeparture, SyncRun, SyncStatus
from patrons.models import GuardianRelationship, Guardianship, LoanHistoryPreference, Patron, PatronStatus
from tests.factories import LibraryFactory, MunicipalityFactory
from tests.koha.connected import connect_to_fake

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("quick_retries"),
]

UTC = datetime.UTC


@pytest.fixture
def quick_retries():
    with override_settings(KOHA_RETRY_BASE_DELAY_SECONDS=0.001, KOHA_RETRIES=2):
        yield


@pytest.fixture
def consortium(fake_koha):
    municipality = MunicipalityFactory(consortium__slug="synckimppa")
    LibraryFactory(municipality=municipality, koha_library_id="SYNC1", name="Rovaniemi")
    fake_koha.add_library(library_id="SYNC1", name="Rovaniemen kirjasto")
    connect_to_fake(municipality.consortium, fake_koha)
    return municipality.consortium


def koha_patron(fake_koha, **fields):
    fields.setdefault("firstname", "Aino")
    fields.setdefault("library_id", "SYNC1")
    return fake_koha.add_patron(**fields)


def run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("koha_sync", "synckimppa", *args, stdout=out, stderr=err)
    return out.getvalue()


def count_of(out: str, label: str) -> int:
    return int(re.search(rf"^{label} +(\d+)$", out, re.MULTILINE).group(1))


def patron_lists(fake_koha) -> list[dict]:
    return [r.query for r in fake_koha.requests if r.method == "GET" and r.path == "/api/v1/patrons"]


def test_full_sync_maps_koha_fields_and_prints_the_summary(fake_koha, consortium):
    koha = koha_patron(
        fake_koha,
        surname="Virtanen",
        cardnumber="K1",
        date_of_birth="1980-05-17",
        email="aino@example.fi",
        privacy=2,
        lang="sv-SE",
        expiry_date="2020-01-01",
        city="Rovaniemi",
    )
    fake_koha.add_library(library_id="XYZ", name="Not ours")
    out = run("--full", "--per-page", "2")
    patron = Patron.objects.get(consortium=consortium, koha_patron_id=koha["patron_id"])
    assert (patron.cardnumber, patron.first_name, patron.last_name) == ("K1", "Aino", "Virtanen")
    assert patron.date_of_birth == datetime.date(1980, 5, 17)
    assert patron.loan_history == LoanHistoryPreference.NEVER_KEEP
    assert patron.language == "sv"
    assert patron.card_expires_on == datetime.date(2020, 1, 1) and patron.status == PatronStatus.EXPIRED
    assert patron.home_library.koha_library_id == "SYNC1"
    assert "patrons created" in out and "libraries unmatched" in out and "XYZ" in out
    assert SyncRun.objects.get(consortium=consortium).status == SyncStatus.COMPLETED
    assert count_of(run("--full"), "patrons unchanged") == 1


def test_a_bad_record_is_refused_and_listed_by_koha_id_never_by_name(fake_koha, consortium):
    good = koha_patron(fake_koha, surname="Hyvä", cardnumber="K1")
    bad = koha_patron(fake_koha, surname="Salainennimi", firstname="", cardnumber="K2")
    other_library = koha_patron(fake_koha, surname="Muualta", cardnumber="K3", library_id="XYZ")
    out = run("--full")
    assert Patron.objects.filter(consortium=consortium).count() == 1
    assert Patron.objects.get(consortium=consortium).koha_patron_id == good["patron_id"]
    assert f"{bad['patron_id']}, {other_library['patron_id']}" in out
    assert "Salainennimi" not in out and "Muualta" not in out
    run_row = SyncRun.objects.get(consortium=consortium)
    assert run_row.counts["refused"] == 2 and run_row.refused_ids == [bad["patron_id"], other_library["patron_id"]]


def test_incremental_fetches_only_changes_and_misses_no_same_second_change(fake_koha, consortium):
    fake_koha.now = datetime.datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)
    first = koha_patron(fake_koha, surname="Eka", cardnumber="K1")
    second = koha_patron(fake_koha, surname="Toka", cardnumber="K2")
    run()  # the first run is full
    started = SyncRun.objects.get().started_at
    # Koha's clock: the change lands in the very second the last sync started (whole seconds).
    fake_koha.now = started.replace(microsecond=0)
    fake_koha.update_patron(second["patron_id"], surname="Toinen")
    fake_koha.requests.clear()
    with override_settings(KOHA_SYNC_OVERLAP_SECONDS=0):
        out = run()
    queries = patron_lists(fake_koha)
    q = json.loads(queries[0]["q"][0])
    assert q["updated_on"] == {">=": started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert Patron.objects.get(koha_patron_id=second["patron_id"]).last_name == "Toinen"
    assert Patron.objects.get(koha_patron_id=first["patron_id"]).last_name == "Eka"
    assert count_of(out, "patrons updated") == 1
    assert count_of(out, "patrons unchanged") == 0  # the unchanged patron was not fetched


def test_resume_after_koha_outage_continues_from_the_last_page_written(fake_koha, consortium):
    ids = [koha_patron(fake_koha, surname=f"S{n}", cardnumber=f"K{n}")["patron_id"] for n in range(5)]
    fake_koha.requests.clear()
    original = fake_koha.answer
    served = []

    def answer(incoming):
        if incoming.path == "/api/v1/patrons" and incoming.method == "GET":
            served.append(1)
            if len(served) == 2:
                fake_koha.fail_next(503, times=10, path="/api/v1/patrons")
        return original(incoming)

    fake_koha.answer = answer
    try:
        with pytest.raises(CommandError) as failure:
            run("--per-page", "2")
    finally:
        del fake_koha.answer
    assert "503" in str(failure.value)
    stopped = SyncRun.objects.get()
    assert stopped.status == SyncStatus.FAILED and stopped.pages_done == 1 and stopped.after_patron_id == ids[1]
    assert Patron.objects.filter(consortium=consortium).count() == 2
    fake_koha._faults.clear()
    fake_koha.requests.clear()
    out = run("--per-page", "2")
    assert "resumed" in out
    first_q = json.loads(patron_lists(fake_koha)[0]["q"][0])
    assert first_q["patron_id"] == {">": ids[1]}
    assert sorted(Patron.objects.filter(consortium=consortium).values_list("koha_patron_id", flat=True)) == ids
    assert SyncRun.objects.get().status == SyncStatus.COMPLETED


def test_resume_after_a_crash_mid_run(fake_koha, consortium, monkeypatch):
    ids = [koha_patron(fake_koha, surname=f"S{n}", cardnumber=f"K{n}")["patron_id"] for n in range(5)]
    real = sync._Sync.page_write
    calls = []

    def crash_on_second(self, items, gone):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(self, items, gone)

    monkeypatch.setattr(sync._Sync, "page_write", crash_on_second)
    with pytest.raises(RuntimeError):
        run("--per-page", "2")
    monkeypatch.setattr(sync._Sync, "page_write", real)
    crashed = SyncRun.objects.get()
    assert crashed.status == SyncStatus.RUNNING and crashed.pages_done == 1
    # The page under way left nothing half-written.
    assert Patron.objects.filter(consortium=consortium).count() == 2
    run("--per-page", "2")
    assert Patron.objects.filter(consortium=consortium).count() == 5
    finished = SyncRun.objects.get()
    assert finished.counts["created"] == 5 and finished.pages_done == 3 and finished.after_patron_id == ids[-1]


def test_401_is_a_clear_error_without_personal_data_and_a_failed_run(fake_koha, consortium):
    koha_patron(fake_koha, surname="Virtanen", cardnumber="K1")
    fake_koha.fail_next(401, times=5)
    with pytest.raises(CommandError) as failure:
        run()
    assert "401" in str(failure.value) and "client id and secret" in str(failure.value)
    assert "Virtanen" not in str(failure.value)
    assert SyncRun.objects.get().error_code == "koha_auth_failed"


def test_dry_run_writes_nothing(fake_koha, consortium):
    koha_patron(fake_koha, surname="Virtanen", cardnumber="K1")
    events = AccessEvent.objects.count()
    out = run("--dry-run")
    assert "Dry run" in out and count_of(out, "patrons created") == 1
    assert not Patron.objects.filter(consortium=consortium).exists()
    assert not SyncRun.objects.exists()
    assert AccessEvent.objects.count() == events


def test_each_page_is_one_koha_sync_event_with_its_patron_ids(fake_koha, consortium):
    for n in range(3):
        koha_patron(fake_koha, surname=f"S{n}", cardnumber=f"K{n}")
    run("--per-page", "2")
    events = list(AccessEvent.objects.filter(action=Action.KOHA_SYNC).order_by("id"))
    ours = list(Patron.objects.filter(consortium=consortium).order_by("koha_patron_id").values_list("pk", flat=True))
    assert [event.patron_ids for event in events] == [ours[:2], ours[2:]]
    assert all(event.actor_username == "koha_sync" for event in events)


def test_a_gone_patron_is_marked_or_flagged_never_deleted(fake_koha, consortium):
    kept = koha_patron(fake_koha, surname="Jää", cardnumber="K1")
    banned = koha_patron(fake_koha, surname="Kielto", cardnumber="K2")
    asked = koha_patron(fake_koha, surname="Pyyntö", cardnumber="K3")
    plain = koha_patron(fake_koha, surname="Lähti", cardnumber="K4")
    run("--full")
    ours = {p.koha_patron_id: p for p in Patron.objects.filter(consortium=consortium)}
    today = datetime.date.today()
    library = ours[banned["patron_id"]].home_library
    Ban.objects.create(
        patron=ours[banned["patron_id"]],
        library=library,
        starts_on=today,
        ends_on=today + datetime.timedelta(days=30),
        status=BanStatus.PROPOSED,
        proposed_at=datetime.datetime.now(UTC),
        proposed_by="director",
    )
    SubjectRequest.objects.create(
        consortium=consortium,
        patron_id=ours[asked["patron_id"]].pk,
        kind="access",
        received_on=today,
        identity_document="passport",
        identity_verified_by="dpo",
        identity_verified_on=today,
        due_on=today,
        recorded_at=datetime.datetime.now(UTC),
        recorded_by="dpo",
    )
    for koha in (banned, asked, plain):
        fake_koha.store.patron_delete(koha["patron_id"])
    run()  # an incremental run cannot know
    assert not KohaDeparture.objects.exists()
    out = run("--full")
    departures = {d.patron.koha_patron_id: d for d in KohaDeparture.objects.select_related("patron")}
    assert set(departures) == {banned["patron_id"], asked["patron_id"], plain["patron_id"]}
    assert departures[banned["patron_id"]].open_matters == ["ban"]
    assert departures[asked["patron_id"]].open_matters == ["subject_request"]
    assert not departures[plain["patron_id"]].flagged
    assert count_of(out, "patrons gone from Koha, flagged") == 2
    assert count_of(out, "patrons gone from Koha, marked removed") == 1
    assert Patron.objects.filter(consortium=consortium).count() == 4  # nothing deleted
    assert kept["patron_id"] not in departures


def test_guarantor_links_from_the_configured_attribute(fake_koha, consortium):
    fake_koha.add_attribute_type("GUARANTOR")
    child = koha_patron(
        fake_koha,
        surname="Lapsi",
        cardnumber="K1",
        date_of_birth="2018-01-01",
        relationship_type="mother",
        extended_attributes=[{"type": "GUARANTOR", "value": "K2"}],
    )
    koha_patron(fake_koha, surname="Äiti", cardnumber="K2", date_of_birth="1985-01-01")
    run("--per-page", "1")  # the guarantor comes on a later page than the child
    link = Guardianship.objects.get(ward__consortium=consortium)
    assert link.ward.koha_patron_id == child["patron_id"] and link.guardian.cardnumber == "K2"
    assert link.relationship == GuardianRelationship.PARENT
    with override_settings(KOHA_GUARANTOR_ATTRIBUTE=""):
        fake_koha.requests.clear()
        run("--full")
    assert all("x-koha-embed" not in str(r) for r in fake_koha.requests)


def test_kohas_privacy_is_koha_s_setting_never_a_recorded_choice(fake_koha, consortium):
    koha = koha_patron(fake_koha, surname="Valitsija", cardnumber="K1", privacy=1)
    run("--full")
    patron = Patron.objects.get(koha_patron_id=koha["patron_id"])
    assert (patron.loan_history, patron.loan_history_chosen_on, patron.loan_history_chosen_by) == (1, None, "")

    Patron.objects.filter(pk=patron.pk).update(
        loan_history_chosen_on=datetime.date(2026, 1, 5), loan_history_chosen_by="patron"
    )
    fake_koha.update_patron(koha["patron_id"], surname="Valitsija-Uusi")
    run("--full")
    patron.refresh_from_db()
    assert patron.loan_history_chosen_on == datetime.date(2026, 1, 5), "the same value keeps the recorded choice"

    fake_koha.update_patron(koha["patron_id"], privacy=0)
    run("--full")
    patron.refresh_from_db()
    assert (patron.loan_history, patron.loan_history_chosen_on, patron.loan_history_chosen_by) == (0, None, "")
