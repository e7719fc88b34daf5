"""The ban decider's queue: the bans of the libraries they decide for whose next step is theirs (issue 15)."""

import pytest

from audit.models import AccessEvent, Action
from bans.models import DecisionCompetence
from staff.models import Library
from tests.patrons.procedure import MONDAY, SECRETARY, as_user, ban_through, days, ok, on, rectification

pytestmark = pytest.mark.django_db
DIRECTOR = "rovaniemi.director"


@pytest.fixture(autouse=True)
def monday():
    with on(MONDAY):
        yield MONDAY


def queue(username: str = DIRECTOR) -> list[tuple[int, str]]:
    """(ban id, step) of the queue page's rows, as the page's context has them."""
    response = as_user(username).get("/bans/queue/")
    assert response.status_code == 200
    return [(item.ban.pk, str(item.step)) for item in response.context["queue"]]


def test_a_heard_ban_waits_for_the_decision_and_leaves_the_queue_once_decided(lapland_patron):
    proposed = ban_through(lapland_patron.pk, step="proposed", starts_on=MONDAY + days(3))
    assert queue() == []  # the hearing comes first: the preparer's step
    heard = ban_through(lapland_patron.pk, step="heard", starts_on=MONDAY + days(20), number="ROV-2027-2")
    assert (proposed["id"], "decision") not in queue()
    assert queue() == [(heard["id"], "decision")]
    page = as_user(DIRECTOR).get("/bans/queue/").content.decode()
    assert lapland_patron.last_name in page and f"/bans/{heard['id']}/#step-decision" in page
    assert f"{(MONDAY + days(20)):%d.%m.%Y}" in page  # due before the proposed first day


def test_a_notified_ban_waits_only_once_a_rectification_request_has_arrived(lapland_patron):
    notified = ban_through(lapland_patron.pk)
    assert queue() == []
    ok(rectification(as_user(DIRECTOR), notified["id"], MONDAY))
    assert queue() == [(notified["id"], "appeal")]
    assert queue(SECRETARY) == [(notified["id"], "appeal")]  # the board's secretary records the outcome
    ok(rectification(as_user(SECRETARY), notified["id"], MONDAY, "dismissed"))
    assert queue() == []


def test_only_the_libraries_of_the_deciders_delegation_count(lapland_patron):
    heard = ban_through(lapland_patron.pk, step="heard")
    assert queue() == [(heard["id"], "decision")]
    other = Library.objects.filter(municipality__name="Rovaniemi").exclude(koha_library_id="ROV").first()
    assert other is not None
    DecisionCompetence.objects.filter(decider__username=DIRECTOR).update(library=other)
    assert queue() == []
    DecisionCompetence.objects.filter(decider__username=DIRECTOR).update(library=None, valid_until=MONDAY - days(1))
    assert queue() == []


def test_reading_the_queue_is_logged_with_the_patrons_listed(lapland_patron):
    heard = ban_through(lapland_patron.pk, step="heard")
    since = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()
    queue()
    event = AccessEvent.objects.filter(id__gt=since, action=Action.BAN_QUEUE_VIEW).get()
    assert event.actor_username == DIRECTOR and event.patron_ids == [heard["patron"]]
    assert sorted(event.data_categories) == ["ban_decision", "listing"]


@pytest.mark.parametrize("username", ["rovaniemi.staff", "dpo"])
def test_no_one_but_a_ban_decider_reads_the_queue(username):
    assert as_user(username).get("/bans/queue/").status_code == 403


def test_the_queue_offers_the_patron_search_only_to_those_who_may_search():
    """The board's secretary decides no patron's data: a link to the search would be a 403 and a denied event."""
    secretary = as_user("rovaniemi.secretary").get("/bans/queue/").content.decode()
    director = as_user("rovaniemi.director").get("/bans/queue/").content.decode()
    assert 'href="/patrons/"' not in secretary and 'href="/bans/archive/"' in secretary
    assert 'href="/patrons/"' in director
