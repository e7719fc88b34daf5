"""Restriction of processing (GDPR Art. 18), the DPO's side: restricting on a request with a ground of Art.
18(1), lifting after the patron is told (Art. 18(3)), the admin and the API; the Koha sync skipping a restricted
patron; and a record an erasure kept under a legal hold (Art. 17(3)) found by no staff search."""

import datetime

import pytest
from django.utils import timezone

from audit.models import AccessEvent, Action
from dpo.models import RequestKind
from patrons.models import Patron, ProcessingRestriction
from tests.conftest import client_for
from tests.dpo.test_erasure import erase, subject_request
from tests.dpo.test_legal_holds import Decided
from tests.koha.test_sync import consortium, count_of, koha_patron, quick_retries, run  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

JSON = "application/json"


def today() -> datetime.date:
    return timezone.localdate()


def lapland_patron() -> Patron:
    return Patron.objects.filter(consortium__slug="lapin-kirjastot", processing_restrictions__isnull=True).latest("pk")


def post(url: str, body: dict, username: str = "dpo"):
    return client_for(username).post(url, body, content_type=JSON)


def test_the_dpo_restricts_on_a_restriction_request_with_a_ground_recorded_with_who_and_when_and_it_answers_it():
    patron = lapland_patron()
    request = subject_request(patron, RequestKind.RESTRICTION)

    answer = post(f"/api/v1/subject-requests/{request.pk}/restriction/", {"ground": "art18_1_c"})

    assert answer.status_code == 200
    shown = answer.json()
    assert shown["processing_restriction"]["ground"] == "art18_1_c"
    assert shown["processing_restriction"]["restricted_by"] == "dpo"
    assert shown["processing_restriction"]["lifted_at"] is None
    assert shown["completed_on"] == today().isoformat() and shown["answered_by"] == "dpo"
    restriction = ProcessingRestriction.objects.get(patron=patron)
    assert (restriction.ground, restriction.subject_request_id) == ("art18_1_c", request.pk)
    details = set(AccessEvent.objects.filter(subjects__patron_id=patron.pk).values_list("action", "detail"))
    assert {(Action.PATRON_UPDATE, "processing_restricted"), (Action.SUBJECT_REQUEST, "restricted")} <= details


@pytest.mark.parametrize(
    ("kind", "ground", "rule"),
    [
        (RequestKind.RECTIFICATION, "art18_1_b", "ground_not_for_request"),
        (RequestKind.OBJECTION, "art18_1_a", "ground_not_for_request"),
        (RequestKind.ACCESS, "art18_1_a", "ground_not_for_request"),
        (RequestKind.ERASURE, "art18_1_b", "ground_not_for_request"),
    ],
)
def test_a_ground_that_does_not_fit_the_request_is_refused_and_nothing_is_restricted(kind, ground, rule):
    patron = lapland_patron()
    request = subject_request(patron, kind)
    answer = post(f"/api/v1/subject-requests/{request.pk}/restriction/", {"ground": ground})
    assert answer.status_code == 400 and answer.json()["rule"] == rule
    assert not ProcessingRestriction.objects.filter(patron=patron).exists()


def test_a_rectification_restricts_while_the_accuracy_is_verified_and_stays_open():
    patron = lapland_patron()
    request = subject_request(patron, RequestKind.RECTIFICATION)
    answer = post(f"/api/v1/subject-requests/{request.pk}/restriction/", {"ground": "art18_1_a"})
    assert answer.status_code == 200 and answer.json()["completed_on"] is None
    again = post(
        f"/api/v1/subject-requests/{subject_request(patron, RequestKind.RESTRICTION).pk}/restriction/",
        {"ground": "art18_1_b"},
    )
    assert again.status_code == 400 and again.json()["rule"] == "already_restricted"


def test_staff_cannot_restrict_or_lift():
    patron = lapland_patron()
    request = subject_request(patron, RequestKind.RESTRICTION)
    answer = post(f"/api/v1/subject-requests/{request.pk}/restriction/", {"ground": "art18_1_a"}, "rovaniemi.staff")
    assert answer.status_code == 403
    assert not ProcessingRestriction.objects.filter(patron=patron).exists()


def test_lifting_needs_the_day_the_patron_was_told_not_in_the_future_nor_before_the_restriction():
    patron = lapland_patron()
    request = subject_request(patron, RequestKind.RESTRICTION)
    post(f"/api/v1/subject-requests/{request.pk}/restriction/", {"ground": "art18_1_d"})
    lift = f"/api/v1/subject-requests/{request.pk}/restriction/lift/"

    assert post(lift, {}).status_code == 400
    tomorrow = post(lift, {"informed_on": (today() + datetime.timedelta(days=1)).isoformat()})
    assert tomorrow.json()["rule"] == "informed_in_future"
    yesterday = post(lift, {"informed_on": (today() - datetime.timedelta(days=1)).isoformat()})
    assert yesterday.json()["rule"] == "informed_before_restriction"
    assert ProcessingRestriction.objects.get(patron=patron).lifted_at is None

    lifted = post(lift, {"informed_on": today().isoformat()})

    assert lifted.status_code == 200
    shown = lifted.json()["processing_restriction"]
    assert shown["patron_informed_on"] == today().isoformat() and shown["lifted_by"] == "dpo"
    assert post(lift, {"informed_on": today().isoformat()}).json()["rule"] == "not_restricted_by_request"


def test_the_admin_restricts_on_the_request_page_lists_the_restriction_and_lifts_it():
    patron = lapland_patron()
    request = subject_request(patron, RequestKind.RESTRICTION)
    dpo = client_for("dpo")
    page = f"/admin/dpo/subjectrequest/{request.pk}/change/"
    assert 'id="step-restriction"' in dpo.get(page).content.decode()

    dpo.post(page, {"_step": "restriction", "restriction-ground": "art18_1_a"})

    shown = dpo.get(page).content.decode()
    assert 'id="step-restriction_lift"' in shown and "processing-restriction" in shown
    listed = dpo.get("/admin/patrons/processingrestriction/?in_force=yes").content.decode()
    assert f">{patron.pk}<" in listed
    dpo.post(page, {"_step": "restriction_lift", "restriction_lift-informed_on": today().isoformat()})
    assert ProcessingRestriction.objects.get(patron=patron).patron_informed_on == today()
    assert client_for("rovaniemi.staff").get("/admin/patrons/processingrestriction/").status_code in (302, 403)


def test_the_koha_sync_skips_a_restricted_patron_and_counts_it(fake_koha, consortium):  # noqa: F811
    koha = koha_patron(fake_koha, surname="Vanha", cardnumber="K1", email="vanha@example.fi")
    run("--full")
    patron = Patron.objects.get(consortium=consortium, koha_patron_id=koha["patron_id"])
    ProcessingRestriction.objects.create(
        patron=patron, ground="art18_1_a", restricted_at=timezone.now(), restricted_by="dpo"
    )
    fake_koha.update_patron(koha["patron_id"], surname="Uusi", email="uusi@example.fi")

    out = run("--full")

    assert count_of(out, r"patrons restricted \(GDPR Art. 18\), not overwritten") == 1
    patron.refresh_from_db()
    assert (patron.last_name, patron.email) == ("Vanha", "vanha@example.fi")
    ProcessingRestriction.objects.filter(patron=patron).update(lifted_at=timezone.now())
    run("--full")
    patron.refresh_from_db()
    assert patron.last_name == "Uusi"


def test_a_record_kept_under_a_legal_hold_is_found_by_no_staff_search_read_or_write_only_by_the_dpo():
    world = Decided(retain_until=today() + datetime.timedelta(days=600))
    patron = world.patron
    staff = client_for("rovaniemi.staff")
    assert staff.get(f"/api/v1/patrons/?search={patron.cardnumber}").json()["count"] == 1  # before the erasure
    assert erase(world.request.pk, dry_run=False).status_code == 200
    patron.refresh_from_db()
    assert patron.held_after_erasure and patron.last_name

    by_name = staff.post("/api/v1/patrons/search/", {"search": patron.last_name}, content_type=JSON).json()
    assert patron.pk not in [row["id"] for row in by_name["results"]]
    by_card = staff.get(f"/api/v1/patrons/?search={patron.cardnumber}").json()
    assert by_card["count"] == 0
    assert patron.last_name not in staff.post("/patrons/", {"q": patron.cardnumber}, follow=True).content.decode()
    assert staff.get(f"/api/v1/patrons/{patron.pk}/").status_code == 404
    assert staff.get(f"/patrons/{patron.pk}/").status_code == 404
    assert staff.get(f"/api/v1/patrons/{patron.pk}/notes/{world.cited.pk}/").status_code == 404
    note = {"category": "general", "text": "Löytyikö?"}
    assert staff.post(f"/api/v1/patrons/{patron.pk}/notes/", note, content_type=JSON).status_code == 404
    billing = client_for("rovaniemi.billing").post("/billing/", {"q": patron.cardnumber}).content.decode()
    assert patron.last_name not in billing
    assert client_for("dpo").get(f"/api/v1/patrons/{patron.pk}/access-events/").status_code == 200


def test_the_access_report_lists_the_restriction_with_its_ground_and_when_the_patron_was_told():
    """Art. 15: a restriction and its lifting are processing of the patron's data, and the patron sees them."""
    from tests.dpo.test_access_report import make_request, records, report_of

    patron = lapland_patron()
    request = subject_request(patron, RequestKind.RESTRICTION)
    post(f"/api/v1/subject-requests/{request.pk}/restriction/", {"ground": "art18_1_d"})
    post(f"/api/v1/subject-requests/{request.pk}/restriction/lift/", {"informed_on": today().isoformat()})

    listed = records(report_of(make_request(patron).pk), "processing_restrictions")

    assert len(listed) == 1
    assert listed[0]["ground"]["value"] == "art18_1_d"
    assert listed[0]["patron_informed_on"]["value"] == today().isoformat()
    assert listed[0]["lifted_at"]["value"] is not None
