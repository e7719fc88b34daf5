"""The daily access review ("watching the watchers"): staff reads against their usual volume, reads of
colleagues' records, of patrons sharing the reader's surname and of protected patrons, for the DPO."""

import datetime
import html
import ipaddress
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.actor import Actor
from audit.models import AccessEvent, Action, Outcome
from audit.services import access_event_record
from dpo.review import access_review_build
from patrons.models import Patron
from staff import ip_allowlist
from staff.models import StaffProfile
from tests.conftest import OWN_NETWORK, client_for

pytestmark = pytest.mark.django_db

HELSINKI = ZoneInfo("Europe/Helsinki")
DAY = datetime.date(2026, 3, 10)  # a Tuesday
STAFF_SURNAMES = {"Kallio", "Lehtola", "Ylitalo", "Heikkilä", "Rautio", "Korpela", "Hyvärinen", "Mårtensson"}
EVENT_LINK = re.compile(r'href="/admin/audit/accessevent/(\d+)/change/')


def at(day: datetime.date, hour: int = 12, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=HELSINKI)


def days_before(days: int) -> datetime.date:
    return DAY - datetime.timedelta(days=days)


def staff_actor(username: str) -> Actor:
    profile = StaffProfile.objects.select_related("user", "home_library__municipality").get(user__username=username)
    return Actor(
        user_id=profile.user_id,
        username=username,
        municipality_id=profile.municipality_id,
        consortium_id=profile.consortium_id,
        client_ip=ipaddress.ip_address(OWN_NETWORK[username]),
        resource="api:patron-detail",
    )


def read(
    username: str,
    patron_ids: list[int],
    when: datetime.datetime,
    *,
    times: int = 1,
    action: str = Action.PATRON_VIEW,
    outcome: str = Outcome.ALLOWED,
) -> list[int]:
    """`times` events of `username` reading `patron_ids` at `when`; their ids."""
    actor = staff_actor(username)
    with time_machine.travel(when, tick=False):
        return [
            access_event_record(
                actor=actor, action=action, outcome=outcome, patron_ids=patron_ids, data_categories=["basic"]
            ).pk
            for _ in range(times)
        ]


def plain_patrons(slug: str = "lapin-kirjastot", count: int = 3) -> list[int]:
    """Patrons nobody would flag: not protected, not staff, no staff member's surname."""
    return list(
        Patron.objects.filter(consortium__slug=slug, needs_protection=False, staff_profile__isnull=True)
        .exclude(last_name__in=STAFF_SURNAMES)
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )


def review(day: datetime.date = DAY, *, now: datetime.datetime | None = None) -> dict:
    with time_machine.travel(now or at(DAY + datetime.timedelta(days=1), 9), tick=False):
        response = client_for("dpo").get(f"/api/v1/access-review/?day={day.isoformat()}")
    assert response.status_code == 200, response.content
    return response.json()


def staff_row(body: dict, username: str) -> dict:
    (row,) = [row for row in body["staff"] if row["username"] == username]
    return row


def findings(body: dict, kind: str | None = None) -> set[tuple]:
    return {
        (f["username"], f["kind"], f["patron_id"], f["event_count"])
        for f in body["findings"]
        if kind is None or f["kind"] == kind
    }


@pytest.fixture
def own_record() -> Patron | None:
    """kemi.staff's own patron record (seed_demo links it)."""
    return StaffProfile.objects.get(user__username="kemi.staff").patron


@pytest.fixture
def protected_patron() -> Patron | None:
    return Patron.objects.filter(consortium__slug="lapin-kirjastot", needs_protection=True).order_by("pk").first()


def test_the_demo_has_a_staff_patron_and_protected_patrons(own_record):
    assert own_record is not None
    assert own_record.consortium.slug == "lapin-kirjastot"
    assert own_record.last_name == get_user_model().objects.get(username="kemi.staff").last_name
    assert 2 <= Patron.objects.filter(consortium__slug="lapin-kirjastot", needs_protection=True).count() <= 3
    # Staff share surnames with patrons of their consortium, so the review has something to compare.
    assert Patron.objects.filter(consortium__slug="lapin-kirjastot", last_name="Kallio").exists()


def test_a_burst_above_the_usual_volume_is_flagged_and_a_usual_day_is_not():
    patron = plain_patrons(count=1)
    for days in range(1, 11):
        read("rovaniemi.staff", patron, at(days_before(days)), times=5)
    # One earlier busy day does not lift the usual level: it is the median of the days with reads.
    read("rovaniemi.staff", patron, at(days_before(20)), times=60)
    burst = read("rovaniemi.staff", patron, at(DAY), times=30)
    # Above the floor, but not three times the usual 10.
    for days in range(1, 6):
        read("kemi.staff", patron, at(days_before(days)), times=10)
    read("kemi.staff", patron, at(DAY), times=25)
    # No history at all, but under the floor.
    read("rovaniemi.director", patron, at(DAY), times=5)

    body = review()
    staff = staff_row(body, "rovaniemi.staff")
    assert (staff["reads"], staff["usual"], staff["above_usual"]) == (30, 5.0, True)
    assert len(staff["history"]) == 29
    assert staff["history"][-1] == {"day": DAY.isoformat(), "reads": 30}
    assert staff["history"][-2] == {"day": days_before(1).isoformat(), "reads": 5}
    assert staff["history"][-15] == {"day": days_before(14).isoformat(), "reads": 0}
    kemi = staff_row(body, "kemi.staff")
    assert (kemi["reads"], kemi["usual"], kemi["above_usual"]) == (25, 10.0, False)
    assert staff_row(body, "rovaniemi.director")["above_usual"] is False
    assert findings(body, "above_usual") == {("rovaniemi.staff", "above_usual", None, 30)}
    assert len(burst) == 30

    usual_day = review(days_before(1))
    assert staff_row(usual_day, "rovaniemi.staff")["above_usual"] is False
    assert findings(usual_day, "above_usual") == set()


def test_the_reviewed_day_is_the_local_day():
    patron = plain_patrons(count=1)
    read("rovaniemi.billing", patron, at(days_before(1), 23, 30))  # 21:30 UTC the day before
    read("rovaniemi.billing", patron, at(DAY, 0, 15))  # 22:15 UTC the day before, already DAY in Helsinki
    staff = staff_row(review(), "rovaniemi.billing")
    assert staff["reads"] == 1
    assert staff["history"][-2]["reads"] == 1


def test_reads_of_colleagues_own_surname_and_protected_patrons_are_findings(own_record, protected_patron):
    kallio = Patron.objects.filter(
        consortium__slug="lapin-kirjastot", last_name="Kallio", needs_protection=False, staff_profile__isnull=True
    ).first()
    # Surnames are compared case-insensitively.
    get_user_model().objects.filter(username="rovaniemi.staff").update(last_name="KALLIO")
    # A colleague's record, read through the real API.
    with time_machine.travel(at(DAY, 10), tick=False):
        client = client_for("rovaniemi.staff")
        for _ in range(2):
            assert client.get(f"/api/v1/patrons/{own_record.pk}/").status_code == 200
    read("rovaniemi.staff", [kallio.pk], at(DAY, 11))
    read("kemi.staff", [own_record.pk], at(DAY, 12))  # her own record: only that, though it has her surname
    read("rovaniemi.director", [protected_patron.pk], at(DAY, 13), times=3)
    # A search listing the protected patron among others.
    read("rovaniemi.billing", [protected_patron.pk, *plain_patrons()], at(DAY, 14), action=Action.PATRON_SEARCH)
    # Refused reads showed nothing: not a finding.
    read("kemi.staff", [protected_patron.pk], at(DAY, 15), outcome=Outcome.DENIED)

    colleague_reads = AccessEvent.objects.filter(
        actor_username="rovaniemi.staff", subjects__patron_id=own_record.pk, outcome=Outcome.ALLOWED
    ).count()
    assert colleague_reads >= 2
    assert findings(review()) == {
        ("rovaniemi.staff", "colleague", own_record.pk, colleague_reads),
        ("rovaniemi.staff", "same_surname", kallio.pk, 1),
        ("kemi.staff", "own_record", own_record.pk, 1),
        ("rovaniemi.director", "protected", protected_patron.pk, 3),
        ("rovaniemi.billing", "protected", protected_patron.pk, 1),
    }


def test_another_consortiums_staff_are_not_in_the_lapland_review():
    mikkeli_patrons = plain_patrons("mikkelin-seutukirjasto", count=2)
    Patron.objects.filter(pk=mikkeli_patrons[0]).update(needs_protection=True)
    read("mikkeli.staff", mikkeli_patrons, at(DAY), times=40)
    read("rovaniemi.staff", plain_patrons(count=1), at(DAY))
    body = review()
    assert [row["username"] for row in body["staff"]] == ["rovaniemi.staff"]
    assert all(f["username"] != "mikkeli.staff" for f in body["findings"])


def test_each_finding_links_to_exactly_the_events_behind_it(own_record, protected_patron):
    plain = plain_patrons(count=1)
    # The history makes the day a burst.
    read("rovaniemi.staff", plain, at(days_before(3)), times=2)
    burst = read("rovaniemi.staff", plain, at(DAY, 9), times=24)
    colleague = read("rovaniemi.staff", [own_record.pk], at(DAY, 10), times=2)
    protected = read("rovaniemi.staff", [protected_patron.pk, *plain], at(DAY, 23, 50), action=Action.PATRON_SEARCH)
    # Not behind any finding: the day before, refused, without patrons, or someone else's.
    read("rovaniemi.staff", [own_record.pk], at(days_before(1), 23, 55))
    read("rovaniemi.staff", [own_record.pk], at(DAY, 11), outcome=Outcome.DENIED)
    read("rovaniemi.staff", [], at(DAY, 12), action=Action.LOGIN)
    read("rovaniemi.director", [own_record.pk], at(DAY, 13))

    body = review()
    expected = {
        ("above_usual", None): set(burst + colleague + protected),
        ("colleague", own_record.pk): set(colleague),
        ("protected", protected_patron.pk): set(protected),
    }
    mine = {(f["kind"], f["patron_id"]): f for f in body["findings"] if f["username"] == "rovaniemi.staff"}
    assert mine.keys() == expected.keys()
    dpo = client_for("dpo")
    for key, event_ids in expected.items():
        assert mine[key]["event_count"] == len(event_ids)
        response = dpo.get(mine[key]["url"])
        assert response.status_code == 200
        assert {int(i) for i in EVENT_LINK.findall(response.content.decode())} == event_ids, key


def test_the_page_shows_charts_findings_and_day_links(own_record, protected_patron):
    read("rovaniemi.staff", [own_record.pk], at(DAY, 10))
    read("rovaniemi.director", [protected_patron.pk], at(DAY, 11))
    today = DAY + datetime.timedelta(days=1)
    with time_machine.travel(at(today, 9), tick=False):
        client = client_for("dpo")
        page = client.get("/admin/dpo/access-review/")  # yesterday by default
        body = review()
        today_page = client.get(f"/admin/dpo/access-review/?day={today.isoformat()}").content.decode()
    assert page.status_code == 200
    content = page.content.decode()
    assert content.count('<svg class="access-review-chart"') == len(body["staff"]) == 2
    assert "<script" not in content.split('id="content-main"')[1]
    # The Content Security Policy allows no inline style: the charts use classes and a static style sheet.
    assert "style=" not in content
    assert "css/access_review.css" in content
    for finding in body["findings"]:
        assert html.escape(finding["url"]) in content
    assert "rovaniemi.director" in content
    for patron in (own_record, protected_patron):
        assert f"{patron.first_name} {patron.last_name}" not in content
    assert f'href="?day={(DAY - datetime.timedelta(days=1)).isoformat()}"' in content
    assert f'href="?day={today.isoformat()}"' in content
    # Today so far can be reviewed, but there is no next day yet.
    assert f'href="?day={DAY.isoformat()}"' in today_page
    assert f'href="?day={(today + datetime.timedelta(days=1)).isoformat()}"' not in today_page


def test_a_day_after_today_or_no_day_at_all_is_refused():
    with time_machine.travel(at(DAY, 9), tick=False):
        client = client_for("dpo")
        assert client.get("/admin/dpo/access-review/?day=2026-03-11").status_code == 400
        assert client.get("/admin/dpo/access-review/?day=yesterday").status_code == 400
        response = client.get("/api/v1/access-review/?day=2026-03-11")
        assert response.status_code == 400
        assert response.json()["code"] == "access_review_future_day"
        assert client.get("/api/v1/access-review/?day=2026-13-01").status_code == 400
        assert client.get("/api/v1/access-review/?day=2026-03-10").status_code == 200


@pytest.mark.parametrize("username", ["rovaniemi.staff", "rovaniemi.director", "kemi.staff", "mikkeli.staff"])
def test_only_the_dpo_may_see_the_review(username):
    client = client_for(username)
    assert client.get("/admin/dpo/access-review/").status_code == 403
    assert client.get("/api/v1/access-review/").status_code == 403
    assert AccessEvent.objects.filter(actor_username=username, action=Action.ACCESS_REVIEW).count() == 0


def test_reading_the_review_is_logged_with_patron_ids_only(protected_patron):
    read("rovaniemi.director", [protected_patron.pk], at(DAY, 11))
    body = review()
    event = AccessEvent.objects.filter(actor_username="dpo", action=Action.ACCESS_REVIEW).order_by("-id").first()
    assert event.patron_ids == [protected_patron.pk] == [f["patron_id"] for f in body["findings"]]
    assert (event.data_categories, event.detail, event.reason) == (["access_log"], DAY.isoformat(), "")
    # Listing patron ids in the review is not itself a read of those patrons the next day.
    next_day = review(DAY + datetime.timedelta(days=1), now=at(DAY + datetime.timedelta(days=2), 9))
    assert all(row["username"] != "dpo" for row in next_day["staff"])


def dashboard(username: str) -> str:
    """The admin home page as `username` sees it, in English, the day after DAY."""
    with time_machine.travel(at(DAY + datetime.timedelta(days=1), 9), tick=False):
        client = client_for(username)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def review_events(username: str) -> list[AccessEvent]:
    return list(AccessEvent.objects.filter(actor_username=username, action=Action.ACCESS_REVIEW).order_by("id"))


def test_the_dashboard_shows_yesterdays_charts_and_findings_and_logs_reading_them(own_record, protected_patron):
    read("rovaniemi.director", [protected_patron.pk], at(DAY, 11))
    read("rovaniemi.staff", [own_record.pk], at(DAY, 12), times=2)
    read("rovaniemi.billing", plain_patrons(), at(DAY, 13))  # no finding, so no chart on the dashboard
    body = review()
    for username in ("dpo", "admin"):
        before = review_events(username)
        content = dashboard(username)
        panel = content.split('id="access-review-dashboard"')[1].split("</div>")[0]
        assert re.search(r"Patron needing protection: 1\b", panel)
        assert panel.count('<svg class="access-review-chart"') == 2
        assert "rovaniemi.director" in panel and "rovaniemi.staff" in panel and "rovaniemi.billing" not in panel
        # Each finding links to its events; the whole review is one click away.
        assert len(body["findings"]) == 2
        for finding in body["findings"]:
            assert f'<a href="{html.escape(finding["url"])}">' in panel
        assert f'href="/admin/dpo/access-review/?day={DAY.isoformat()}"' in panel
        # The Content Security Policy allows no inline style; the charts' style sheet is loaded.
        assert "style=" not in content
        assert "css/access_review.css" in content
        for patron in (own_record, protected_patron):
            assert f"{patron.first_name} {patron.last_name}" not in content
        # Patron ids are shown, so the view is logged like the review page: once per view.
        [event] = review_events(username)[len(before) :]
        assert event.patron_ids == sorted([own_record.pk, protected_patron.pk])
        assert (event.data_categories, event.detail) == (["access_log"], DAY.isoformat())


@pytest.mark.parametrize("username", ["rovaniemi.staff", "rovaniemi.director"])
def test_admin_users_without_the_review_permission_see_nothing_of_it_on_the_dashboard(username, protected_patron):
    read("rovaniemi.director", [protected_patron.pk], at(DAY, 11))
    # In the demo only dpo and admin use the admin site; let others in, with their own permissions.
    get_user_model().objects.filter(username=username).update(is_staff=True)
    content = dashboard(username)
    assert 'id="content-main"' in content
    assert "access-review" not in content
    assert '<svg class="access-review-chart"' not in content
    assert review_events(username) == []


def test_the_dashboard_shows_the_first_findings_and_the_staff_above_usual_first(monkeypatch, own_record):
    monkeypatch.setattr("dpo.templatetags.access_review.DASHBOARD_CHARTS", 2)
    protected = plain_patrons(count=20)
    Patron.objects.filter(pk__in=protected).update(needs_protection=True)
    read("rovaniemi.billing", protected, at(DAY, 10))  # 20 findings in one search
    read("kemi.staff", [own_record.pk], at(DAY, 11))  # only her own record: the last to get a chart
    read("rovaniemi.director", protected[:1], at(DAY, 12), times=25)  # above usual: the first chart
    content = dashboard("dpo")
    panel = content.split('id="access-review-dashboard"')[1].split("</div>")[0]
    readers = re.findall(r'<span class="access-review-reader">([\w.]+):', panel)
    assert readers == ["rovaniemi.director", "rovaniemi.billing"]
    assert panel.count('<svg class="access-review-chart"') == 2
    assert len(re.findall(r'<tr class="finding-', panel)) == 15
    assert "The first 15 of 23 findings." in panel
    assert f'href="/admin/dpo/access-review/?day={DAY.isoformat()}"' in panel


def test_the_dashboard_makes_as_many_queries_for_many_findings_as_for_few(own_record, protected_patron, monkeypatch):
    # The allow-list reads its generation number once a second: not a query of the dashboard's to count.
    monkeypatch.setattr(ip_allowlist, "GENERATION_CHECK_SECONDS", float("inf"))

    def queries() -> int:
        with time_machine.travel(at(DAY + datetime.timedelta(days=1), 9), tick=False):
            client = client_for("dpo")
            with CaptureQueriesContext(connection) as captured:
                assert client.get("/admin/").status_code == 200
        return len(captured)

    read("rovaniemi.staff", [own_record.pk], at(DAY, 9))
    queries()  # the first view fills the caches (allowed networks, staff profiles)
    few = queries()
    for username in ("rovaniemi.staff", "rovaniemi.billing", "rovaniemi.director", "kemi.staff"):
        read(username, [own_record.pk, protected_patron.pk, *plain_patrons(count=5)], at(DAY, 10), times=25)
        read(username, plain_patrons(count=2), at(days_before(3), 10), times=3)
    assert queries() == few


def test_the_review_makes_as_many_queries_for_many_reads_as_for_few(own_record, protected_patron):
    def queries() -> int:
        cache.clear()  # a finished day's review is cached; build it afresh each time here
        with CaptureQueriesContext(connection) as captured:
            access_review_build(actor=staff_actor("dpo"), day=DAY)
        return len(captured)

    read("rovaniemi.staff", [own_record.pk], at(DAY, 9))
    read("kemi.staff", [protected_patron.pk], at(days_before(2), 9))
    few = queries()
    for username in ("rovaniemi.staff", "rovaniemi.billing", "rovaniemi.director", "kemi.staff"):
        read(username, [own_record.pk, protected_patron.pk, *plain_patrons(count=5)], at(DAY, 10), times=5)
        read(username, plain_patrons(count=2), at(days_before(3), 10), times=3)
    assert queries() == few


def test_a_finished_days_review_is_built_once_and_todays_every_time(protected_patron):
    read("kemi.staff", [protected_patron.pk], at(DAY, 9))
    dpo = staff_actor("dpo")

    def queries(day) -> int:
        with CaptureQueriesContext(connection) as captured:
            access_review_build(actor=dpo, day=day)
        return len(captured)

    with time_machine.travel(at(DAY + datetime.timedelta(days=1), 12), tick=False):
        assert queries(DAY) > 0
        assert queries(DAY) == 0, "yesterday's review comes from the cache"
        assert queries(DAY + datetime.timedelta(days=1)) > 0
        assert queries(DAY + datetime.timedelta(days=1)) > 0, "today's is built afresh: events still come in"
