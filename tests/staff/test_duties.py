"""Staff duties (Swedish guidance): the yearly privacy briefing, its reminder, and the DPO's view of who is due."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from demo.patron_data import REFERENCE_DATE
from staff.duties import briefing_due_on, briefing_is_due, last_overdue_briefing_day, staff_due_for_briefing
from staff.models import StaffProfile
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/staff/staffprofile/"


def briefed(on: date | None) -> StaffProfile:
    return StaffProfile(privacy_briefing_on=on)


def profile_of(username: str) -> StaffProfile:
    return StaffProfile.objects.select_related("home_library__municipality").get(user__username=username)


def set_briefing(username: str, on: date | None, *, signed_on: date | None = date(2026, 1, 15)) -> StaffProfile:
    StaffProfile.objects.filter(user__username=username).update(
        privacy_briefing_on=on, confidentiality_signed_on=signed_on
    )
    return profile_of(username)


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- the dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("briefing", "due_on", "not_yet_due", "due"),
    [
        # Exactly one year old is not yet over a year old; the day after it is.
        (date(2025, 11, 23), date(2026, 11, 23), date(2026, 11, 23), date(2026, 11, 24)),
        (date(2025, 12, 31), date(2026, 12, 31), date(2026, 12, 31), date(2027, 1, 1)),
        # 29 February: due on 28 February, the last day of that month, overdue from 1 March.
        (date(2024, 2, 29), date(2025, 2, 28), date(2025, 2, 28), date(2025, 3, 1)),
        # Into a leap year: 28 February stays 28 February, so 29 February is already overdue.
        (date(2023, 2, 28), date(2024, 2, 28), date(2024, 2, 28), date(2024, 2, 29)),
        (date(2023, 3, 1), date(2024, 3, 1), date(2024, 3, 1), date(2024, 3, 2)),
    ],
)
def test_briefing_is_due_the_day_after_it_is_a_year_old(briefing, due_on, not_yet_due, due):
    profile = briefed(briefing)
    assert briefing_due_on(profile) == due_on
    assert not briefing_is_due(profile, not_yet_due)
    assert briefing_is_due(profile, due)
    assert not briefing_is_due(profile, briefing)


def test_never_briefed_is_due_now():
    assert briefing_due_on(briefed(None)) is None
    assert briefing_is_due(briefed(None), date(2026, 1, 1))


def test_the_database_condition_agrees_with_the_rule_on_every_day():
    """`last_overdue_briefing_day` (used in queries) gives the same answer as `briefing_is_due`, leap years included."""
    today = date(2023, 1, 1)
    while today < date(2029, 1, 1):
        cutoff = last_overdue_briefing_day(today)
        for days_ago in range(360, 372):
            briefing = today - timedelta(days=days_ago)
            assert (briefing <= cutoff) == briefing_is_due(briefed(briefing), today), (briefing, today)
        today += timedelta(days=1)


# --- the selector ------------------------------------------------------------------------------------


def test_staff_due_for_briefing_lists_the_consortium_ordered_by_due_date():
    today = date(2025, 3, 1)
    set_briefing("rovaniemi.staff", date(2024, 2, 29))  # due 28.2.2025: overdue today
    set_briefing("kemi.staff", date(2024, 3, 1))  # due 1.3.2025: not yet over a year old
    set_briefing("rovaniemi.billing", None)  # never briefed
    set_briefing("rovaniemi.director", date(2023, 6, 1))
    set_briefing("dpo", date(2025, 1, 10), signed_on=None)  # briefed, but the agreement is unsigned
    set_briefing("admin", date(2025, 1, 10))
    set_briefing("mikkeli.staff", None)  # due, but of another consortium
    lapland = profile_of("kemi.staff").consortium_id

    due = list(staff_due_for_briefing(lapland, today))

    usernames = [profile.user.username for profile in due]
    assert usernames == ["rovaniemi.billing", "rovaniemi.director", "rovaniemi.staff", "dpo"]
    assert "mikkeli.staff" not in [p.user.username for p in staff_due_for_briefing(lapland, today)]
    mikkeli = profile_of("mikkeli.staff").consortium_id
    assert [p.user.username for p in staff_due_for_briefing(mikkeli, today)] == ["mikkeli.staff"]


def test_demo_data_has_one_overdue_briefing():
    overdue = [
        p.user.username for p in StaffProfile.objects.select_related("user") if briefing_is_due(p, REFERENCE_DATE)
    ]
    assert overdue == ["rovaniemi.director"]
    assert profile_of("rovaniemi.director").privacy_briefing_on == date(2025, 9, 1)


# --- the reminder on every page ----------------------------------------------------------------------


def test_reminder_on_staff_pages_when_the_briefing_is_over_a_year_old():
    today = timezone.localdate()
    last = today - timedelta(days=400)
    set_briefing("rovaniemi.staff", last)
    response = in_english(client_for("rovaniemi.staff")).get("/patrons/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<p role="status" class="message briefing-reminder">' in page
    assert (
        f"Your yearly privacy briefing is due (last: {last.day} {last:%b %Y}). Ask your data protection officer."
        in page
    )
    # Above the content.
    assert page.index('<main id="main"') < page.index("briefing-reminder") < page.index("<h1")


def test_reminder_when_never_briefed():
    set_briefing("rovaniemi.staff", None)
    page = in_english(client_for("rovaniemi.staff")).get("/patrons/").content.decode()
    assert "Your yearly privacy briefing is due (none recorded). Ask your data protection officer." in page


@pytest.mark.parametrize("days_ago", [0, 365])
def test_no_reminder_while_the_briefing_is_current(days_ago):
    today = timezone.localdate()
    set_briefing("rovaniemi.staff", today - timedelta(days=days_ago))
    response = client_for("rovaniemi.staff").get("/patrons/")
    assert response.status_code == 200
    assert "briefing-reminder" not in response.content.decode()


def test_no_reminder_for_the_anonymous_log_in_page():
    assert "briefing-reminder" not in client_for(None).get("/accounts/login/").content.decode()


def test_the_reminder_reads_nothing_beyond_the_cached_staff_profile():
    set_briefing("rovaniemi.staff", timezone.localdate() - timedelta(days=400))
    client = client_for("rovaniemi.staff")
    client.get("/patrons/")  # compiles the allow-list, which reads every profile once per change
    with CaptureQueriesContext(connection) as queries:
        assert "briefing-reminder" in client.get("/patrons/").content.decode()
    profile_reads = [q["sql"] for q in queries.captured_queries if '"patrons_staffprofile"' in q["sql"]]
    assert len(profile_reads) == 1, profile_reads


def test_reminder_in_the_admin_site():
    set_briefing("dpo", timezone.localdate() - timedelta(days=400))
    page = in_english(client_for("dpo")).get(CHANGELIST).content.decode()
    assert 'class="messagelist briefing-reminder"' in page
    assert "Your yearly privacy briefing is due" in page
    set_briefing("dpo", timezone.localdate())
    assert "briefing-reminder" not in client_for("dpo").get(CHANGELIST).content.decode()


# --- the DPO's admin ---------------------------------------------------------------------------------


def listed(response) -> list[str]:
    assert response.status_code == 200
    return sorted(profile.user.username for profile in response.context["cl"].result_list)


LAPLAND_STAFF = [
    "admin",
    "dpo",
    "kemi.staff",
    "rovaniemi.billing",
    "rovaniemi.director",
    "rovaniemi.secretary",
    "rovaniemi.staff",
]


def test_dpo_lists_only_own_consortium_staff_and_filters_by_briefing_due():
    today = timezone.localdate()
    for username in [*LAPLAND_STAFF, "mikkeli.staff"]:
        set_briefing(username, today - timedelta(days=30))
    set_briefing("kemi.staff", today - timedelta(days=400))
    set_briefing("rovaniemi.billing", None)
    set_briefing("mikkeli.staff", None, signed_on=None)  # due, but never the Lapland DPO's business
    set_briefing("rovaniemi.staff", today - timedelta(days=30), signed_on=None)
    dpo = client_for("dpo")

    assert listed(dpo.get(CHANGELIST)) == LAPLAND_STAFF
    assert listed(dpo.get(CHANGELIST, {"briefing_due": "yes"})) == ["kemi.staff", "rovaniemi.billing"]
    assert listed(dpo.get(CHANGELIST, {"briefing_due": "no"})) == sorted(
        set(LAPLAND_STAFF) - {"kemi.staff", "rovaniemi.billing"}
    )
    assert listed(dpo.get(CHANGELIST, {"confidentiality_signed": "no"})) == ["rovaniemi.staff"]
    assert "mikkeli.staff" not in dpo.get(CHANGELIST, {"q": "mikkeli"}).content.decode()
    # The home-library filter offers only the libraries of the listed staff.
    assert "Mikkeli" not in dpo.get(CHANGELIST).content.decode()
    # Another consortium's profile does not exist for the DPO: the admin sends them back to the index.
    mikkeli = profile_of("mikkeli.staff")
    assert dpo.get(f"{CHANGELIST}{mikkeli.pk}/change/").status_code == 302
    # The superuser administers their own consortium only, like the DPO.
    assert listed(client_for("admin").get(CHANGELIST, {"briefing_due": "yes"})) == ["kemi.staff", "rovaniemi.billing"]


def test_dpo_changes_only_the_two_dates():
    staff = set_briefing("rovaniemi.staff", date(2025, 1, 1), signed_on=None)
    other_library = profile_of("kemi.staff").home_library
    own_library, user_id = staff.home_library_id, staff.user_id
    dpo = client_for("dpo")
    form = dpo.get(f"{CHANGELIST}{staff.pk}/change/").context["adminform"].form
    assert sorted(form.fields) == ["confidentiality_signed_on", "privacy_briefing_on"]

    response = dpo.post(
        f"{CHANGELIST}{staff.pk}/change/",
        {
            "confidentiality_signed_on": "2026-02-01",
            "privacy_briefing_on": "2026-10-12",
            "home_library": other_library.pk,
            "user": profile_of("dpo").user_id,
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.confidentiality_signed_on == date(2026, 2, 1)
    assert staff.privacy_briefing_on == date(2026, 10, 12)
    assert (staff.home_library_id, staff.user_id) == (own_library, user_id)
    assert dpo.get(f"{CHANGELIST}add/").status_code == 403
    assert dpo.get(f"{CHANGELIST}{staff.pk}/delete/").status_code == 403
    assert dpo.post(f"{CHANGELIST}{staff.pk}/delete/", {"post": "yes"}).status_code == 403
    assert StaffProfile.objects.filter(pk=staff.pk).exists()


def test_dpo_cannot_change_another_consortiums_staff():
    mikkeli = set_briefing("mikkeli.staff", date(2024, 1, 1))
    response = client_for("dpo").post(
        f"{CHANGELIST}{mikkeli.pk}/change/", {"privacy_briefing_on": "2026-10-12", "_save": "Save"}
    )
    assert response.status_code == 302
    mikkeli.refresh_from_db()
    assert mikkeli.privacy_briefing_on == date(2024, 1, 1)


def test_admin_index_tells_the_dpo_who_is_due():
    today = timezone.localdate()
    for username in [*LAPLAND_STAFF, "mikkeli.staff"]:
        set_briefing(username, today)
    set_briefing("kemi.staff", None)
    set_briefing("rovaniemi.staff", today - timedelta(days=400))
    set_briefing("rovaniemi.billing", today, signed_on=None)
    set_briefing("mikkeli.staff", None)

    page = in_english(client_for("dpo")).get("/admin/").content.decode()

    assert f'<a href="{CHANGELIST}?briefing_due=yes">Staff due for their privacy briefing: 2</a>' in page
    assert (
        f'<a href="{CHANGELIST}?confidentiality_signed=no">Staff without a signed confidentiality agreement: 1</a>'
    ) in page
    # Staff without the permission get no such note (they do not reach the admin index at all).
    assert client_for("rovaniemi.staff").get("/admin/").status_code == 302
