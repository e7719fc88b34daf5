"""The breach register (GDPR Art. 33-34) from the outside: the API, the admin and the dashboard.

Times: `aware_at` is stored as an aware DateTimeField, i.e. in UTC (USE_TZ), and the 72 hours are added in
UTC, so they are 72 real hours even across a daylight-saving change in Europe/Helsinki; the API answers in
local time with its offset.
"""

import datetime
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action, DataCategory
from demo.breaches import OPEN, PAST, seed_breaches
from dpo.models import AuthorityNotification, Breach, RiskLevel
from patrons.models import Patron
from patrons.selectors import notice_recipient_ids
from staff.models import Consortium, Library, StaffProfile
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

HELSINKI = ZoneInfo("Europe/Helsinki")
HOURS_72 = datetime.timedelta(hours=72)
LIST = "/api/v1/breaches/"


def helsinki(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=HELSINKI)


def parse(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value)


def post(client, url: str, body: dict):
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


def record(client, aware_at: datetime.datetime, **facts):
    return post(client, LIST, {"aware_at": aware_at.isoformat(), "description": "Laptop stolen.", **facts})


def notify(client, breach_id: int, notified_at: datetime.datetime, **body):
    url = reverse("api:breach-authority-notification", args=[breach_id])
    return post(client, url, {"notified_at": notified_at.isoformat(), **body})


def recorded(client, aware_at: datetime.datetime, **facts) -> dict:
    response = record(client, aware_at, **facts)
    assert response.status_code == 201, response.json()
    return response.json()


def detail(client, breach_id: int) -> dict:
    response = client.get(reverse("api:breach-detail", args=[breach_id]))
    assert response.status_code == 200
    return response.json()


def lapland() -> Consortium:
    return Consortium.objects.get(slug="lapin-kirjastot")


def adult_and_minor() -> tuple[Patron | None, Patron | None]:
    """An adult Lapland patron, and a Lapland minor with guardians."""
    today = timezone.localdate()
    patrons = Patron.objects.filter(consortium=lapland()).order_by("id")
    adult = patrons.filter(date_of_birth__lt=today.replace(year=today.year - 30), guardianships__isnull=True).first()
    minor = patrons.filter(date_of_birth__gt=today.replace(year=today.year - 16), guardianships__isnull=False).first()
    return adult, minor


# --- The 72 hours -----------------------------------------------------------------------------------


def test_deadline_is_exactly_72_hours_after_becoming_aware_and_aware_at_is_kept_in_utc():
    aware_at = helsinki(2026, 5, 13, 10, 15, 30)
    with time_machine.travel(aware_at + datetime.timedelta(hours=1), tick=False):
        body = recorded(client_for("dpo"), aware_at, risk="high", people_affected=40)
    assert body["id"] > 0
    assert parse(body["authority_deadline"]) == aware_at + HOURS_72
    assert parse(body["aware_at"]) == aware_at
    assert body["risk"] == "high" and body["people_affected"] == 40
    stored = Breach.objects.get(pk=body["id"])
    assert stored.aware_at.utcoffset() == datetime.timedelta(0)  # read back in UTC
    assert stored.aware_at == aware_at and stored.recorded_by == "dpo"


def test_a_weekend_or_a_holiday_does_not_move_the_deadline():
    friday = helsinki(2026, 6, 5, 16, 30)  # deadline Monday 16:30, not later
    before_midsummer = helsinki(2026, 6, 18, 9, 0)  # Midsummer Eve and Day in between; deadline a Sunday
    with time_machine.travel(helsinki(2026, 6, 18, 12, 0), tick=False):
        client = client_for("dpo")
        weekend = recorded(client, friday)
        midsummer = recorded(client, before_midsummer)
    assert parse(weekend["authority_deadline"]) == helsinki(2026, 6, 8, 16, 30)
    assert parse(midsummer["authority_deadline"]) == helsinki(2026, 6, 21, 9, 0)


@pytest.mark.parametrize(
    ("aware_at", "local_deadline"),
    [
        # Clocks go forward on 29 March 2026 (EET -> EEST): 72 real hours end at 13:00 local time.
        (helsinki(2026, 3, 27, 12, 0), helsinki(2026, 3, 30, 13, 0)),
        # Clocks go back on 25 October 2026 (EEST -> EET): they end at 11:00 local time.
        (helsinki(2026, 10, 23, 12, 0), helsinki(2026, 10, 26, 11, 0)),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_the_72_hours_are_real_hours_across_a_daylight_saving_change(aware_at, local_deadline):
    with time_machine.travel(aware_at + datetime.timedelta(minutes=5), tick=False):
        body = recorded(client_for("dpo"), aware_at)
    deadline = parse(body["authority_deadline"])
    assert (deadline - aware_at).total_seconds() == 72 * 3600
    assert deadline.astimezone(HELSINKI).replace(tzinfo=None) == local_deadline.replace(tzinfo=None)
    assert deadline.utcoffset() == local_deadline.utcoffset()  # answered in local time, offset included


def test_aware_at_given_in_utc_or_without_a_zone_means_the_same_moment():
    moment = helsinki(2026, 2, 2, 8, 0)
    with time_machine.travel(moment + datetime.timedelta(hours=2), tick=False):
        client = client_for("dpo")
        in_utc = recorded(client, moment.astimezone(datetime.UTC))
        local = post(client, LIST, {"aware_at": "2026-02-02T08:00:00", "description": "Local time."}).json()
    assert parse(in_utc["aware_at"]) == parse(local["aware_at"]) == moment


def test_aware_at_cannot_be_in_the_future_and_nothing_is_written():
    now = helsinki(2026, 4, 1, 12, 0)
    with time_machine.travel(now, tick=False):
        before = Breach.objects.count()
        response = record(client_for("dpo"), now + datetime.timedelta(minutes=1))
    assert response.status_code == 400
    assert response.json()["rule"] == "aware_at_in_future"
    assert Breach.objects.count() == before


def test_every_breach_is_recorded_even_one_unlikely_to_be_a_risk():
    aware_at = helsinki(2026, 4, 2, 9, 0)
    with time_machine.travel(aware_at + datetime.timedelta(days=5), tick=False):
        client = client_for("dpo")
        body = recorded(client, aware_at, risk="unlikely", data_categories=["listing"])
        assert body["awaiting_authority"] is False and body["time_left_seconds"] is None
        assert body["id"] in [b["id"] for b in client.get(LIST).json()]
        # Documented only: it closes without a notification (Art. 33(1)).
        close = post(client, reverse("api:breach-close", args=[body["id"]]), {"closed_on": "2026-04-07"})
    assert close.status_code == 200
    assert close.json()["closed_on"] == "2026-04-07"


# --- Notifying the authority ------------------------------------------------------------------------


def test_a_notification_exactly_at_the_deadline_needs_no_reason():
    aware_at = helsinki(2026, 9, 4, 14, 0)
    deadline = aware_at + HOURS_72
    with time_machine.travel(deadline + datetime.timedelta(hours=1), tick=False):
        client = client_for("dpo")
        breach_id = recorded(client, aware_at)["id"]
        response = notify(client, breach_id, deadline)
    assert response.status_code == 201, response.json()
    assert response.json()["phase"] == "initial"
    assert response.json()["late"] is False


def test_one_second_late_without_a_reason_is_refused_and_nothing_is_written():
    aware_at = helsinki(2026, 9, 4, 14, 0)
    late = aware_at + HOURS_72 + datetime.timedelta(seconds=1)
    with time_machine.travel(late + datetime.timedelta(hours=1), tick=False):
        client = client_for("dpo")
        breach_id = recorded(client, aware_at)["id"]
        refused = notify(client, breach_id, late, late_reason="  ")
        assert refused.status_code == 400
        assert refused.json()["rule"] == "late_reason_required"
        assert refused.json()["code"] == "late_reason_required"
        assert not AuthorityNotification.objects.filter(breach_id=breach_id).exists()
        assert detail(client, breach_id)["awaiting_authority"] is True

        accepted = notify(client, breach_id, late, late_reason="The extent was known only after the weekend.")
    assert accepted.status_code == 201
    assert accepted.json()["late"] is True
    assert accepted.json()["late_reason"] == "The extent was known only after the weekend."
    assert AuthorityNotification.objects.filter(breach_id=breach_id).count() == 1


def test_phased_notifications_initial_then_supplementary_then_final():
    aware_at = helsinki(2026, 8, 10, 8, 0)
    with time_machine.travel(aware_at + datetime.timedelta(days=30), tick=False):
        client = client_for("dpo")
        breach_id = recorded(client, aware_at)["id"]
        # Nothing to supplement before the initial notification.
        assert notify(client, breach_id, aware_at + datetime.timedelta(hours=5), phase="final").json()["rule"] == (
            "initial_first"
        )
        initial = notify(client, breach_id, aware_at + datetime.timedelta(hours=20), reference="TSV/77/2026")
        # Later phases come after the deadline and need no reason.
        supplementary = notify(client, breach_id, aware_at + datetime.timedelta(days=6))
        final = notify(client, breach_id, aware_at + datetime.timedelta(days=20), phase="final")
        second_initial = notify(client, breach_id, aware_at + datetime.timedelta(days=21), phase="initial")
        too_early = notify(client, breach_id, aware_at + datetime.timedelta(hours=10))
        body = detail(client, breach_id)
    assert [r.status_code for r in (initial, supplementary, final)] == [201, 201, 201]
    assert supplementary.json()["phase"] == "supplementary" and supplementary.json()["late"] is False
    assert second_initial.json()["rule"] == "initial_already_made"
    assert too_early.json()["rule"] == "before_initial"
    assert [n["phase"] for n in body["authority_notifications"]] == ["initial", "supplementary", "final"]
    assert body["authority_notifications"][0]["reference"] == "TSV/77/2026"
    assert body["awaiting_authority"] is False and body["time_left_seconds"] is None


def test_a_notification_cannot_be_before_becoming_aware_or_in_the_future():
    aware_at = helsinki(2026, 8, 10, 8, 0)
    now = aware_at + datetime.timedelta(hours=3)
    with time_machine.travel(now, tick=False):
        client = client_for("dpo")
        breach_id = recorded(client, aware_at)["id"]
        before = notify(client, breach_id, aware_at - datetime.timedelta(seconds=1))
        future = notify(client, breach_id, now + datetime.timedelta(minutes=1))
    assert before.json()["rule"] == "notified_before_aware"
    assert future.json()["rule"] == "notified_in_future"
    assert not AuthorityNotification.objects.filter(breach_id=breach_id).exists()


def test_detail_shows_time_left_and_the_finnish_authority():
    aware_at = helsinki(2026, 7, 1, 9, 0)
    with time_machine.travel(aware_at + datetime.timedelta(hours=10, minutes=30), tick=False):
        client = client_for("dpo", HTTP_ACCEPT_LANGUAGE="en")
        breach_id = recorded(client, aware_at)["id"]
        body = detail(client, breach_id)
    assert body["awaiting_authority"] is True
    assert body["time_left_seconds"] == (61 * 60 + 30) * 60
    assert body["authority"] == "Office of the Data Protection Ombudsman"
    assert body["consortium"] == "lapin-kirjastot"


def test_a_swedish_consortium_notifies_imy():
    eslov = Consortium.objects.get(slug="eslovs-bibliotek")
    user = get_user_model().objects.create_user("eslov.dpo", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="dpo"))
    StaffProfile.objects.create(
        user=user,
        home_library=Library.objects.filter(municipality__consortium=eslov).first(),
        confidentiality_signed_on=datetime.date(2026, 1, 15),
    )
    aware_at = helsinki(2026, 7, 1, 9, 0)
    with time_machine.travel(aware_at + datetime.timedelta(hours=1), tick=False):
        client = client_for("eslov.dpo", address="10.40.2.5", HTTP_ACCEPT_LANGUAGE="en")
        body = recorded(client, aware_at)
    assert body["authority"] == "Swedish Authority for Privacy Protection (IMY)"
    assert body["consortium"] == "eslovs-bibliotek"


# --- Updates, telling the people, closing -----------------------------------------------------------


def test_facts_known_later_are_added_and_aware_at_stays():
    adult, _minor = adult_and_minor()
    aware_at = helsinki(2026, 6, 1, 12, 0)
    with time_machine.travel(aware_at + datetime.timedelta(days=2), tick=False):
        client = client_for("dpo")
        breach_id = recorded(client, aware_at, consequences="Unknown yet.")["id"]
        url = reverse("api:breach-detail", args=[breach_id])
        response = client.patch(
            url,
            json.dumps(
                {
                    "aware_at": "2026-06-03T12:00:00+03:00",
                    "people_affected": 120,
                    "records_affected": 300,
                    "measures": "Passwords reset.",
                    "data_categories": ["contact", "basic"],
                    "affected_patron_ids": [adult.pk],
                }
            ),
            content_type="application/json",
        )
        foreign = Patron.objects.filter(consortium__slug="mikkelin-seutukirjasto").first()
        refused = client.patch(
            url, json.dumps({"affected_patron_ids": [adult.pk, foreign.pk]}), content_type="application/json"
        )
    assert response.status_code == 200
    body = response.json()
    assert (body["people_affected"], body["records_affected"], body["measures"]) == (120, 300, "Passwords reset.")
    assert body["consequences"] == "Unknown yet."  # not sent, not changed
    assert body["data_categories"] == ["contact", "basic"]
    assert parse(body["aware_at"]) == aware_at and parse(body["authority_deadline"]) == aware_at + HOURS_72
    assert refused.status_code == 400 and refused.json()["rule"] == "patron_unknown"
    assert Breach.objects.get(pk=breach_id).affected_patron_ids == [adult.pk]


def test_a_high_risk_breach_is_not_closed_before_the_authority_and_the_people_are_dealt_with():
    aware_at = helsinki(2026, 5, 4, 10, 0)
    with time_machine.travel(aware_at + datetime.timedelta(days=10), tick=False):
        client = client_for("dpo")
        breach_id = recorded(client, aware_at, risk="high")["id"]
        assert detail(client, breach_id)["people_must_be_told"] is True

        def close():
            return post(client, reverse("api:breach-close", args=[breach_id]), {"closed_on": "2026-05-14"})

        assert close().json()["rule"] == "authority_not_notified"
        assert notify(client, breach_id, aware_at + datetime.timedelta(hours=30)).status_code == 201
        refused = close()
        assert refused.status_code == 400 and refused.json()["rule"] == "people_not_told"

        exemption = reverse("api:breach-art34-exemption", args=[breach_id])
        no_details = post(client, exemption, {"exemption": "art34_3_a", "details": " "})
        assert no_details.json()["rule"] == "exemption_details_required"
        assert Breach.objects.get(pk=breach_id).art34_exemption == ""
        exempted = post(client, exemption, {"exemption": "art34_3_a", "details": "AES-256 disk encryption."})
        assert exempted.status_code == 200 and exempted.json()["people_must_be_told"] is False
        closed = close()
        assert closed.status_code == 200 and closed.json()["closed_on"] == "2026-05-14"
        # Closed, it no longer changes.
        patch = client.patch(
            reverse("api:breach-detail", args=[breach_id]),
            json.dumps({"measures": "More."}),
            content_type="application/json",
        )
    assert patch.json()["rule"] == "breach_closed"


def test_a_high_risk_breach_closes_once_the_people_were_told():
    aware_at = helsinki(2026, 5, 4, 10, 0)
    with time_machine.travel(aware_at + datetime.timedelta(days=10), tick=False):
        client = client_for("dpo")
        breach_id = recorded(client, aware_at, risk="high")["id"]
        notify(client, breach_id, aware_at + datetime.timedelta(hours=30))
        told = reverse("api:breach-people-notification", args=[breach_id])
        assert post(client, told, {"notified_on": "2026-05-20"}).json()["rule"] == "people_notified_in_future"
        assert post(client, told, {"notified_on": "2026-05-03"}).json()["rule"] == "people_notified_before_aware"
        response = post(client, told, {"notified_on": "2026-05-06"})
        assert response.status_code == 200 and response.json()["people_notified_on"] == "2026-05-06"
        closed = post(client, reverse("api:breach-close", args=[breach_id]), {"closed_on": "2026-05-14"})
    assert closed.status_code == 200


# --- Whom to tell -----------------------------------------------------------------------------------


def test_affected_contacts_give_a_minors_guardians_and_are_logged_without_personal_data():
    adult, minor = adult_and_minor()
    guardian_ids = notice_recipient_ids(minor)
    assert guardian_ids and minor.pk not in guardian_ids  # the demo world has such a minor
    aware_at = helsinki(2026, 11, 2, 9, 0)
    with time_machine.travel(aware_at + datetime.timedelta(hours=2), tick=False):
        client = client_for("dpo")
        breach_id = recorded(client, aware_at, risk="high", affected_patron_ids=[minor.pk, adult.pk])["id"]
        last_event = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()
        response = client.get(reverse("api:breach-affected-contacts", args=[breach_id]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    patrons = {p["patron_id"]: p for p in response.json()["patrons"]}
    assert set(patrons) == {adult.pk, minor.pk}
    [own] = patrons[adult.pk]["recipients"]
    assert (own["patron_id"], own["is_guardian"], own["email"], own["phone"], own["city"]) == (
        adult.pk,
        False,
        adult.email,
        adult.phone,
        adult.city,
    )
    told = patrons[minor.pk]["recipients"]
    assert sorted(r["patron_id"] for r in told) == sorted(guardian_ids)
    assert all(r["is_guardian"] for r in told)
    guardian = Patron.objects.get(pk=told[0]["patron_id"])
    assert (told[0]["email"], told[0]["street_address"]) == (guardian.email, guardian.street_address)

    [event] = AccessEvent.objects.filter(id__gt=last_event, action=Action.BREACH_CONTACTS)
    assert sorted(event.patron_ids) == sorted({adult.pk, minor.pk, *guardian_ids})
    assert DataCategory.CONTACT in event.data_categories
    assert event.actor_username == "dpo" and event.outcome == "allowed"
    stored = " ".join(str(getattr(event, f.attname)) for f in AccessEvent._meta.concrete_fields)
    for person in [adult, minor, guardian]:
        for value in (person.first_name, person.last_name, person.email, person.phone, person.street_address):
            if value:
                assert value not in stored


def test_an_erased_patron_is_reported_missing_not_listed():
    patron = Patron.objects.create(
        consortium=lapland(),
        cardnumber="BREACH-0001",
        first_name="Erkki",
        last_name="Poistettava",
        home_library=Library.objects.get(koha_library_id="ROV"),
    )
    aware_at = helsinki(2026, 11, 2, 9, 0)
    with time_machine.travel(aware_at + datetime.timedelta(hours=2), tick=False):
        client = client_for("dpo")
        breach_id = recorded(client, aware_at, affected_patron_ids=[patron.pk])["id"]
        patron_id = patron.pk
        patron.delete()
        body = client.get(reverse("api:breach-affected-contacts", args=[breach_id])).json()
    assert body["patrons"] == [] and body["missing_patron_ids"] == [patron_id]


# --- Who may ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rovaniemi.staff", "rovaniemi.billing", "rovaniemi.director", "kemi.staff"])
def test_only_the_dpo_keeps_the_register(role):
    aware_at = helsinki(2026, 11, 2, 9, 0)
    with time_machine.travel(aware_at + datetime.timedelta(hours=2), tick=False):
        breach_id = recorded(client_for("dpo"), aware_at, affected_patron_ids=[adult_and_minor()[0].pk])["id"]
        client = client_for(role)
        before = Breach.objects.count()
        denied_before = AccessEvent.objects.filter(outcome="denied").count()
        statuses = [
            client.get(LIST).status_code,
            record(client, aware_at).status_code,
            client.get(reverse("api:breach-detail", args=[breach_id])).status_code,
            notify(client, breach_id, aware_at + datetime.timedelta(hours=1)).status_code,
            client.get(reverse("api:breach-affected-contacts", args=[breach_id])).status_code,
        ]
    assert statuses == [403] * 5
    assert Breach.objects.count() == before
    assert not AuthorityNotification.objects.filter(breach_id=breach_id).exists()
    assert AccessEvent.objects.filter(outcome="denied").count() >= denied_before + 5


def test_another_consortiums_breach_does_not_exist():
    mikkeli = Consortium.objects.get(slug="mikkelin-seutukirjasto")
    aware_at = helsinki(2026, 11, 2, 9, 0)
    foreign = Breach.objects.create(
        consortium=mikkeli,
        aware_at=aware_at,
        description="Mikkeli's own breach.",
        authority_deadline=aware_at + HOURS_72,
        recorded_at=aware_at,
        recorded_by="someone",
    )
    with time_machine.travel(aware_at + datetime.timedelta(hours=2), tick=False):
        client = client_for("dpo")
        listed = [b["id"] for b in client.get(LIST).json()]
        statuses = [
            client.get(reverse("api:breach-detail", args=[foreign.pk])).status_code,
            notify(client, foreign.pk, aware_at + datetime.timedelta(hours=1)).status_code,
            post(client, reverse("api:breach-close", args=[foreign.pk]), {"closed_on": "2026-11-02"}).status_code,
            client.get(reverse("api:breach-affected-contacts", args=[foreign.pk])).status_code,
            client.get(reverse("admin:dpo_breach_change", args=[foreign.pk])).status_code,
        ]
    assert foreign.pk not in listed
    assert statuses[:4] == [404] * 4
    assert statuses[4] == 302  # the admin's "does not exist" redirect to its index
    assert not foreign.authority_notifications.exists()


# --- The admin and the dashboard --------------------------------------------------------------------


def test_the_dashboard_shows_running_deadlines_and_people_not_told():
    aware_at = helsinki(2026, 11, 2, 9, 0)
    with time_machine.travel(aware_at + datetime.timedelta(hours=30, minutes=15), tick=False):
        client = client_for("dpo")
        running = recorded(client, aware_at, risk="high")["id"]
        overdue = recorded(client, aware_at - datetime.timedelta(hours=50))["id"]  # 8 h 15 min overdue
        page = client.get(reverse("admin:index")).content.decode()
        changelist = client.get(reverse("admin:dpo_breach_changelist")).content.decode()
    assert reverse("admin:dpo_breach_change", args=[running]) in page
    assert "41 h 45 min" in page
    assert reverse("admin:dpo_breach_change", args=[overdue]) in page
    assert "breach-overdue" in page and "8 h 15 min" in page
    assert "41 h 45 min" in changelist


def test_the_admin_records_notifies_and_shows_the_rule_it_broke():
    aware_at = helsinki(2026, 10, 1, 9, 0)
    with time_machine.travel(aware_at + datetime.timedelta(days=4), tick=False):
        client = client_for("dpo")
        added = client.post(
            reverse("admin:dpo_breach_add"),
            {
                "aware_at_0": "2026-10-01",
                "aware_at_1": "09:00:00",
                "description": "Backup tape lost in transit.",
                "risk": RiskLevel.RISK,
                "affected_patron_ids": "",
            },
        )
        breach = Breach.objects.get(description="Backup tape lost in transit.")
        assert added.status_code == 302
        assert breach.authority_deadline == aware_at + HOURS_72
        url = reverse("admin:dpo_breach_authority_notification", args=[breach.pk])
        late = {"notified_at_0": "2026-10-04", "notified_at_1": "09:00:01", "phase": "", "late_reason": ""}
        refused = client.post(url, late)
        accepted = client.post(url, {**late, "late_reason": "The courier reported the loss late."})
        page = client.get(reverse("admin:dpo_breach_change", args=[breach.pk])).content.decode()
    assert refused.status_code == 200
    assert "errornote" in refused.content.decode()
    assert accepted.status_code == 302
    assert list(breach.authority_notifications.values_list("late_reason", flat=True)) == [
        "The courier reported the loss late."
    ]
    assert "The courier reported the loss late." in page


def test_the_admin_contact_list_is_logged():
    adult, minor = adult_and_minor()
    aware_at = helsinki(2026, 11, 2, 9, 0)
    with time_machine.travel(aware_at + datetime.timedelta(hours=2), tick=False):
        client = client_for("dpo")
        breach_id = recorded(client, aware_at, affected_patron_ids=[adult.pk, minor.pk])["id"]
        before = AccessEvent.objects.filter(action=Action.BREACH_CONTACTS).count()
        page = client.get(reverse("admin:dpo_breach_affected_contacts", args=[breach_id]))
    assert page.status_code == 200
    assert adult.last_name in page.content.decode()
    assert AccessEvent.objects.filter(action=Action.BREACH_CONTACTS).count() == before + 1


# --- The demo ---------------------------------------------------------------------------------------


def test_the_demo_has_a_notified_past_breach_and_an_open_one_once():
    past = Breach.objects.get(consortium=lapland(), description=PAST)
    open_breach = Breach.objects.get(consortium=lapland(), description=OPEN)
    assert past.closed_on is not None and past.authority_notifications.filter(phase="initial").exists()
    assert open_breach.closed_on is None and open_breach.risk == RiskLevel.HIGH
    assert open_breach.authority_deadline == open_breach.aware_at + HOURS_72
    assert len(open_breach.affected_patron_ids) == 3
    assert seed_breaches() == 0
