"""koha_import_identity_codes against the fake Koha over HTTP.

The attacks and failures: a code leaking to Koha, the output, the logs or the access log (in any spelling);
a crash between the silo's store and Koha's replacement; Koha answering 503 mid-run; a second run; invalid
codes, codes held by another patron, a code differing from the one stored here, a patron not synced here,
Koha-Suomi's keys, another attribute type.
"""

import datetime
import io
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from audit.models import AccessEvent, Action, Outcome
from koha.client import KohaClient
from koha.identity_import import COMMAND
from koha.models import IdentityCodeImportFinding, ImportFindingKind
from patrons.models import Patron
from sotu_silo.models import IdentityCode, IdentityCodeConflict
from sotu_silo.services import identity_code_reveal, identity_code_store
from staff.models import Consortium, Library
from tests.conftest import client_for
from tests.factories import StaffProfileFactory, UserFactory
from tests.koha.connected import connect_to_fake
from tests.sotu_silo.test_leak_canary import hetu, spellings

pytestmark = pytest.mark.django_db
pytest.importorskip("tests.fake_koha.fixtures")

LAPLAND = "lapin-kirjastot"
ACTOR = f"{COMMAND}:{LAPLAND}"
FIRST = hetu(datetime.date(1971, 2, 11), 318)
SECOND = hetu(datetime.date(1984, 9, 30), 452, "-")
THIRD = hetu(datetime.date(2003, 12, 1), 127, "A")
HELD = hetu(datetime.date(1966, 6, 6), 246)
INVALID = FIRST[:-1] + ("X" if FIRST[-1] != "X" else "Y")
CODES = [FIRST, SECOND, THIRD, HELD, INVALID]


@pytest.fixture
def lapland(fake_koha, settings):
    settings.KOHA_RETRIES = 1
    settings.KOHA_RETRY_BASE_DELAY_SECONDS = 0.001
    consortium = Consortium.objects.get(slug=LAPLAND)
    connect_to_fake(consortium, fake_koha)
    return consortium


def koha_patron(fake, consortium, value, *, synced=True, attribute="SSN"):
    """A patron in Koha with `value` in its attribute, and (when `synced`) its Patron row here."""
    koha = fake.add_patron(surname="Virtanen", extended_attributes=[{"type": attribute, "value": value}])
    if not synced:
        return koha, None
    Patron.objects.filter(consortium=consortium, koha_patron_id=koha["patron_id"]).update(koha_patron_id=None)
    library = Library.objects.filter(municipality__consortium=consortium).first()
    patron = Patron.objects.create(
        consortium=consortium,
        home_library=library,
        koha_patron_id=koha["patron_id"],
        cardnumber=f"IMP{koha['patron_id']:08d}",
        first_name="Aino",
        last_name="Tuonti",
    )
    return koha, patron


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("koha_import_identity_codes", LAPLAND, *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def count(output, name):
    line = next(line for line in output.splitlines() if line.startswith(name))
    return int(line.split()[-1])


def koha_value(fake, koha, attribute="SSN"):
    return next(a["value"] for a in fake.extended_attributes(koha["patron_id"]) if a["type"] == attribute)


def store_events():
    return AccessEvent.objects.filter(action=Action.IDENTITY_CODE_STORE, actor_username=ACTOR)


def leaks(*haystacks):
    """Every spelling of every code of this module found in the haystacks (bytes or str)."""
    found = []
    for haystack in haystacks:
        data = haystack if isinstance(haystack, bytes) else str(haystack).encode()
        data = data.lower()
        found += [code for code in CODES for spelling in spellings(code) if spelling in data]
    return found


def test_codes_move_to_the_silo_and_koha_keeps_only_keys(fake_koha, lapland, caplog):
    caplog.set_level(logging.DEBUG)
    first, first_patron = koha_patron(fake_koha, lapland, FIRST)
    second, second_patron = koha_patron(fake_koha, lapland, SECOND)
    third, third_patron = koha_patron(fake_koha, lapland, THIRD)

    output = run()

    assert count(output, "values read") == 3 and count(output, "stored in the silo") == 3
    assert count(output, "replaced in Koha by a key") == 3
    for koha, patron, code in (
        (first, first_patron, FIRST),
        (second, second_patron, SECOND),
        (third, third_patron, THIRD),
    ):
        assert koha_value(fake_koha, koha) == f"silo{patron.pk:010d}"
        actor = lapland_billing_actor(lapland)
        assert identity_code_reveal(actor=actor, patron_id=patron.pk, reason="lasku 1") == code
    # Every store is an event naming the command and the consortium, about that patron, without the code.
    events = list(store_events().filter(outcome=Outcome.ALLOWED))
    assert sorted(p for e in events for p in e.patron_ids) == sorted(
        [first_patron.pk, second_patron.pk, third_patron.pk]
    )
    # No code went to Koha, the output, the logs or the access log, in any spelling.
    sent = [body for body in fake_koha.request_bodies if body] + [str(r) for r in fake_koha.requests]
    events_text = [repr(vars(e)) for e in AccessEvent.objects.all()]
    assert leaks(output, caplog.text, *sent, *events_text) == []


def lapland_billing_actor(consortium):
    from audit.actor import Actor

    return Actor(
        user_id=None, username="test-billing", municipality_id=None, consortium_id=consortium.pk, client_ip=None
    )


def test_a_dry_run_counts_and_changes_nothing(fake_koha, lapland):
    koha, patron = koha_patron(fake_koha, lapland, FIRST)
    koha_patron(fake_koha, lapland, INVALID)
    koha_patron(fake_koha, lapland, SECOND, synced=False)
    events_before = AccessEvent.objects.count()

    output = run("--dry-run")

    assert "Dry run" in output
    assert count(output, "stored in the silo") == 1 and count(output, "invalid") == 1
    assert count(output, "patron not synced here") == 1 and count(output, "replaced in Koha by a key") == 0
    assert koha_value(fake_koha, koha) == FIRST
    assert not IdentityCode.objects.filter(patron_id=patron.pk).exists()
    assert not IdentityCodeImportFinding.objects.exists()
    assert AccessEvent.objects.count() == events_before
    assert not any(method == "PATCH" for method, *_rest in fake_koha.requests)
    assert leaks(output) == []


def test_a_second_run_changes_nothing(fake_koha, lapland):
    koha_patron(fake_koha, lapland, FIRST)
    koha_patron(fake_koha, lapland, INVALID)
    run()
    events, requests = AccessEvent.objects.count(), len(fake_koha.requests)

    output = run()

    assert count(output, "values read") == 2 and count(output, "already keys, left alone") == 2
    assert count(output, "stored in the silo") == 0 and count(output, "replaced in Koha by a key") == 0
    assert AccessEvent.objects.count() == events
    assert not any(method == "PATCH" for method, *_rest in fake_koha.requests[requests:])


def test_a_crash_between_store_and_replace_is_resumed_without_storing_again(fake_koha, lapland, monkeypatch):
    koha, patron = koha_patron(fake_koha, lapland, FIRST)

    def crash(*args, **kwargs):
        raise RuntimeError("the process died")

    with monkeypatch.context() as patch:
        patch.setattr(KohaClient, "extended_attribute_update", crash)
        with pytest.raises(RuntimeError):
            run()
    assert IdentityCode.objects.filter(patron_id=patron.pk).exists() and koha_value(fake_koha, koha) == FIRST
    events = store_events().count()

    output = run()

    assert count(output, "stored by an earlier run") == 1 and count(output, "stored in the silo") == 0
    assert koha_value(fake_koha, koha) == f"silo{patron.pk:010d}"
    assert store_events().count() == events  # not stored again


def test_koha_503_mid_run_stops_and_the_next_run_goes_on(fake_koha, lapland):
    first, first_patron = koha_patron(fake_koha, lapland, FIRST)
    second, second_patron = koha_patron(fake_koha, lapland, SECOND)
    # Koha fails on the first replacement, on each of the client's attempts (KOHA_RETRIES = 1: two).
    fake_koha.fail_next(503, times=2, path=f"/api/v1/patrons/{first['patron_id']}/extended_attributes")

    with pytest.raises(CommandError, match="run the command again"):
        run()
    assert IdentityCode.objects.filter(patron_id=first_patron.pk).exists()
    assert koha_value(fake_koha, first) == FIRST

    output = run()

    assert count(output, "stored by an earlier run") == 1 and count(output, "stored in the silo") == 1
    assert koha_value(fake_koha, first) == f"silo{first_patron.pk:010d}"
    assert koha_value(fake_koha, second) == f"silo{second_patron.pk:010d}"
    assert store_events().filter(outcome=Outcome.ALLOWED).count() == 2


def test_invalid_codes_are_listed_for_billing_and_leave_koha(fake_koha, lapland, caplog):
    caplog.set_level(logging.DEBUG)
    koha, patron = koha_patron(fake_koha, lapland, INVALID)
    # Koha-Suomi's migration wrote invalid codes as INVALID<code>: a code all the same.
    prefixed, prefixed_patron = koha_patron(fake_koha, lapland, f"INVALID{SECOND[:-1]}")

    output = run()

    assert count(output, "invalid") == 2 and count(output, "replaced in Koha by a key") == 2
    assert koha_value(fake_koha, koha) == f"silo{patron.pk:010d}"
    assert koha_value(fake_koha, prefixed) == f"silo{prefixed_patron.pk:010d}"
    assert not IdentityCode.objects.filter(patron_id__in=[patron.pk, prefixed_patron.pk]).exists()
    findings = IdentityCodeImportFinding.objects.filter(patron__in=[patron, prefixed_patron])
    assert set(findings.values_list("kind", flat=True)) == {ImportFindingKind.INVALID}
    refused = store_events().filter(outcome=Outcome.DENIED)
    assert refused.count() == 2
    sent = [body for body in fake_koha.request_bodies if body]
    assert leaks(output, caplog.text, *sent, *[repr(vars(e)) for e in AccessEvent.objects.all()]) == []


def test_a_code_another_patron_holds_becomes_a_conflict_for_billing(fake_koha, lapland, caplog):
    caplog.set_level(logging.DEBUG)
    _holder_koha, holder = koha_patron(fake_koha, lapland, "ssn0000000001")  # a Hetula key: left alone
    identity_code_store(actor=lapland_billing_actor(lapland), patron_id=holder.pk, code=HELD)
    older_key, _older = koha_patron(fake_koha, lapland, "sotu4711")  # Koha-Suomi's older key: left alone
    koha, patron = koha_patron(fake_koha, lapland, HELD)

    output = run()

    assert count(output, "held by another patron") == 1 and count(output, "already keys") == 2
    assert koha_value(fake_koha, older_key) == "sotu4711"
    assert "/billing/conflicts/" in output
    conflict = IdentityCodeConflict.objects.get(patron_id=patron.pk)
    assert conflict.holder_patron_id == holder.pk and conflict.entered_by == ACTOR
    assert koha_value(fake_koha, koha) == f"silo{patron.pk:010d}"
    assert leaks(output, caplog.text, *[b for b in fake_koha.request_bodies if b]) == []
    # A second run: the entry waits for billing; nothing is entered again.
    events = store_events().count()
    assert count(run(), "already keys") == 3 and store_events().count() == events


def test_a_code_stored_here_wins_over_a_different_one_in_koha(fake_koha, lapland):
    koha, patron = koha_patron(fake_koha, lapland, SECOND)
    identity_code_store(actor=lapland_billing_actor(lapland), patron_id=patron.pk, code=THIRD)

    output = run()

    assert count(output, "another code stored here") == 1
    assert identity_code_reveal(actor=lapland_billing_actor(lapland), patron_id=patron.pk, reason="x 1") == THIRD
    assert IdentityCodeImportFinding.objects.get(patron=patron).kind == ImportFindingKind.DIFFERS
    assert koha_value(fake_koha, koha) == f"silo{patron.pk:010d}"


def test_a_patron_not_synced_here_is_listed_and_left_alone(fake_koha, lapland):
    koha, _none = koha_patron(fake_koha, lapland, FIRST, synced=False)

    output = run()

    assert count(output, "patron not synced here") == 1
    assert str(koha["patron_id"]) in output.splitlines()[-1]
    assert koha_value(fake_koha, koha) == FIRST
    assert not store_events().exists()
    assert leaks(output) == []


def test_another_attribute_type(fake_koha, lapland):
    fake_koha.add_attribute_type("HETU", unique=True, repeatable=False)
    ssn_koha, ssn_patron = koha_patron(fake_koha, lapland, FIRST)
    koha, patron = koha_patron(fake_koha, lapland, SECOND, attribute="HETU")

    output = run("--attribute", "HETU")

    assert count(output, "values read") == 1 and count(output, "stored in the silo") == 1
    assert koha_value(fake_koha, koha, "HETU") == f"silo{patron.pk:010d}"
    assert koha_value(fake_koha, ssn_koha) == FIRST  # the other type is not touched
    assert not IdentityCode.objects.filter(patron_id=ssn_patron.pk).exists()


def test_an_unknown_consortium_or_no_connection_is_an_error(fake_koha):
    with translation.override("en"):
        with pytest.raises(CommandError, match="short name"):
            call_command("koha_import_identity_codes", "no-such-consortium", stdout=io.StringIO())
        with pytest.raises(CommandError, match="no Koha connection"):
            call_command("koha_import_identity_codes", LAPLAND, stdout=io.StringIO(), stderr=io.StringIO())


def test_billing_of_the_consortium_alone_sees_and_checks_the_findings(fake_koha, lapland):
    _koha, patron = koha_patron(fake_koha, lapland, INVALID)
    run()
    finding = IdentityCodeImportFinding.objects.get(patron=patron)

    billing = client_for("rovaniemi.billing")
    page = billing.get("/billing/koha-codes/")
    assert page.status_code == 200 and patron.cardnumber in page.content.decode()
    assert leaks(page.content) == []
    listed = AccessEvent.objects.filter(action=Action.KOHA_CODE_FINDING, detail="listed").latest("id")
    assert patron.pk in listed.patron_ids
    # Desk staff may not see the list or check a finding; another consortium's billing sees nothing of it.
    desk = client_for("rovaniemi.staff")
    assert desk.get("/billing/koha-codes/").status_code == 403
    assert desk.post(f"/billing/koha-codes/{finding.pk}/checked/").status_code == 403
    StaffProfileFactory(
        home_library=Library.objects.get(koha_library_id="MIK"),
        user=UserFactory(username="mikkeli.billing", groups=["staff", "billing"]),
    )
    other = client_for("mikkeli.billing")
    assert patron.cardnumber not in other.get("/billing/koha-codes/").content.decode()
    assert other.post(f"/billing/koha-codes/{finding.pk}/checked/").status_code == 404
    assert IdentityCodeImportFinding.objects.filter(pk=finding.pk).exists()

    assert billing.post(f"/billing/koha-codes/{finding.pk}/checked/").status_code == 302
    assert not IdentityCodeImportFinding.objects.filter(pk=finding.pk).exists()
    checked = AccessEvent.objects.filter(action=Action.KOHA_CODE_FINDING, detail="checked_invalid").get()
    assert list(checked.patron_ids) == [patron.pk]


def test_a_replacement_koha_refuses_is_listed_by_koha_id_and_done_by_the_next_run(fake_koha, lapland):
    koha, _patron = koha_patron(fake_koha, lapland, FIRST)
    fake_koha.fail_next(409, path=f"/api/v1/patrons/{koha['patron_id']}/extended_attributes")

    output = run()

    assert count(output, "Koha refused the replacement") == 1
    refused_line = next(line for line in output.splitlines() if "would not replace" in line)
    assert refused_line.rstrip().endswith(str(koha["patron_id"]))
    assert koha_value(fake_koha, koha) == FIRST  # still in Koha, so listed
    assert leaks(output) == []

    again = run()

    assert count(again, "Koha refused the replacement") == 0
    assert koha_value(fake_koha, koha) != FIRST


def test_the_billing_page_links_the_findings_when_there_are_some(fake_koha, lapland):
    billing = client_for("rovaniemi.billing")
    assert "/billing/koha-codes/" not in billing.get("/billing/").content.decode()
    koha_patron(fake_koha, lapland, INVALID)
    run()

    page = billing.get("/billing/").content.decode()

    assert 'href="/billing/koha-codes/"' in page
    assert leaks(page) == []
    # Another consortium's billing has no such work waiting.
    StaffProfileFactory(
        home_library=Library.objects.get(koha_library_id="MIK"),
        user=UserFactory(username="mikkeli.billing", groups=["staff", "billing"]),
    )
    assert "/billing/koha-codes/" not in client_for("mikkeli.billing").get("/billing/").content.decode()
