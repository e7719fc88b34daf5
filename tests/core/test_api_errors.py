"""Every API error has one shape, `{"detail": str, "code": str}` (plus `errors` or `rule`), and the schema says so.

DRF's own errors used to answer `{"detail"}` alone, or a bare `{"field": [...]}` for invalid input.
"""

import json

import pytest
from django.utils.translation import gettext, override
from drf_spectacular.generators import SchemaGenerator
from rest_framework import exceptions

from core.api_errors import api_exception_handler
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert set(body) <= {"detail", "code", "errors", "rule"}, body
    return body


def test_not_logged_in_is_a_403_with_a_code():
    error(client_for(None).get("/api/v1/patrons/"), 403, "not_authenticated")


def test_a_role_that_may_not_is_a_403_in_the_callers_language():
    body = error(
        client_for("rovaniemi.staff", HTTP_ACCEPT_LANGUAGE="sv").get("/api/v1/breaches/"), 403, "permission_denied"
    )
    with override("sv"):
        assert body["detail"] == gettext("Your role does not allow this.")


def test_a_write_without_the_csrf_token_is_a_403_with_a_code():
    client = client_for("dpo", enforce_csrf_checks=True)
    body = error(client.post("/api/v1/breaches/", "{}", content_type="application/json"), 403, "permission_denied")
    assert "CSRF" in body["detail"]


def test_another_consortiums_patron_is_a_404_with_a_code(mikkeli_patron):
    error(client_for("rovaniemi.staff").get(f"/api/v1/patrons/{mikkeli_patron.pk}/"), 404, "not_found")


def test_a_method_the_endpoint_lacks_is_a_405_with_a_code():
    response = client_for("rovaniemi.staff").delete("/api/v1/patrons/")
    error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_an_accept_header_without_json_is_a_406_with_a_code():
    error(client_for("rovaniemi.staff").get("/api/v1/patrons/", HTTP_ACCEPT="text/html"), 406, "not_acceptable")


def test_a_body_that_is_not_json_is_a_415_with_a_code(lapland_patron):
    url = f"/api/v1/patrons/{lapland_patron.pk}/notes/"
    response = client_for("rovaniemi.staff").post(url, "category=general", content_type="text/plain")
    error(response, 415, "unsupported_media_type")


def test_json_that_does_not_parse_is_a_400_with_a_code(lapland_patron):
    url = f"/api/v1/patrons/{lapland_patron.pk}/notes/"
    error(client_for("rovaniemi.staff").post(url, '{"text": ', content_type="application/json"), 400, "parse_error")


def test_invalid_fields_are_named_under_errors_nested_ones_by_path(lapland_patron):
    body = {"library": "ROV", "grounds": [], "note_ids": [1, "x"], "starts_on": "tomorrow"}
    url = f"/api/v1/patrons/{lapland_patron.pk}/bans/"
    response = client_for("rovaniemi.staff", HTTP_ACCEPT_LANGUAGE="en").post(
        url, json.dumps(body), content_type="application/json"
    )
    result = error(response, 400, "invalid")
    assert set(result["errors"]) == {"note_ids.1", "starts_on", "ends_on"}
    assert all(isinstance(m, str) for messages in result["errors"].values() for m in messages)
    assert result["errors"]["ends_on"] == ["This field is required."]
    assert "ends_on: This field is required." in result["detail"]


def test_a_broken_rule_keeps_its_rule(lapland_patron):
    url = f"/api/v1/patrons/{lapland_patron.pk}/choices/"
    response = client_for("rovaniemi.staff").patch(
        url, json.dumps({"loan_history": 7}), content_type="application/json"
    )
    assert error(response, 400, "loan_history_unknown")["rule"] == "loan_history_unknown"


def test_throttled_is_a_429_with_a_code_and_retry_after():
    response = api_exception_handler(exceptions.Throttled(wait=30), {})
    assert response.status_code == 429
    assert response.data["code"] == "throttled" and response.data["detail"]
    assert response["Retry-After"] == "30"


# --- The schema ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_error_shape_is_a_component(schema):
    error_schema = schema["components"]["schemas"]["Error"]
    assert set(error_schema["required"]) == {"detail", "code"}
    assert set(error_schema["properties"]) == {"detail", "code", "errors", "rule"}


def test_every_operation_lists_its_errors_with_the_error_shape(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"400", "403", "406"} | ({"404"} if "{" in path else set())
            expected |= {"415"} if "requestBody" in operation else set()
            assert expected <= set(responses), (method, path, sorted(responses))
            for status, response in responses.items():
                if int(status) >= 400:
                    assert response["content"] == {"application/json": {"schema": ERROR_REF}}, (method, path, status)
                    assert response["description"], (method, path, status)


def test_the_docs_page_serves(schema):
    response = client_for(None).get("/api/docs/")
    assert response.status_code == 200


def test_the_schema_generates_without_warnings(tmp_path):
    """A warning is a name clients see change (an enum renamed by a hash on the next collision): fix it in
    SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"], not by ignoring it."""
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "AppealOutcomeEnum" in (tmp_path / "schema.yaml").read_text()
