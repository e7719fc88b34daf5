"""Koha's data in the DPO's work, over HTTP against the fake Koha: the access report's Koha section, and
the erasure reaching Koha (GDPR Art. 15, 17, 19).

The failures performed: Koha down or refusing the service while the report is made (the report says so
and cannot be delivered until a complete one is made), Koha refusing the deletion (409) or unreachable
during the erasure (the local erasure stays whole, the request stays open until the DPO records a ground).
"""

import ast
import datetime
import pathlib

import pytest
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone

from audit.models import AccessEvent, Action
from dpo.models import LegalHold, SubjectRequest
from dpo.services.retention import retention_apply
from koha.models import KohaConnection
from patrons.models import Guardianship, Patron
from sotu_silo.models import IdentityCode
from staff.models import Consortium
from tests.conftest import client_for
from tests.dpo.test_access_report import make_request, records
from tests.dpo.test_erasure import CODE, erase
from tests.koha.connected import connect_to_fake

pytestmark = pytest.mark.django_db
pytest.importorskip("tests.fake_koha.fixtures")

LAPLAND = "lapin-kirjastot"


@pytest.fixture
def koha(fake_koha, settings):
    """The fake Koha as Lapland's Koha, with one library; retries kept short."""
    settings.KOHA_RETRIES = 1
    settings.KOHA_RETRY_BASE_DELAY_SECONDS = 0.001
    fake_koha.add_library(library_id="ROV", name="Rovaniemi")
    connect_to_fake(Consortium.objects.get(slug=LAPLAND), fake_koha)
    return fake_koha


def in_koha(fake, language: str = "fi") -> Patron:
    """A Lapland patron (who is nobody's guardian) linked to a new patron in Koha."""
    patron = Patron.objects.filter(consortium__slug=LAPLAND, wards__isnull=True).order_by("pk").first()
    assert patron is not None
    koha_patron = fake.add_patron(surname="Kohala", firstname="Kaisa", library_id="ROV", email="kaisa@example.fi")
    Patron.objects.filter(pk=patron.pk).update(koha_patron_id=koha_patron["patron_id"], language=language)
    patron.refresh_from_db()
    return patron


def report(request_id: int) -> dict:
    response = client_for("dpo").get(f"/api/v1/subject-requests/{request_id}/report/")
    assert response.status_code == 200, response.content
    return response.json()


def deliver(request_id: int):
    return client_for("dpo").post(
        f"/api/v1/subject-requests/{request_id}/delivery/",
        {"method": "electronic", "delivered_on": timezone.localdate().isoformat()},
        content_type="application/json",
    )


def section(answer: dict, key: str) -> dict:
    return next(part for part in answer["sections"] if part["key"] == key)


def test_the_report_holds_kohas_record_loans_holds_fees_and_log_in_the_patrons_language(koha):
    patron = in_koha(koha, language="sv")
    koha_id = patron.koha_patron_id
    koha.add_checkout(koha_id)
    koha.add_hold(koha_id)
    koha.add_account_line(koha_id, 2.5)
    koha.add_action_log(module="MEMBERS", action="MODIFY", object=koha_id, info='{"email": "secret"}')
    request = make_request(patron)

    answer = report(request.pk)

    assert answer["incomplete"] == []
    koha_section = section(answer, "koha")
    assert koha_section["title"] == "I bibliotekssystemet (Koha)"
    (record,) = records(answer, "koha")
    assert record["surname"]["text"] == "Kohala" and record["email"]["text"] == "kaisa@example.fi"
    assert len(records(answer, "koha_checkouts")) == 1
    assert len(records(answer, "koha_holds")) == 1
    assert records(answer, "koha_balance")[0]["balance"]["value"] == 2.5
    assert len(records(answer, "koha_account")) == 1
    (log,) = records(answer, "koha_action_log")
    assert log["action"]["text"] == "MODIFY" and "info" not in log  # the log's info may hold changed fields
    event = AccessEvent.objects.filter(action=Action.KOHA_READ).get()
    assert list(event.patron_ids) == [patron.pk]
    assert event.detail == f"request:{request.pk}" and "Kohala" not in str(event.__dict__)
    assert deliver(request.pk).status_code == 200


@pytest.mark.parametrize("failure", ["down", 503, 401])
def test_koha_out_of_reach_makes_the_report_incomplete_and_undeliverable_until_made_again(koha, failure):
    patron = in_koha(koha)
    request = make_request(patron)
    if failure == "down":
        koha.down()
    else:
        koha.fail_next(failure, times=10)

    answer = report(request.pk)

    assert len(answer["incomplete"]) == 1
    assert "Koha" in section(answer, "koha")["description"] and not section(answer, "koha")["records"]
    refused = deliver(request.pk)
    assert refused.status_code == 400 and refused.json()["code"] == "report_incomplete"
    assert SubjectRequest.objects.get(pk=request.pk).completed_on is None

    koha.up()
    koha._faults.clear()  # Koha answers again
    assert report(request.pk)["incomplete"] == []
    assert deliver(request.pk).status_code == 200


def test_without_a_connection_or_a_koha_id_the_section_says_why(koha):
    patron = Patron.objects.filter(consortium__slug=LAPLAND).order_by("pk").first()
    Patron.objects.filter(pk=patron.pk).update(koha_patron_id=None, language="en")
    request = make_request(patron)
    assert section(report(request.pk), "koha")["description"] == "You have no record in the library system (Koha)."
    KohaConnection.objects.all().delete()
    answer = report(request.pk)
    assert "not connected" in section(answer, "koha")["description"] and answer["incomplete"] == []
    assert not AccessEvent.objects.filter(action=Action.KOHA_READ).exists()


def plan_warnings(request_id: int) -> set[str]:
    response = erase(request_id, dry_run=True)
    assert response.status_code == 200, response.content
    return {warning["code"] for warning in response.json()["plan"]["warnings"]}


def test_the_dry_run_lists_each_refusal_koha_would_give(koha):
    patron = in_koha(koha)
    request = make_request(patron, kind="erasure")
    assert not {code for code in plan_warnings(request.pk) if code.startswith("koha_")}
    assert erase(request.pk, dry_run=True).json()["plan"]["removes"]["koha_patron"] == 1

    koha_id = patron.koha_patron_id
    koha.add_checkout(koha_id)
    koha.add_account_line(koha_id, 4.0)
    koha.update_patron(koha_id, protected=True)
    ward = Patron.objects.filter(consortium__slug=LAPLAND).exclude(pk=patron.pk).first()
    Guardianship.objects.create(ward=ward, guardian=patron)
    assert {"koha_has_checkouts", "koha_has_debt", "koha_has_guarantees", "koha_is_protected"} <= plan_warnings(
        request.pk
    )
    koha.down()
    assert "koha_unreachable" in plan_warnings(request.pk)
    assert Patron.objects.filter(pk=patron.pk).exists()  # a dry run


def test_the_erasure_deletes_the_patron_in_koha_and_answers_the_request(koha):
    patron = in_koha(koha)
    koha_id = patron.koha_patron_id
    request = make_request(patron, kind="erasure")

    response = erase(request.pk, dry_run=False)

    assert response.status_code == 200 and response.json()["held_elsewhere"] == []
    assert koha_id not in koha.patrons and not Patron.objects.filter(pk=patron.pk).exists()
    request.refresh_from_db()
    assert request.completed_on is not None and request.held_elsewhere == []
    event = AccessEvent.objects.filter(action=Action.KOHA_PATRON_DELETE).get()
    assert event.detail == "deleted" and list(event.patron_ids) == [patron.pk]


def keep(request_id: int, ground: str, details: str = ""):
    return client_for("dpo").post(
        f"/api/v1/subject-requests/{request_id}/kept-elsewhere/",
        {"ground": ground, "details": details},
        content_type="application/json",
    )


@pytest.mark.parametrize(
    ("failure", "reason", "ground"), [("debt", "has_debt", "legal_claims"), ("down", "koha_unreachable", "other")]
)
def test_what_koha_keeps_leaves_the_request_open_until_the_dpo_records_the_ground(koha, failure, reason, ground):
    patron = in_koha(koha)
    koha_id = patron.koha_patron_id
    request = make_request(patron, kind="erasure")
    if failure == "debt":
        koha.add_account_line(koha_id, 12.0)
    else:
        koha.down()

    response = erase(request.pk, dry_run=False)

    assert response.status_code == 200
    assert response.json()["held_elsewhere"] == [{"key": "koha", "reason": reason}]
    # The local erasure is whole, but for what a debt known from Koha keeps under a legal hold (the demo patron
    # has an identity code): the code and the reduced record billing reveals it through.
    held = set(LegalHold.objects.filter(subject_request=request).values_list("key", flat=True))
    assert held == ({"identity_code", "patron"} if failure == "debt" else set())
    assert Patron.objects.filter(pk=patron.pk, email="").exists() == (failure == "debt")
    request.refresh_from_db()
    assert request.erased_at is not None and request.completed_on is None
    assert AccessEvent.objects.filter(action=Action.KOHA_PATRON_DELETE, detail=reason).exists()
    koha.up()
    assert koha_id in koha.patrons

    assert keep(request.pk, "other").json()["code"] == "keeping_details_required"
    answered = keep(request.pk, ground, "Velka perintään 2026." if ground == "other" else "")
    assert answered.status_code == 200, answered.content
    assert answered.json()["keeping_ground"] == ground and answered.json()["completed_on"] is not None
    assert keep(request.pk, "legal_claims").json()["code"] == "request_closed"


def test_a_ground_is_refused_for_an_erasure_nothing_else_holds(koha):
    patron = in_koha(koha)
    request = make_request(patron, kind="erasure")
    assert keep(request.pk, "legal_claims").json()["code"] == "not_erased"


def test_dpo_still_imports_no_koha_module():
    """The DPO reaches Koha only through the privacy contract: no module of dpo/ imports koha."""
    root = pathlib.Path(__file__).resolve().parents[2] / "dpo"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(name == "koha" or name.startswith("koha.") for name in names), path


@pytest.mark.parametrize("damage", ["key_gone", "altered"])
def test_a_stored_secret_that_cannot_be_read_makes_the_report_incomplete_not_a_server_error(koha, settings, damage):
    """The attack or accident: the row's ciphertext altered, or its key dropped from KOHA_CREDENTIAL_KEYS. The
    report still answers, says Koha could not be reached, and cannot be delivered; no request reaches Koha."""
    patron = in_koha(koha)
    request = make_request(patron)
    connection = KohaConnection.objects.get(consortium__slug=LAPLAND)
    if damage == "key_gone":
        KohaConnection.objects.filter(pk=connection.pk).update(secret_key_id="gone")
    else:
        altered = bytes(connection.secret_ciphertext)
        KohaConnection.objects.filter(pk=connection.pk).update(secret_ciphertext=bytes([altered[0] ^ 1]) + altered[1:])
    sent_before = len(koha.requests)

    answer = report(request.pk)

    assert len(answer["incomplete"]) == 1
    assert "Koha" in section(answer, "koha")["description"]
    assert deliver(request.pk).json()["code"] == "report_incomplete"
    assert len(koha.requests) == sent_before


# --- the DPO's admin pages ---------------------------------------------------------------------------------


def admin_page(request_id: int, client=None) -> str:
    client = client or english("dpo")
    response = client.get(f"/admin/dpo/subjectrequest/{request_id}/change/")
    assert response.status_code == 200
    return response.content.decode()


def english(username: str):
    client = client_for(username)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_request_page_says_an_incomplete_report_cannot_be_delivered(koha):
    patron = in_koha(koha)
    request = make_request(patron)
    koha.down()
    report(request.pk)
    page = admin_page(request.pk)
    assert "The latest access report is incomplete" in page
    assert 'id="step-delivery"' not in page  # no delivery form to fill in vain
    # Sent anyway (an old tab): refused with the service's message, nothing recorded.
    dpo = english("dpo")
    response = dpo.post(
        f"/admin/dpo/subjectrequest/{request.pk}/change/",
        {"_step": "delivery", "delivery-method": "electronic", "delivery-delivered_on": timezone.localdate()},
        follow=True,
    )
    assert "The latest access report is incomplete: a part of the data could not be read" in response.content.decode()
    request.refresh_from_db()
    assert request.delivered_on is None and request.completed_on is None

    koha.up()
    report(request.pk)
    page = admin_page(request.pk)
    assert "The latest access report is incomplete" not in page and 'id="step-delivery"' in page


def test_the_dry_run_page_names_kohas_refusals_in_words(koha):
    patron = in_koha(koha)
    koha.add_checkout(patron.koha_patron_id)
    request = make_request(patron, kind="erasure")
    page = english("dpo").get(f"/admin/dpo/requests/{request.pk}/erase/").content.decode()
    assert "Koha would refuse: the patron has loans not returned" in page


def erased_but_held_in_koha(koha) -> SubjectRequest:
    patron = in_koha(koha)
    koha.add_checkout(patron.koha_patron_id)
    request = make_request(patron, kind="erasure")
    assert erase(request.pk, dry_run=False).json()["held_elsewhere"] == [{"key": "koha", "reason": "has_checkouts"}]
    request.refresh_from_db()
    return request


def keep_on_page(client, request_id: int, ground: str, details: str = ""):
    return client.post(
        f"/admin/dpo/subjectrequest/{request_id}/change/",
        {"_step": "keeping", "keeping-ground": ground, "keeping-details": details},
    )


def test_the_request_page_says_what_koha_keeps_and_records_the_ground(koha):
    request = erased_but_held_in_koha(koha)
    page = admin_page(request.pk)
    assert "Koha still holds the patron: loans not returned." in page
    assert 'id="step-keeping"' in page and 'id="step-refusal"' not in page

    dpo = english("dpo")
    # `other` without details: refused, the page again with the choice kept and the error shown.
    refused = keep_on_page(dpo, request.pk, "other")
    assert refused.status_code == 400
    content = refused.content.decode()
    assert "Give the ground in the details" in content
    assert '<option value="other" selected>' in content
    # Details holding an identity code: refused like every free text, and that text is never shown back.
    refused = keep_on_page(dpo, request.pk, "other", "Asiakas 131052-308T palauttaa kirjat.")
    content = refused.content.decode()
    assert refused.status_code == 400 and "must not contain a personal identity code" in content
    assert "131052-308T" not in content and '<option value="other" selected>' in content
    request.refresh_from_db()
    assert request.completed_on is None and request.keeping_ground == ""

    done = keep_on_page(dpo, request.pk, "loans", "Palautetaan kuun loppuun mennessä.")
    assert done.status_code == 302
    request.refresh_from_db()
    assert request.keeping_ground == "loans" and request.completed_on is not None
    assert AccessEvent.objects.filter(action=Action.SUBJECT_REQUEST, detail="kept_elsewhere").exists()
    assert 'id="step-keeping"' not in admin_page(request.pk)


def test_an_unconfirmed_part_is_shown_for_a_check_by_hand(koha):
    request = erased_but_held_in_koha(koha)
    SubjectRequest.objects.filter(pk=request.pk).update(held_elsewhere=[{"key": "", "reason": "unconfirmed"}])
    assert "Not confirmed: the erasure stopped while it reached the library system" in admin_page(request.pk)


def test_neither_staff_nor_another_consortiums_superuser_records_a_ground(koha):
    request = erased_but_held_in_koha(koha)
    assert keep_on_page(client_for("rovaniemi.staff"), request.pk, "loans").status_code in (302, 403)
    other_request = SubjectRequest.objects.filter(pk=request.pk)
    other_request.update(consortium=Consortium.objects.get(slug="mikkelin-seutukirjasto"))
    assert keep_on_page(client_for("dpo"), request.pk, "loans").status_code == 404
    request.refresh_from_db()
    assert request.completed_on is None and request.keeping_ground == ""


def test_the_report_holds_only_this_patrons_holds_and_log_not_those_of_patron_12(koha):
    """Koha's plain filters match by "contains": `?patron_id=1` would also bring patron 12's holds and
    `?object=1` patron 12's log. The report asks by `q`, exactly."""
    patron = in_koha(koha, language="en")
    assert patron.koha_patron_id == 1
    for number in range(2, 13):
        koha.add_patron(surname=f"Muu{number}", firstname="Toinen", library_id="ROV", cardnumber=f"K-{number}")
    koha.add_hold(12)
    koha.add_checkout(12)
    koha.add_action_log(module="MEMBERS", action="MODIFY", object=12, info="{}")
    koha.add_action_log(module="CIRCULATION", action="ISSUE", object=12, info="{}")
    koha.add_hold(1)
    returned = koha.add_checkout(1)
    koha.store.checkouts[returned["checkout_id"]]["checkin_date"] = "2026-11-02T10:00:00+02:00"

    answer = report(make_request(patron).pk)

    assert answer["incomplete"] == []
    assert len(records(answer, "koha_holds")) == 1
    assert records(answer, "koha_checkouts") == []
    assert len(records(answer, "koha_loan_history")) == 1
    assert records(answer, "koha_action_log") == []


def test_a_patron_erased_here_whom_koha_keeps_never_comes_back_with_the_next_sync(koha):
    """The erasure (Art. 17) must not be undone by the sync: Koha refused the deletion (a debt), the patron is
    gone here, and a full `koha_sync` finds it in Koha again. It is not re-created; only its Koha id is kept."""
    from io import StringIO

    from django.core.management import call_command

    from koha.models import ErasedKohaPatron, SyncRun

    patron = in_koha(koha)
    koha_id = patron.koha_patron_id
    koha.add_account_line(koha_id, 12.0)
    request = make_request(patron, kind="erasure")
    assert erase(request.pk, dry_run=True).json()["plan"]["keeps"]["koha_erased_id"] == 1

    assert erase(request.pk, dry_run=False).json()["held_elsewhere"] == [{"key": "koha", "reason": "has_debt"}]
    # Only the reduced record a legal hold keeps for the debt stays here (tests above).
    assert koha_id in koha.patrons and list(Patron.objects.filter(koha_patron_id=koha_id)) == [patron]
    assert ErasedKohaPatron.objects.filter(consortium__slug=LAPLAND, koha_patron_id=koha_id).exists()

    out = StringIO()
    call_command("koha_sync", LAPLAND, "--full", stdout=out, stderr=StringIO())

    # Neither re-created nor filled in again from Koha.
    assert list(Patron.objects.filter(consortium__slug=LAPLAND, koha_patron_id=koha_id).values_list("pk", "email")) == [
        (patron.pk, "")
    ]
    run = SyncRun.objects.filter(consortium__slug=LAPLAND).latest("started_at")
    assert run.counts["erased_here"] == 1, out.getvalue()


@pytest.mark.parametrize("balance", [12.0, 0.0])
def test_an_open_claim_in_koha_keeps_the_identity_code_under_a_legal_hold_until_it_is_time_barred(koha, balance):
    """GDPR Art. 17(3)(e): the code is what the library needs to invoice the debt; Koha's balance is the source."""
    patron = in_koha(koha)
    stored = client_for("rovaniemi.staff").put(
        f"/api/v1/patrons/{patron.pk}/identity-code/", {"identity_code": CODE}, content_type="application/json"
    )
    assert stored.status_code == 200
    if balance:
        koha.add_account_line(patron.koha_patron_id, balance)
    request = make_request(patron, kind="erasure")
    until = timezone.localdate() + relativedelta(years=settings.LEGAL_CLAIM_HOLD_YEARS)

    plan = erase(request.pk, dry_run=True).json()["plan"]
    erase(request.pk, dry_run=False)

    code_kept = IdentityCode.objects.using("sotu").filter(patron_id=patron.pk)
    record_kept = Patron.objects.filter(pk=patron.pk)
    if not balance:
        assert plan["holds"] == [] and not code_kept.exists() and not record_kept.exists()
        return
    assert sorted((hold["key"], hold["ground"], hold["reason"], hold["until"]) for hold in plan["holds"]) == [
        ("identity_code", "art17_3_e", "open_claim", until.isoformat()),
        ("patron", "art17_3_e", "kept_data_needs_record", until.isoformat()),
    ]
    assert plan["keeps"]["identity_code"] == 1 and "identity_code" not in plan["removes"]
    # Billing can still reveal the code, through the reduced record, to invoice the debt.
    assert code_kept.exists() and record_kept.get().email == ""
    revealed = client_for("rovaniemi.billing").post(
        f"/api/v1/patrons/{patron.pk}/identity-code/reveal/",
        {"reason": "lasku 2026-41"},
        content_type="application/json",
    )
    assert revealed.status_code == 200, revealed.content
    retention_apply(day=until, dry_run=False)
    assert code_kept.exists()
    retention_apply(day=until + datetime.timedelta(days=1), dry_run=False)
    assert not code_kept.exists() and not record_kept.exists()
    assert set(LegalHold.objects.filter(subject_request=request).values_list("lifted_on", flat=True)) == {
        timezone.localdate()
    }


def _erased_with_claim(koha) -> tuple[Patron, SubjectRequest]:
    patron = in_koha(koha)
    stored = client_for("rovaniemi.staff").put(
        f"/api/v1/patrons/{patron.pk}/identity-code/", {"identity_code": CODE}, content_type="application/json"
    )
    assert stored.status_code == 200
    koha.add_account_line(patron.koha_patron_id, 12.0)
    request = make_request(patron, kind="erasure")
    erase(request.pk, dry_run=False)
    assert IdentityCode.objects.using("sotu").filter(patron_id=patron.pk).exists()
    return patron, request


def lift_claim(request_id: int, settled: str = "paid", username: str = "dpo"):
    return client_for(username).post(
        f"/api/v1/subject-requests/{request_id}/claim-hold/lift/", {"settled": settled}, content_type="application/json"
    )


def test_a_settled_claim_lifts_its_hold_now_and_the_code_and_record_go(koha):
    """GDPR Art. 17(3)(e) holds the code only while the claim is open; settled, the erasure is completed."""
    patron, request = _erased_with_claim(koha)

    assert lift_claim(request.pk, "unknown").status_code == 400
    assert lift_claim(request.pk, username="rovaniemi.staff").status_code == 403
    assert IdentityCode.objects.using("sotu").filter(patron_id=patron.pk).exists()

    answer = lift_claim(request.pk)

    assert answer.status_code == 200, answer.content
    assert not IdentityCode.objects.using("sotu").filter(patron_id=patron.pk).exists()
    assert not Patron.objects.filter(pk=patron.pk).exists()
    assert set(LegalHold.objects.filter(subject_request=request).values_list("lifted_on", flat=True)) == {
        timezone.localdate()
    }
    assert AccessEvent.objects.filter(action=Action.PATRON_ERASE, detail="claim_hold_lifted:paid").exists()
    assert lift_claim(request.pk).json()["code"] == "no_claim_hold"


def test_a_kept_ban_decision_keeps_the_reduced_record_when_the_claim_is_settled(koha):
    """The archive hold (Art. 17(3)(b)) is the law's, not the claim's: only the code goes; the record stays with
    the decision, until the decision's own end."""
    from tests.dpo.test_legal_holds import Decided

    world = Decided(retain_until=timezone.localdate() + datetime.timedelta(days=100))
    patron = world.patron
    patron.koha_patron_id = koha.add_patron(cardnumber="HOLD-CLAIM")["patron_id"]
    patron.save(update_fields=["koha_patron_id"])
    koha.add_account_line(patron.koha_patron_id, 5.0)
    erase(world.request.pk, dry_run=False)
    record_hold = LegalHold.objects.get(subject_request=world.request, key="patron")
    assert record_hold.ground == "art17_3_e"  # the claim's three years outlast the decision's 100 days

    assert lift_claim(world.request.pk).status_code == 200

    assert not IdentityCode.objects.using("sotu").filter(patron_id=patron.pk).exists()
    assert Patron.objects.filter(pk=patron.pk).exists()
    record_hold.refresh_from_db()
    assert record_hold.lifted_on is None and record_hold.ground == "art17_3_b"
    assert record_hold.held_until == timezone.localdate() + datetime.timedelta(days=100)


def test_the_request_page_offers_the_claims_lifting_and_takes_it(koha):
    patron, request = _erased_with_claim(koha)
    dpo = client_for("dpo")
    page = f"/admin/dpo/subjectrequest/{request.pk}/change/"
    assert 'id="step-claim_hold_lift"' in dpo.get(page).content.decode()

    dpo.post(page, {"_step": "claim_hold_lift", "claim_hold_lift-settled": "written_off"})

    assert not IdentityCode.objects.using("sotu").filter(patron_id=patron.pk).exists()
    assert 'id="step-claim_hold_lift"' not in dpo.get(page).content.decode()
