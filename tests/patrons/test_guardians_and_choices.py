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
    for day in (eighteenth, eighteenth + datetime.timedelta(days=1)):
        with time_machine.travel(at_noon(day), tick=False):
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
    Patron.objects.filter(pk=lapland_patron.pk).update(date_of_birth=datetime.date(1980, 1, 1))
    for value in (0, 2, 1):
        response = staff.patch(
            f"/api/v1/patrons/{lapland_patron.pk}/choices/",
            {"loan_history": value, "loan_history_chosen_by": "patron"},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["loan_history"] == value
    refused = staff.patch(
        f"/api/v1/patrons/{lapland_patron.pk}/choices/",
        {"loan_history": 3, "loan_history_chosen_by": "patron"},
        content_type="application/json",
    )
    assert refused.status_code == 400 and refused.json()["rule"] == "loan_history_unknown"


def test_loan_history_is_kept_only_on_a_recorded_choice_of_who_chose_and_when(staff, lapland_patron):
    Patron.objects.filter(pk=lapland_patron.pk).update(
        date_of_birth=datetime.date(1980, 1, 1), loan_history=2, loan_history_chosen_on=None, email=""
    )
    url = f"/api/v1/patrons/{lapland_patron.pk}/choices/"
    unsaid = staff.patch(url, {"loan_history": 0, "newsletter": False}, content_type="application/json")
    assert unsaid.status_code == 400 and unsaid.json()["rule"] == "loan_history_chooser_required"
    half = staff.patch(
        url,
        {"loan_history": 0, "loan_history_chosen_by": "patron", "newsletter": True},
        content_type="application/json",
    )
    assert half.status_code == 400 and half.json()["rule"] == "newsletter_needs_email"
    patron = Patron.objects.get(pk=lapland_patron.pk)
    assert (patron.loan_history, patron.loan_history_chosen_on) == (2, None), "nothing half-written"

    with time_machine.travel(at_noon(datetime.date(2026, 5, 4)), tick=False):
        chosen = client_for("rovaniemi.staff").patch(
            url, {"loan_history": 0, "loan_history_chosen_by": "patron_online"}, content_type="application/json"
        )
    data = chosen.json()
    assert (data["loan_history"], data["loan_history_chosen_on"], data["loan_history_chosen_by"]) == (
        0,
        "2026-05-04",
        "patron_online",
    )
    event = AccessEvent.objects.filter(action="patron_update", detail="choices").order_by("-id").first()
    assert event.patron_ids == [lapland_patron.pk] and event.data_categories == ["preferences"]


def test_a_koha_value_becomes_the_patrons_choice_only_when_they_state_it(staff, lapland_patron):
    Patron.objects.filter(pk=lapland_patron.pk).update(
        date_of_birth=datetime.date(1980, 1, 1), loan_history=1, loan_history_chosen_on=None
    )
    url = f"/api/v1/patrons/{lapland_patron.pk}/choices/"
    page = staff.get(f"/patrons/{lapland_patron.pk}/").content.decode()
    assert "Ei asiakkaan kirjattu valinta" in page
    same = staff.patch(url, {"loan_history": 1}, content_type="application/json").json()
    assert same["loan_history_chosen_on"] is None, "the same value without who chose records nothing"
    stated = staff.patch(url, {"loan_history": 1, "loan_history_chosen_by": "patron"}, content_type="application/json")
    assert stated.json()["loan_history_chosen_by"] == "patron" and stated.json()["loan_history_chosen_on"]


def born_years_ago(years: int, day: datetime.date) -> datetime.date:
    return day - relativedelta(years=years)


@pytest.mark.parametrize(
    ("offset", "under_13"), [(-1, True), (0, False), (1, False)], ids=["day before", "13th birthday", "day after"]
)
def test_under_13_only_a_guardian_opts_in_from_13_only_the_patron(lapland_patron, offset, under_13):
    """GDPR Art. 8(1) with the Data Protection Act 1050/2018 s. 5: a child's own consent from 13."""
    thirteenth = datetime.date(2026, 4, 10)
    Patron.objects.filter(pk=lapland_patron.pk).update(
        date_of_birth=born_years_ago(13, thirteenth), loan_history=2, loan_history_chosen_on=None
    )
    url = f"/api/v1/patrons/{lapland_patron.pk}/choices/"
    with time_machine.travel(at_noon(thirteenth + datetime.timedelta(days=offset)), tick=False):
        staff = client_for("rovaniemi.staff")
        child = staff.patch(
            url, {"loan_history": 0, "loan_history_chosen_by": "patron"}, content_type="application/json"
        )
        guardian = staff.patch(
            url, {"loan_history": 1, "loan_history_chosen_by": "guardian"}, content_type="application/json"
        )
        says_no = staff.patch(
            url, {"loan_history": 2, "loan_history_chosen_by": "patron"}, content_type="application/json"
        )
    if under_13:
        assert child.status_code == 400 and child.json()["rule"] == "loan_history_guardian_consent"
        assert guardian.status_code == 200 and guardian.json()["loan_history_chosen_by"] == "guardian"
    else:
        assert child.status_code == 200
        assert guardian.status_code == 400 and guardian.json()["rule"] == "loan_history_own_choice"
    assert says_no.status_code == 200, "saying no, or withdrawing, is the child's at any age"


def test_the_refusal_is_in_finnish_swedish_and_english(lapland_patron):
    Patron.objects.filter(pk=lapland_patron.pk).update(date_of_birth=datetime.date(2020, 1, 1), loan_history=2)
    url = f"/api/v1/patrons/{lapland_patron.pk}/choices/"
    body = {"loan_history": 0, "loan_history_chosen_by": "patron"}
    details = {
        language: client_for("rovaniemi.staff")
        .patch(url, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE=language)
        .json()["detail"]
        for language in ("fi", "sv", "en")
    }
    assert details["en"].startswith("A child under 13 cannot opt in")
    assert len(set(details.values())) == 3 and all("13" in detail for detail in details.values())


def confirmations(day: datetime.date) -> list[int]:
    with time_machine.travel(at_noon(day), tick=False):
        answer = client_for("rovaniemi.staff").get("/api/v1/patrons/loan-history-confirmations/")
    assert answer.status_code == 200, answer.content
    return [row["id"] for row in answer.json()["results"]]


def detail_on(day: datetime.date, patron: Patron) -> dict:
    with time_machine.travel(at_noon(day), tick=False):
        return client_for("rovaniemi.staff").get(f"/api/v1/patrons/{patron.pk}/").json()


def confirm_on(day: datetime.date, patron: Patron, body: dict | None = None):
    with time_machine.travel(at_noon(day), tick=False):
        return client_for("rovaniemi.staff").post(
            f"/api/v1/patrons/{patron.pk}/loan-history/confirm/", body or {}, content_type="application/json"
        )


def test_a_choice_made_younger_is_confirmed_at_15_and_again_at_18(lapland_patron):
    fifteenth = datetime.date(2026, 9, 20)
    born = born_years_ago(15, fifteenth)
    eighteenth = born + relativedelta(years=18)
    Patron.objects.filter(pk=lapland_patron.pk).update(
        date_of_birth=born,
        loan_history=0,
        loan_history_chosen_on=born + relativedelta(years=12),
        loan_history_chosen_by="guardian",
    )
    one_day = datetime.timedelta(days=1)
    assert lapland_patron.pk not in confirmations(fifteenth - one_day)
    assert detail_on(fifteenth - one_day, lapland_patron)["loan_history_confirmation_due"] is None
    refused = confirm_on(fifteenth - one_day, lapland_patron)
    assert refused.status_code == 400 and refused.json()["rule"] == "loan_history_nothing_to_confirm"
    for day in (fifteenth, fifteenth + one_day):
        assert lapland_patron.pk in confirmations(day)
        assert detail_on(day, lapland_patron)["loan_history_confirmation_due"] == 15

    by_guardian = confirm_on(fifteenth + one_day, lapland_patron, {"chosen_by": "guardian"})
    assert by_guardian.status_code == 400
    confirmed = confirm_on(fifteenth + one_day, lapland_patron).json()
    assert (confirmed["loan_history"], confirmed["loan_history_chosen_by"]) == (0, "patron")
    assert confirmed["loan_history_chosen_on"] == (fifteenth + one_day).isoformat()
    assert confirmed["loan_history_confirmation_due"] is None
    assert lapland_patron.pk not in confirmations(fifteenth + one_day)

    assert lapland_patron.pk not in confirmations(eighteenth - one_day)
    for day in (eighteenth, eighteenth + one_day):
        assert lapland_patron.pk in confirmations(day)
        assert detail_on(day, lapland_patron)["loan_history_confirmation_due"] == 18
    with time_machine.travel(at_noon(eighteenth), tick=False):
        page = client_for("rovaniemi.staff").get(f"/patrons/{lapland_patron.pk}/").content.decode()
        assert 'id="loan-history-confirmation"' in page and "täyttänyt 18 vuotta" in page
        posted = client_for("rovaniemi.staff").post(
            f"/patrons/{lapland_patron.pk}/loan-history/confirm/", {"chosen_by": "patron"}
        )
    assert posted.status_code == 302
    assert lapland_patron.pk not in confirmations(eighteenth)


def test_a_choice_made_on_the_birthday_itself_needs_no_confirmation(lapland_patron):
    fifteenth = datetime.date(2026, 9, 20)
    Patron.objects.filter(pk=lapland_patron.pk).update(
        date_of_birth=born_years_ago(15, fifteenth),
        loan_history=0,
        loan_history_chosen_on=fifteenth,
        loan_history_chosen_by="patron",
    )
    assert lapland_patron.pk not in confirmations(fifteenth + datetime.timedelta(days=1))


def test_a_29_february_child_turns_15_on_1_march():
    patron = Patron.objects.filter(consortium__slug="lapin-kirjastot").order_by("pk").first()
    Patron.objects.filter(pk=patron.pk).update(
        date_of_birth=datetime.date(2012, 2, 29),
        loan_history_chosen_on=datetime.date(2026, 2, 28),
        loan_history_chosen_by="patron",
    )
    assert patron.pk not in confirmations(datetime.date(2027, 2, 28))
    assert patron.pk in confirmations(datetime.date(2027, 3, 1))


def test_the_list_is_the_consortiums_and_its_reading_one_event_naming_the_patrons(lapland_patron, mikkeli_patron):
    day = datetime.date(2026, 9, 20)
    for patron in (lapland_patron, mikkeli_patron):
        Patron.objects.filter(pk=patron.pk).update(
            date_of_birth=born_years_ago(16, day),
            loan_history_chosen_on=day - relativedelta(years=3),
            loan_history_chosen_by="guardian",
        )
    latest = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()
    listed = confirmations(day)
    assert lapland_patron.pk in listed and mikkeli_patron.pk not in listed
    events = list(AccessEvent.objects.filter(id__gt=latest, action="patron_search"))
    assert len(events) == 1
    assert events[0].detail == "loan_history_confirmations" and events[0].patron_ids == sorted(listed)
    assert set(events[0].data_categories) == {"listing", "preferences"}
    with time_machine.travel(at_noon(day), tick=False):
        page = client_for("mikkeli.staff").get("/patrons/loan-history-confirmations/").content.decode()
    assert mikkeli_patron.last_name in page and lapland_patron.last_name not in page


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
