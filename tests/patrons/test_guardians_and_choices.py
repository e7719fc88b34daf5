"""Guardians and minors, adults under guardianship, and the patron's own choices, from the outside."""

import datetime

import pytest
import time_machine
from dateutil.relativedelta import relativedelta

from audit.models import AccessEvent
from patrons.models import Guardianship, Patron, RegisterMembership
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return client_for("rovaniemi.staff")


@pytest.fixture
def minor_with_guardian() -> Patron:
    link = Guardianship.objects.filter(ward__consortium__slug="lapin-kirjastot").select_related("ward").first()
    return link.ward


def at_noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, 12, tzinfo=datetime.UTC)


def test_notices_go_to_the_guardian_until_the_patron_turns_18_then_to_the_patron(minor_with_guardian):
    guardians = sorted(minor_with_guardian.guardianships.values_list("guardian_id", flat=True))
    eighteenth = minor_with_guardian.date_of_birth + relativedelta(years=18)
    # Logged in on each day itself: a session does not last the years between.
    with time_machine.travel(at_noon(eighteenth - datetime.timedelta(days=1)), tick=False):
        data = client_for("rovaniemi.staff").get(f"/api/v1/patrons/{minor_with_guardian.pk}/").json()
        assert sorted(data["notices_to"]) == guardians
    with time_machine.travel(at_noon(eighteenth), tick=False):
        data = client_for("rovaniemi.staff").get(f"/api/v1/patrons/{minor_with_guardian.pk}/").json()
        assert data["notices_to"] == [minor_with_guardian.pk]


def test_a_guardians_record_gives_no_view_of_the_wards_notes(staff, minor_with_guardian):
    ward = minor_with_guardian
    guardian = ward.guardianships.first().guardian
    staff.post(
        f"/api/v1/patrons/{ward.pk}/notes/",
        {"category": "general", "text": "Asked for books about dinosaurs."},
        content_type="application/json",
    )
    guardian_json = staff.get(f"/api/v1/patrons/{guardian.pk}/").content.decode()
    guardian_notes = staff.get(f"/api/v1/patrons/{guardian.pk}/notes/").content.decode()
    assert "dinosaurs" not in guardian_json and "dinosaurs" not in guardian_notes
    page = staff.get(f"/patrons/{guardian.pk}/").content.decode()
    assert "dinosaurs" not in page


def test_the_loan_history_choice_maps_to_kohas_privacy_values(staff, lapland_patron):
    for value in (0, 2, 1):
        response = staff.patch(
            f"/api/v1/patrons/{lapland_patron.pk}/choices/", {"loan_history": value}, content_type="application/json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["loan_history"] == value
    refused = staff.patch(
        f"/api/v1/patrons/{lapland_patron.pk}/choices/", {"loan_history": 3}, content_type="application/json"
    )
    assert refused.status_code == 400 and refused.json()["rule"] == "loan_history_unknown"


def test_the_newsletter_needs_an_email_and_records_the_consent_date(staff, lapland_patron):
    Patron.objects.filter(pk=lapland_patron.pk).update(email="")
    url = f"/api/v1/patrons/{lapland_patron.pk}/choices/"
    refused = staff.patch(url, {"newsletter": True}, content_type="application/json")
    assert refused.status_code == 400 and refused.json()["rule"] == "newsletter_needs_email"
    assert not RegisterMembership.objects.filter(patron=lapland_patron).exists()

    Patron.objects.filter(pk=lapland_patron.pk).update(email="aino@example.fi")
    joined = staff.patch(url, {"newsletter": True, "home_service": True}, content_type="application/json").json()
    registers = {r["register"]: r for r in joined["registers"]}
    assert set(registers) == {"newsletter", "home_service"}
    assert registers["newsletter"]["consent_on"] is not None
    assert registers["home_service"]["consent_on"] is None

    left = staff.patch(url, {"newsletter": False}, content_type="application/json").json()
    assert [r["register"] for r in left["registers"]] == ["home_service"]
    event = AccessEvent.objects.filter(action="patron_update", detail="choices").order_by("-id").first()
    assert event.patron_ids == [lapland_patron.pk] and "registers" in event.data_categories


def test_an_adult_under_guardianship_is_a_sensitive_mark_whose_contact_opens_on_request(staff, lapland_patron):
    adult = Patron.objects.filter(consortium=lapland_patron.consortium, date_of_birth__lt=datetime.date(1980, 1, 1))[0]
    url = f"/api/v1/patrons/{adult.pk}/adult-guardianship/"
    assert staff.get(url).status_code == 404
    body = {"guardian_name": "Oikeusaputoimisto, yleinen edunvalvonta", "guardian_phone": "029 56 60000"}
    assert staff.put(url, body, content_type="application/json").status_code == 200

    patron_json = staff.get(f"/api/v1/patrons/{adult.pk}/").json()
    assert patron_json["under_guardianship"] is True
    assert "029 56 60000" not in str(patron_json)
    page = staff.get(f"/patrons/{adult.pk}/").content.decode()
    assert "029 56 60000" not in page

    before = AccessEvent.objects.filter(action="sensitive_read").count()
    opened = staff.get(url).json()
    assert opened["guardian_phone"] == "029 56 60000"
    event = AccessEvent.objects.filter(action="sensitive_read").order_by("-id").first()
    assert AccessEvent.objects.filter(action="sensitive_read").count() == before + 1
    assert event.data_categories == ["trusteeship"] and event.patron_ids == [adult.pk]

    assert staff.delete(url).status_code == 204
    assert staff.get(f"/api/v1/patrons/{adult.pk}/").json()["under_guardianship"] is False


def test_adult_guardianship_is_for_adults_and_needs_a_contact(staff, minor_with_guardian, lapland_patron):
    url = f"/api/v1/patrons/{minor_with_guardian.pk}/adult-guardianship/"
    minor = staff.put(url, {"guardian_name": "X", "guardian_phone": "1"}, content_type="application/json")
    assert minor.status_code == 400 and minor.json()["rule"] == "trusteeship_adults_only"
    adult = Patron.objects.filter(consortium=lapland_patron.consortium, date_of_birth__lt=datetime.date(1980, 1, 1))[0]
    no_contact = staff.put(
        f"/api/v1/patrons/{adult.pk}/adult-guardianship/", {"guardian_name": "X"}, content_type="application/json"
    )
    assert no_contact.status_code == 400 and no_contact.json()["rule"] == "guardian_contact_required"
