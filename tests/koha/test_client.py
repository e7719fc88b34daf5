"""The Koha client against the fake Koha over real HTTP (tests/fake_koha).

The attacks and failures: a wrong secret (no retry storm), a token Koha forgot, an expired token, Koha
down, slow or answering 503 again and again, 409 refusals, and paging that stops half-way and resumes.
Neither the secret, the token nor a query string appears in an error or a log line.
"""

import datetime
import io
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from koha import client as client_module
from koha.client import KohaClient
from koha.errors import KohaAuthFailed, KohaNotFound, KohaRefused, KohaUnreachable
from koha.models import KohaConnection
from staff.models import Consortium

pytestmark = pytest.mark.django_db
# Until the fake Koha's branch is merged (it registers `fake_koha` in tests/conftest.py), skip.
pytest.importorskip("tests.fake_koha.fixtures")


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def oauth2_client(fake, *, secret=None, retries=3, timeout=5.0, sleep=None) -> KohaClient:
    return KohaClient(
        base_url=fake.base_url,
        auth="oauth2",
        client_id=fake.client_id,
        secret=fake.client_secret if secret is None else secret,
        retries=retries,
        retry_base_delay=0.001,
        timeout=timeout,
        sleep=Sleeps() if sleep is None else sleep,
    )


def basic_client(fake, *, password=None) -> KohaClient:
    fake.basic_auth_enabled = True  # Koha's RESTBasicAuth
    return KohaClient(
        base_url=fake.base_url,
        auth="basic",
        client_id=fake.basic_user,
        secret=fake.basic_password if password is None else password,
        retries=2,
        retry_base_delay=0.001,
        sleep=Sleeps(),
    )


def calls(fake, method: str, path: str) -> int:
    return sum(1 for request in fake.requests if request[0] == method and request[1] == path)


TOKEN = "/api/v1/oauth/token"


def test_an_oauth2_token_is_fetched_once_and_reused(fake_koha):
    fake_koha.add_library(library_id="ROV", name="Rovaniemi")
    client = oauth2_client(fake_koha)
    assert [library["library_id"] for library in client.libraries()] == ["ROV"]
    assert client.check() == 1
    assert calls(fake_koha, "POST", TOKEN) == 1


def test_an_expired_token_is_fetched_again(fake_koha, monkeypatch):
    client = oauth2_client(fake_koha)
    client.libraries()
    now = client_module.time.monotonic()
    monkeypatch.setattr(client_module.time, "monotonic", lambda: now + 3600)
    client.libraries()
    assert calls(fake_koha, "POST", TOKEN) == 2


def test_a_token_koha_forgot_is_fetched_again_once(fake_koha):
    client = oauth2_client(fake_koha)
    client.libraries()
    fake_koha.expire_tokens()  # e.g. Koha restarted; the client still thinks its token valid
    client.libraries()
    assert calls(fake_koha, "POST", TOKEN) == 2


def test_basic_authentication(fake_koha):
    fake_koha.add_library(library_id="KEM", name="Kemi")
    assert basic_client(fake_koha).check() == 1
    assert calls(fake_koha, "POST", TOKEN) == 0


@pytest.mark.parametrize("auth", ["oauth2", "basic"])
def test_a_wrong_secret_is_auth_failed_with_one_attempt_and_no_secret_in_the_message(fake_koha, auth, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-secret-value-123"
    client = oauth2_client(fake_koha, secret=wrong) if auth == "oauth2" else basic_client(fake_koha, password=wrong)
    with pytest.raises(KohaAuthFailed) as failure:
        client.libraries()
    assert len(fake_koha.requests) == 1  # no retry storm
    assert wrong not in str(failure.value) and wrong not in caplog.text
    assert failure.value.status in (401, 403)


def test_a_403_on_a_resource_is_auth_failed_without_retries(fake_koha):
    client = oauth2_client(fake_koha)
    client.check()
    fake_koha.fail_next(403, path="/api/v1/patrons")
    with pytest.raises(KohaAuthFailed):
        next(client.patron_pages())
    assert calls(fake_koha, "GET", "/api/v1/patrons") == 1


def test_503_is_retried_with_growing_back_off_then_unreachable(fake_koha):
    sleeps = Sleeps()
    client = oauth2_client(fake_koha, retries=3, sleep=sleeps)
    client.check()
    fake_koha.fail_next(503, times=4, path="/api/v1/libraries")
    with pytest.raises(KohaUnreachable) as failure:
        client.libraries()
    assert calls(fake_koha, "GET", "/api/v1/libraries") == 1 + 4
    assert len(sleeps) == 3 and sleeps[0] < sleeps[2]
    assert failure.value.status == 503


def test_a_passing_5xx_is_cured_by_a_retry(fake_koha):
    fake_koha.add_library(library_id="ROV", name="Rovaniemi")
    client = oauth2_client(fake_koha)
    fake_koha.fail_next(500, times=2, path="/api/v1/libraries")
    assert len(client.libraries()) == 1


def test_a_patron_is_not_created_twice_after_a_server_error(fake_koha):
    client = oauth2_client(fake_koha)
    client.check()
    fake_koha.fail_next(500, path="/api/v1/patrons")
    with pytest.raises(KohaUnreachable):
        client.patron_create({"surname": "Virtanen", "library_id": "ROV", "category_id": "PT"})
    assert calls(fake_koha, "POST", "/api/v1/patrons") == 1


def test_koha_down_is_unreachable(fake_koha):
    client = oauth2_client(fake_koha, retries=1)
    fake_koha.down()
    try:
        with pytest.raises(KohaUnreachable):
            client.libraries()
    finally:
        fake_koha.up()


def test_a_slow_answer_times_out(fake_koha):
    client = oauth2_client(fake_koha, retries=1, timeout=0.2)
    client.check()
    fake_koha.delay = 1.0
    try:
        with pytest.raises(KohaUnreachable):
            client.libraries()
    finally:
        fake_koha.delay = 0


def test_not_found_and_a_409_with_kohas_error_code(fake_koha):
    client = oauth2_client(fake_koha)
    with pytest.raises(KohaNotFound):
        client.patron(987654321)
    patron = fake_koha.add_patron(surname="Korhonen", firstname="Aino", library_id="ROV", category_id="PT")
    fake_koha.add_checkout(patron["patron_id"])
    with pytest.raises(KohaRefused) as refusal:
        client.patron_delete(patron["patron_id"])
    assert refusal.value.error_code == "has_checkouts"
    assert "Korhonen" not in str(refusal.value)


def test_paging_counts_by_x_total_count_and_resumes_from_a_page(fake_koha):
    ids = {fake_koha.add_patron(surname=f"S{n}", library_id="ROV", category_id="PT")["patron_id"] for n in range(25)}
    client = oauth2_client(fake_koha)
    pages = list(client.patron_pages(per_page=10))
    assert [(page.number, len(page.items), page.total) for page in pages] == [(1, 10, 25), (2, 10, 25), (3, 5, 25)]
    assert {p["patron_id"] for page in pages for p in page.items} == ids
    # A run that stopped after page 1 (Koha went away) resumes from page 2 and sees the rest.
    fake_koha.fail_next(503, times=2, path="/api/v1/patrons")
    pager = oauth2_client(fake_koha, retries=1).patron_pages(per_page=10)
    with pytest.raises(KohaUnreachable) as failure:
        next(pager)
    assert "?" not in str(failure.value) and "_page" not in str(failure.value)
    resumed = list(client.patron_pages(per_page=10, start_page=2))
    assert [page.number for page in resumed] == [2, 3]
    assert {p["patron_id"] for page in [pages[0], *resumed] for p in page.items} == ids


def test_patrons_changed_since(fake_koha):
    fake_koha.now = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    fake_koha.add_patron(surname="Old", library_id="ROV", category_id="PT")
    fake_koha.now = None
    new = fake_koha.add_patron(surname="New", library_id="ROV", category_id="PT")
    since = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    found = [p["patron_id"] for page in oauth2_client(fake_koha).patron_pages(updated_since=since) for p in page.items]
    assert found == [new["patron_id"]]


def test_extended_attributes(fake_koha):
    patron = fake_koha.add_patron(surname="Aalto", library_id="ROV", category_id="PT")
    fake_koha.add_extended_attribute(patron["patron_id"], "SSN", "ssn0000012345")
    client = oauth2_client(fake_koha)
    attributes = client.extended_attributes(patron["patron_id"])
    assert [(a["type"], a["value"]) for a in attributes] == [("SSN", "ssn0000012345")]
    client.extended_attribute_update(patron["patron_id"], attributes[0]["extended_attribute_id"], "opaque-key-1")
    assert client.extended_attributes(patron["patron_id"])[0]["value"] == "opaque-key-1"
    found = [p["patron_id"] for page in client.patrons_with_attribute("SSN") for p in page.items]
    assert found == [patron["patron_id"]]


def test_a_patrons_data_in_koha(fake_koha):
    patron = fake_koha.add_patron(surname="Lehto", library_id="ROV", category_id="PT")
    client = oauth2_client(fake_koha)
    assert client.patron(patron["patron_id"])["surname"] == "Lehto"
    assert client.checkouts(patron["patron_id"]) == []
    assert client.holds(patron["patron_id"]) == []
    assert isinstance(client.account(patron["patron_id"]), dict)
    assert isinstance(client.action_logs(patron["patron_id"]), list)


# --- koha_connect's test call --------------------------------------------------------------------


def run_connect(fake, secret: str, monkeypatch) -> str:
    monkeypatch.setenv("KOHA_CLIENT_SECRET", secret)
    out = io.StringIO()
    with translation.override("en"):
        call_command(
            "koha_connect", "lapin-kirjastot", "--url", fake.base_url, "--client-id", fake.client_id, stdout=out
        )
    return out.getvalue()


def test_koha_connect_says_whether_the_connection_works(fake_koha, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    fake_koha.add_library(library_id="ROV", name="Rovaniemi")
    out = run_connect(fake_koha, fake_koha.client_secret, monkeypatch)
    assert "The connection works" in out and fake_koha.client_secret not in out
    with pytest.raises(CommandError) as failure:
        run_connect(fake_koha, "not-the-secret-4711", monkeypatch)
    assert "does not work" in str(failure.value) and "not-the-secret-4711" not in str(failure.value)
    assert fake_koha.client_secret not in caplog.text and "not-the-secret-4711" not in caplog.text
    connection = KohaConnection.objects.get(consortium=Consortium.objects.get(slug="lapin-kirjastot"))
    with pytest.raises(KohaAuthFailed):  # the wrong secret was saved, and is what the client uses
        connection.client().check()
