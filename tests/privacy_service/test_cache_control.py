"""`Cache-Control: no-store` on every answer that may hold personal data (privacy_service/cache_control.py).

The attack: an answer without it is kept by the browser's cache or a proxy after the staff member has
moved on; before issue 10, 34 API routes answered without it (the patron JSON, notes, the guardian's
contact, access events, subject requests...). Every route comes from the URL configuration, as in
tests/test_access_matrix.py, so a new route is walked without anyone adding it here.
"""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import resolve

from tests.conftest import client_for
from tests.test_access_matrix import concrete_path, objects, url_patterns  # noqa: F401 - objects is a fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def matrix_objects(request) -> dict:
    """The access matrix's objects: one real object per URL parameter."""
    return request.getfixturevalue("objects")


ROLES = ["rovaniemi.staff", "rovaniemi.billing", "rovaniemi.director", "dpo", "admin"]
WRITE_METHODS = ("post", "put", "patch", "delete")


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def api_routes(matrix_objects: dict) -> list[str]:
    return [
        path for key, route in url_patterns() if (path := concrete_path(key, route, matrix_objects)).startswith("/api/")
    ]


def methods_of(path: str) -> list[str]:
    """GET (a 405 where the route has none) and every write method the route's view has."""
    view = getattr(resolve(path).func, "cls", None)
    return ["get", *(method for method in WRITE_METHODS if view is None or hasattr(view, method))]


def client_as(role: str | None):
    client = client_for(role)
    client.raise_request_exception = False  # a server error must be no-store too
    return client


def test_every_api_answer_is_no_store_for_every_role_and_method(matrix_objects):
    """Each API route, as each role (so each route is met as a role it lets in and as roles it refuses),
    with each of its methods and an empty body: the 2xx answers and the errors alike."""
    routes = api_routes(matrix_objects)
    assert len(routes) >= 40
    statuses = set()
    failures = []
    for role in [None, *ROLES]:
        client = client_as(role)
        user = get_user_model().objects.get(username=role) if role else None
        for path in routes:
            for method in methods_of(path):
                if user is not None:
                    client.force_login(user)
                if method == "get":
                    response = client.get(path)
                else:
                    response = getattr(client, method)(path, data=json.dumps({}), content_type="application/json")
                statuses.add(response.status_code)
                if not no_store(response):
                    failures.append(f"{role} {method.upper()} {path}: {response.status_code}")
    assert not failures, "answers without no-store:\n" + "\n".join(failures)
    assert {200, 400, 403, 404, 405} <= statuses  # successes and errors were both walked


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_a_signed_in_user_is_no_store(role, matrix_objects):
    client = client_as(role)
    user = get_user_model().objects.get(username=role)
    failures = []
    for key, route in url_patterns():
        path = concrete_path(key, route, matrix_objects)
        client.force_login(user)
        response = client.get(path)
        if not no_store(response):
            failures.append(f"{path} ({key}): {response.status_code}")
    assert not failures, "pages without no-store:\n" + "\n".join(failures)


def test_the_network_refusal_that_ends_the_session_is_no_store():
    response = client_as("rovaniemi.staff").get("/patrons/", REMOTE_ADDR="192.0.2.9")
    assert response.status_code == 403 and no_store(response)


def test_static_files_and_public_pages_for_visitors_stay_cacheable():
    signed_in = client_as("rovaniemi.staff")
    static = signed_in.get("/static/css/app.css")
    assert static.status_code == 200 and not no_store(static)
    notice = client_as(None).get("/privacy/")
    assert notice.status_code == 200 and not no_store(notice)
