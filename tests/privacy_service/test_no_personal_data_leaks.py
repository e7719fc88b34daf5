"""Personal data stays out of logs and error pages, with DEBUG off and on."""

import io
import logging

import pytest
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path

from patrons.models import Patron
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def failing_view(request, patron_id: int) -> HttpResponse:
    patron = Patron.objects.get(pk=patron_id)
    full_name = f"{patron.first_name} {patron.last_name}"
    raise RuntimeError("boom while handling a patron " + str(patron.pk) + " " + full_name[:0])


urlpatterns = [path("boom/<int:patron_id>/", failing_view)]


def secrets_of(patron: Patron) -> list[str]:
    return [value for value in (patron.last_name, patron.first_name, patron.email, patron.cardnumber) if value]


@pytest.fixture
def captured_log():
    """What the service's console log handler writes, whatever logger it comes from."""
    stream = io.StringIO()
    handlers = {h for name in ("", "django.server", "django.request") for h in logging.getLogger(name).handlers}
    originals = {}
    for handler in handlers:
        if isinstance(handler, logging.StreamHandler):
            originals[handler] = handler.setStream(stream)
    yield stream
    for handler, original in originals.items():
        handler.setStream(original)


@pytest.mark.parametrize("debug", [False, True])
def test_error_pages_show_no_personal_data(settings, debug, lapland_patron, captured_log):
    settings.DEBUG = debug
    with override_settings(ROOT_URLCONF=__name__):
        client = Client(raise_request_exception=False, REMOTE_ADDR="127.0.0.1")
        response = client.get(f"/boom/{lapland_patron.pk}/", {"q": lapland_patron.last_name})
    assert response.status_code == 500
    body = response.content.decode()
    if debug:
        assert "boom while handling" in body  # it is the debug page...
    for secret in secrets_of(lapland_patron):
        assert secret not in body  # ...without the patron's data or the search term
        assert secret not in captured_log.getvalue()


@pytest.mark.parametrize("debug", [False, True])
def test_not_found_and_forbidden_pages_do_not_echo_the_search(settings, debug, lapland_patron, captured_log):
    settings.DEBUG = debug
    term = lapland_patron.last_name
    responses = [
        client_for("dpo").post("/patrons/", {"q": term}),  # 403: the DPO does not search patrons
        client_for("rovaniemi.staff").get("/patrons/99999999/", {"q": term}),
        client_for("rovaniemi.staff").get("/no-such-page/", {"q": term}),
        client_for("rovaniemi.staff", address="192.0.2.1").post("/patrons/", {"q": term}),  # network denial
    ]
    assert [r.status_code for r in responses] == [403, 404, 404, 403]
    for response in responses:
        assert term not in response.content.decode()
    assert term not in captured_log.getvalue()


def test_request_lines_in_the_log_lose_their_query_string(captured_log):
    logging.getLogger("django.server").info('"%s" %s %s', "GET /patrons/?q=Virtanen+Aino HTTP/1.1", "200", "4711")
    logging.getLogger("django.request").warning("Not Found: /patrons/?q=Virtanen")
    output = captured_log.getvalue()
    assert "Virtanen" not in output
    assert "GET /patrons/?[redacted] HTTP/1.1" in output
