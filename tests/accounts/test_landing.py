"""Each role lands where its work is, after log-in and on `/`; an explicit, same-origin `next` still wins."""

import pytest
from django.test import Client

from audit.models import AccessEvent, Outcome
from tests.accounts.helpers import PASSWORD, demo_code, new_staff_user
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

LANDING = {
    "rovaniemi.staff": "/patrons/",
    "rovaniemi.billing": "/billing/",
    "rovaniemi.director": "/bans/queue/",
    "dpo": "/admin/",
    "admin": "/admin/",
}


@pytest.mark.parametrize(("username", "landing"), sorted(LANDING.items()))
def test_the_log_in_sends_each_role_to_its_work(username, landing):
    client = client_for(None, address="10.10.4.20")
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302 and response.url == landing


@pytest.mark.parametrize(("username", "landing"), sorted(LANDING.items()))
def test_the_front_page_sends_each_role_to_its_work(username, landing):
    response = client_for(username).get("/")
    assert response.status_code == 302 and response.url == landing
    assert client_for(username).get(response.url).status_code == 200


def test_the_front_page_sends_a_visitor_to_log_in():
    response = Client(REMOTE_ADDR="127.0.0.1").get("/")
    assert response.status_code == 302 and response.url == "/accounts/login/?next=/"


def test_a_user_with_several_roles_lands_on_the_first_of_the_order():
    new_staff_user("desk.decider", "staff", "ban_decider")
    new_staff_user("desk.everything", "staff", "billing", "ban_decider", "dpo")
    assert client_for("desk.decider").get("/").url == "/bans/queue/"
    assert client_for("desk.everything").get("/").url == "/admin/"


@pytest.mark.parametrize(
    ("next_path", "landing"),
    [("/bans/archive/", "/bans/archive/"), ("https://evil.example/patrons/", "/bans/queue/")],
)
def test_an_explicit_next_wins_when_it_is_a_path_of_this_site(next_path, landing):
    client = client_for(None, address="10.10.4.20")
    response = client.post(
        f"/accounts/login/?next={next_path}", {"username": "rovaniemi.director", "password": PASSWORD}
    )
    assert response.status_code == 302 and response.url == landing


def test_the_dpo_log_in_reaches_the_dashboard_without_a_denied_event():
    """The DPO used to land on the patron search, a 403 that logged a denied event after every log-in."""
    since = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    client = client_for(None, address="10.10.4.20")
    response = client.post("/accounts/login/", {"username": "dpo", "password": PASSWORD})
    assert response.url == "/admin/"
    response = client.get(response.url)
    assert response.status_code == 302 and response.url == "/accounts/two-factor/?next=%2Fadmin%2F"
    response = client.post("/accounts/two-factor/", {"code": demo_code("dpo"), "next": "/admin/"})
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get(response.url).status_code == 200
    events = AccessEvent.objects.filter(id__gt=since, actor_username="dpo")
    assert events.exists()
    assert not events.filter(outcome=Outcome.DENIED).exists(), list(events.values("action", "detail", "resource"))
