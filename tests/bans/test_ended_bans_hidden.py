"""The mark is removed when the ban ends (Mikkeli notice): an ended, lapsed or cancelled ban is gone from every
staff view, while ban deciders and the DPO still find the decision in the decision archive."""

import datetime

import pytest

from patrons.models import Patron
from tests.patrons.procedure import (
    MONDAY,
    SECRETARY,
    as_user,
    ban_through,
    court_appeal,
    days,
    ok,
    on,
    post,
    rectification,
    rectification_notice,
)

pytestmark = pytest.mark.django_db

# Monday 2.3.2026; a ten-day ban runs to Wednesday 11.3.2026.
FIRST_DAY = datetime.date(2026, 3, 2)
LAST_DAY = datetime.date(2026, 3, 11)
NUMBER = "ROV-2026-42"


def active_bans(client, patron: Patron) -> list[dict]:
    return ok(client.get(f"/api/v1/patrons/{patron.pk}/"))["active_bans"]


def patron_page(client, patron: Patron) -> str:
    response = client.get(f"/patrons/{patron.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def assert_gone_for_staff(username: str, patron: Patron, ban_id: int) -> None:
    staff = as_user(username)
    assert active_bans(staff, patron) == []
    page = patron_page(staff, patron)
    assert NUMBER not in page and f"/bans/{ban_id}/" not in page
    assert staff.get(f"/api/v1/bans/{ban_id}/").status_code == 404
    assert staff.get(f"/bans/{ban_id}/").status_code == 404


def assert_in_the_archive(ban_id: int, status: str) -> None:
    for username in ("rovaniemi.director", "dpo"):
        ban = ok(as_user(username).get(f"/api/v1/bans/{ban_id}/"))
        assert (ban["status"], ban["decision_number"]) == (status, NUMBER)
    archive = as_user("rovaniemi.director").get("/bans/archive/")
    assert archive.status_code == 200 and NUMBER in archive.content.decode()
    assert as_user("rovaniemi.staff").get("/bans/archive/").status_code == 403


@pytest.fixture
def ended_ban(lapland_patron) -> dict:
    """A ten-day ban decided and notified in March 2026, in force until 11.3.2026."""
    with on(FIRST_DAY):
        ban = ban_through(lapland_patron.pk, length=10, number=NUMBER)
        staff = as_user("rovaniemi.staff")
        assert [b["id"] for b in active_bans(staff, lapland_patron)] == [ban["id"]]
        assert NUMBER in patron_page(staff, lapland_patron)
    with on(LAST_DAY):
        assert [b["id"] for b in active_bans(as_user("rovaniemi.staff"), lapland_patron)] == [ban["id"]]
    return ban


@pytest.mark.parametrize("username", ["rovaniemi.staff", "kemi.staff", "rovaniemi.billing"])
def test_an_ended_ban_is_gone_from_every_staff_view(username, lapland_patron, ended_ban):
    with on(LAST_DAY + datetime.timedelta(days=1)):
        assert_gone_for_staff(username, lapland_patron, ended_ban["id"])


def test_an_ended_ban_stays_in_the_decision_archive(lapland_patron, ended_ban):
    with on(LAST_DAY + datetime.timedelta(days=1)):
        assert_in_the_archive(ended_ban["id"], "ended")
    # And still long after, as the service runs today.
    assert_in_the_archive(ended_ban["id"], "ended")
    assert_gone_for_staff("rovaniemi.staff", lapland_patron, ended_ban["id"])


def test_a_proposal_never_decided_lapses_out_of_staff_views(lapland_patron):
    with on(FIRST_DAY):
        ban = ban_through(lapland_patron.pk, length=10, step="heard")
        assert ok(as_user("rovaniemi.staff").get(f"/api/v1/bans/{ban['id']}/"))["status"] == "heard"
    with on(LAST_DAY + datetime.timedelta(days=1)):
        staff = as_user("rovaniemi.staff")
        assert staff.get(f"/api/v1/bans/{ban['id']}/").status_code == 404
        assert f"/bans/{ban['id']}/" not in patron_page(staff, lapland_patron)
        assert ok(as_user("rovaniemi.director").get(f"/api/v1/bans/{ban['id']}/"))["status"] == "lapsed"


def test_a_cancelled_ban_is_gone_from_staff_views_at_once(lapland_patron):
    with on(MONDAY):
        ban = ban_through(lapland_patron.pk, length=10, number=NUMBER)
        staff = as_user("rovaniemi.staff")
        assert [b["id"] for b in active_bans(staff, lapland_patron)] == [ban["id"]]
        assert NUMBER in patron_page(staff, lapland_patron)
        cancel = post(as_user("rovaniemi.director"), f"/api/v1/bans/{ban['id']}/cancel/", {"reason": "Settled."})
        assert ok(cancel)["status"] == "cancelled"
        assert_gone_for_staff("rovaniemi.staff", lapland_patron, ban["id"])
        assert_in_the_archive(ban["id"], "cancelled")


def test_an_overturned_ban_is_gone_from_staff_views_at_once(lapland_patron):
    with on(MONDAY):
        ban = ban_through(lapland_patron.pk, length=10, number=NUMBER)
        ok(rectification(as_user(SECRETARY), ban["id"], MONDAY, "overturned"))
        assert_gone_for_staff("rovaniemi.staff", lapland_patron, ban["id"])
        assert_in_the_archive(ban["id"], "overturned")


def test_a_ban_overturned_by_the_court_is_gone_from_staff_views_at_once(lapland_patron):
    """Local Government Act 410/2015 ss. 145-146: the court overturns the board's decision that upheld the ban."""
    with on(MONDAY):
        ban = ban_through(lapland_patron.pk, length=20, number=NUMBER)
        ok(rectification(as_user(SECRETARY), ban["id"], MONDAY, "upheld"))
        ok(rectification_notice(as_user("rovaniemi.staff"), ban["id"], MONDAY))
        ok(court_appeal(as_user("rovaniemi.director"), ban["id"], MONDAY))
        assert NUMBER in patron_page(as_user("rovaniemi.staff"), lapland_patron)  # pending: still in force
    with on(MONDAY + days(5)):
        ok(court_appeal(as_user("rovaniemi.director"), ban["id"], MONDAY, "overturned"))
        assert_gone_for_staff("rovaniemi.staff", lapland_patron, ban["id"])
        assert_in_the_archive(ban["id"], "overturned")
