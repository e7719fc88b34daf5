"""The contract: koha/koha_api.yaml agrees with Koha's own OpenAPI files, and every kind of answer the fake
Koha gives matches koha/koha_api.yaml (and Koha's full definitions), so neither can drift from Koha.

Koha's files are read from <repo>/../shared/koha/api (CI has ../shared beside the clone).
"""

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import yaml

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
SUBSET = yaml.safe_load((REPO / "koha" / "koha_api.yaml").read_text())
KOHA = REPO.parent / "shared" / "koha" / "api" / "v1" / "swagger"
# Reserved list parameters in Koha's swagger.yaml `parameters` (page -> _page ...), which routes $ref.
RESERVED = {"_page": "page", "_per_page": "per_page", "_order_by": "order_by", "_match": "match", "q": "q_param"}
ANSWERS_ON_EVERY_ROUTE = set(SUBSET["x-every-route-responses"])


def koha_yaml(relative: str) -> Any:
    path = KOHA / relative
    assert path.exists(), f"Koha's OpenAPI files are expected at {KOHA} (../shared beside the clone)"
    return yaml.safe_load(path.read_text())


def types_of(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if kind else set()


def assert_properties_agree(ours: dict[str, Any], theirs: dict[str, Any], where: str) -> None:
    for name, mine in ours.get("properties", {}).items():
        assert name in theirs.get("properties", {}), f"{where}.{name} is not in Koha's definition"
        koha = theirs["properties"][name]
        assert types_of(mine) == types_of(koha), f"{where}.{name}: type {mine.get('type')} != Koha's {koha.get('type')}"
        assert mine.get("format") == koha.get("format"), f"{where}.{name}: format differs from Koha's"
        for limit in ("maxLength", "minLength"):
            assert mine.get(limit) == koha.get(limit), f"{where}.{name}: {limit} differs from Koha's"
        if "items" in mine:
            our_ref = mine["items"].get("$ref", "").rsplit("/", 1)[-1]
            their_ref = koha["items"].get("$ref", "").removesuffix(".yaml").rsplit("/", 1)[-1]
            assert our_ref == their_ref, f"{where}.{name}: items are {our_ref}, Koha's {their_ref}"
        if "properties" in mine:
            assert_properties_agree(mine, koha, f"{where}.{name}")


@pytest.mark.parametrize("name", sorted(name for name, d in SUBSET["definitions"].items() if "x-koha-definition" in d))
def test_each_property_of_the_subset_is_kohas_with_the_same_type(name):
    ours = SUBSET["definitions"][name]
    theirs = koha_yaml(f"definitions/{ours['x-koha-definition']}.yaml")
    assert_properties_agree(ours, theirs, name)
    assert set(theirs.get("required", [])) <= set(ours["required"]), f"{name}: Koha requires more than we expect"


def test_the_token_answer_is_kohas():
    koha = koha_yaml("paths/oauth.yaml")["/oauth/token"]["post"]["responses"]["200"]["schema"]
    ours = SUBSET["definitions"]["oauth_token"]
    assert_properties_agree(ours, koha, "oauth_token")
    assert set(ours["properties"]) == set(koha["properties"])


def koha_route(path: str) -> dict[str, Any]:
    """The route's object in Koha's paths file, found through swagger.yaml's `paths` $ref."""
    reference = koha_yaml("swagger.yaml")["paths"][path]["$ref"]
    file_name, _, pointer = reference.partition("#/")
    return koha_yaml(file_name.removeprefix("./"))[pointer.replace("~1", "/")]


def koha_parameter_names(operation: dict[str, Any]) -> set[str]:
    shared = koha_yaml("swagger.yaml")["parameters"]
    names = set()
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = shared[parameter["$ref"].rsplit("/", 1)[-1]]
        names.add(parameter["name"])
    return names


@pytest.mark.parametrize(
    ("path", "method"),
    [(path, method) for path, item in SUBSET["paths"].items() for method in item],
)
def test_each_path_and_method_is_kohas(path, method):
    operation = koha_route(path).get(method)
    assert operation is not None, f"Koha has no {method.upper()} {path}"
    ours = SUBSET["paths"][path][method]
    assert operation["operationId"] == ours["x-koha-operation"]
    named = {
        parameter["name"] if isinstance(parameter, dict) else parameter for parameter in ours.get("parameters", [])
    }
    missing = named - koha_parameter_names(operation)
    assert not missing, f"{method.upper()} {path}: parameters {missing} are not Koha's"
    koha_statuses = set(operation["responses"]) | ANSWERS_ON_EVERY_ROUTE
    assert set(ours["responses"]) <= koha_statuses, f"{method.upper()} {path}: statuses Koha does not give"
    for status, answer in ours["responses"].items():
        for code in answer.get("x-error-codes", []):
            assert code in operation["responses"][status]["description"], f"{code} is not in Koha's {status}"


# --- the fake's answers against the subset ----------------------------------------------------------------------
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or bool(date.fromisoformat(value))


@FORMATS.checks("date-time", raises=ValueError)
def _is_rfc3339(value: object) -> bool:
    """Koha's date-times carry their offset (RFC 3339), which clients need to compare them."""
    return not isinstance(value, str) or (
        "T" in value and datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    )


TEMPLATES = [(re.compile("^" + re.sub(r"\{[^}]+\}", r"\\d+", path) + "$"), path) for path in SUBSET["paths"]]


def template_of(url_path: str) -> str:
    relative = url_path.removeprefix("/api/v1")
    return next(path for pattern, path in TEMPLATES if pattern.match(relative))


def validate_against_subset(answer: requests.Response) -> tuple[str, str, str]:
    path = template_of(answer.request.path_url.split("?")[0])
    method = answer.request.method.lower()
    status = str(answer.status_code)
    responses = SUBSET["paths"][path][method]["responses"]
    declared = responses[status] if status in responses else SUBSET["x-every-route-responses"].get(status)
    assert declared is not None, (
        f"the fake answered {status} to {method.upper()} {path}, which the subset does not list"
    )
    if "schema" not in declared:
        assert answer.content == b""
    else:
        schema = {**declared["schema"], "definitions": SUBSET["definitions"]}
        jsonschema.Draft4Validator(schema, format_checker=FORMATS).validate(answer.json())
    codes = declared.get("x-error-codes", []) + declared.get("x-controller-error-codes", [])
    if codes and "error_code" in answer.json():
        assert answer.json()["error_code"] in codes
    return path, method, status


def koha_definition(name: str) -> dict[str, Any]:
    """Koha's own definition with its file references inlined: strict (additionalProperties false)."""

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str) and node["$ref"].endswith(".yaml"):
                return koha_definition(node["$ref"].removesuffix(".yaml"))
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return inline(koha_yaml(f"definitions/{name}.yaml"))


class Caller:
    """Calls the fake over HTTP and keeps every answer for validation."""

    def __init__(self, fake_koha):
        self.fake = fake_koha
        self.answers: list[requests.Response] = []
        self.session = requests.Session()

    def call(self, method: str, path: str, *, auth: bool = True, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        answer = self.session.request(
            method, f"{self.fake.base_url}/api/v1{path}", headers=headers, timeout=5, **kwargs
        )
        self.answers.append(answer)
        return answer

    def token(self) -> str:
        if not hasattr(self, "_token"):
            self._token = self.call(
                "POST",
                "/oauth/token",
                auth=False,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.fake.client_id,
                    "client_secret": self.fake.client_secret,
                },
            ).json()["access_token"]
        return self._token


def exercise(fake_koha) -> Caller:
    """One of each kind of answer of each route: successes and refusals."""
    caller = Caller(fake_koha)
    call = caller.call
    fake_koha.add_library(library_id="ROV", name="Rovaniemi", city="Rovaniemi", ip="10.10.0.1")
    fake_koha.add_attribute_type("CHILD", repeatable=True)
    guarantor = fake_koha.add_patron(
        firstname="Aino", date_of_birth="1980-05-04", extended_attributes=[{"type": "SSN", "value": "ssn0000000001"}]
    )
    guarantee = fake_koha.add_patron(firstname="Onni")
    fake_koha.add_guarantee(
        guarantor_id=guarantor["patron_id"], guarantee_id=guarantee["patron_id"], relationship="mother"
    )
    borrower = fake_koha.add_patron(firstname="Eino")
    fake_koha.add_checkout(borrower["patron_id"])
    fake_koha.add_checkout(borrower["patron_id"], checkin_date="2025-01-02T10:00:00+02:00")
    fake_koha.add_hold(borrower["patron_id"], status="W", expiration_date="2025-07-01")
    debtor = fake_koha.add_patron(firstname="Helmi")
    fake_koha.add_account_line(debtor["patron_id"], 2.5, description="Overdue")
    fake_koha.add_account_line(debtor["patron_id"], -1.0)
    protected = fake_koha.add_patron(protected=True)
    anonymous = fake_koha.add_patron()
    fake_koha.store.anonymous_patron_id = anonymous["patron_id"]
    free = fake_koha.add_patron()
    patron_id = guarantor["patron_id"]

    call("POST", "/oauth/token", auth=False, data={"grant_type": "password"})
    call(
        "POST",
        "/oauth/token",
        auth=False,
        data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
    )

    call("GET", "/libraries")
    call("GET", "/libraries", params={"branch": "ROV"})
    call("GET", "/libraries", params={"q": "{"})

    embeds = "extended_attributes,checkouts+count,overdues+count,account_balance,library"
    call("GET", "/patrons", headers={"x-koha-embed": embeds})
    call("GET", "/patrons", params={"q": json.dumps({"updated_on": {">": "2000-01-01T00:00:00Z"}}), "_per_page": 2})
    call("GET", "/patrons", params={"_per_page": 0})
    call("GET", "/patrons", params={"q": json.dumps({"surname": {"-xor": 1}})})
    call("GET", "/patrons", headers={"x-koha-embed": "guarantors"})
    call("GET", "/patrons", auth=False)
    for status in (403, 500, 503):
        fake_koha.fail_next(status)
        call("GET", "/patrons")

    call(
        "POST",
        "/patrons",
        json={"surname": "Uusi", "library_id": "ROV", "category_id": "PT", "date_of_birth": "2001-02-03"},
    )
    call("POST", "/patrons", json={"firstname": "Nimetön", "library_id": "ROV", "category_id": "PT"})
    call(
        "POST",
        "/patrons",
        json={"surname": "Kaksi", "library_id": "ROV", "category_id": "PT", "cardnumber": guarantor["cardnumber"]},
    )
    call(
        "POST",
        "/patrons",
        json={
            "surname": "X",
            "library_id": "ROV",
            "category_id": "PT",
            "extended_attributes": [{"type": "NOPE", "value": "1"}],
        },
    )

    call("GET", f"/patrons/{patron_id}", headers={"x-koha-embed": "extended_attributes"})
    call("GET", "/patrons/999999")

    for refused in (borrower, debtor, guarantor, anonymous, protected):
        call("DELETE", f"/patrons/{refused['patron_id']}")
    call("DELETE", f"/patrons/{free['patron_id']}")
    call("DELETE", f"/patrons/{free['patron_id']}")

    attributes = f"/patrons/{patron_id}/extended_attributes"
    call("GET", attributes)
    call("GET", "/patrons/999999/extended_attributes")
    added = call("POST", attributes, json={"type": "CHILD", "value": "K1"}).json()
    call("POST", attributes, json={"type": "CHILD"})
    call("POST", "/patrons/999999/extended_attributes", json={"type": "CHILD", "value": "K1"})
    call("PUT", attributes, json=[{"type": "SSN", "value": "ssn0000000002"}, {"type": "CHILD", "value": "K1"}])
    call("PUT", attributes, json=[{"type": "NOPE", "value": "1"}])
    call("PUT", attributes, json=[{"type": "SSN", "value": "a"}, {"type": "SSN", "value": "b"}])
    fake_koha.add_extended_attribute(borrower["patron_id"], "SSN", "ssn0000000003")
    call("PUT", attributes, json=[{"type": "SSN", "value": "ssn0000000003"}])
    call("PUT", "/patrons/999999/extended_attributes", json=[])
    current = {a["type"]: a["extended_attribute_id"] for a in call("GET", attributes).json()}
    call("PATCH", f"{attributes}/{current['SSN']}", json={"value": "ssn0000000004"})
    call("PATCH", f"{attributes}/{current['SSN']}", json={"value": "x", "type": "CHILD"})
    call("PATCH", f"{attributes}/{current['SSN']}", json={"value": "ssn0000000003"})
    call("PATCH", f"{attributes}/{added['extended_attribute_id']}", json={"value": "x"})
    call("DELETE", f"{attributes}/{current['CHILD']}")
    call("DELETE", f"{attributes}/{current['CHILD']}")

    call("GET", f"/patrons/{debtor['patron_id']}/account")
    call("GET", "/patrons/999999/account")

    call("GET", "/checkouts", params={"patron_id": borrower["patron_id"]})
    call("GET", "/checkouts", params={"patron_id": borrower["patron_id"], "checked_in": "true"})
    call("GET", "/checkouts", params={"patron_id": "me"})
    call("GET", "/holds", params={"q": json.dumps({"patron_id": borrower["patron_id"]})})
    call("GET", "/holds", params={"borrowernumber": 1})
    call("GET", "/action_logs", params={"q": json.dumps({"module": "MEMBERS", "object": free["patron_id"]})})
    call("GET", "/action_logs", params={"q": "[1"})
    return caller


def test_every_answer_of_the_fake_matches_the_subset(fake_koha):
    caller = exercise(fake_koha)
    seen = {validate_against_subset(answer) for answer in caller.answers}
    declared = {
        (path, method, status)
        for path, item in SUBSET["paths"].items()
        for method, operation in item.items()
        for status in operation["responses"]
    }
    assert declared <= seen, f"answers the subset lists but the exercise did not produce: {sorted(declared - seen)}"


def test_every_object_the_fake_gives_matches_kohas_full_definition(fake_koha):
    """Stricter than the subset: Koha's own definitions refuse any property Koha does not have."""
    caller = exercise(fake_koha)
    objects = {
        "/patrons": "patron",
        "/patrons/{patron_id}": "patron",
        "/libraries": "library",
        "/checkouts": "checkout",
        "/holds": "hold",
        "/action_logs": "action_log",
        "/patrons/{patron_id}/extended_attributes": "patron_extended_attribute",
        "/patrons/{patron_id}/extended_attributes/{extended_attribute_id}": "patron_extended_attribute",
        "/patrons/{patron_id}/account": "patron_balance",
    }
    checked = set()
    for answer in caller.answers:
        path = template_of(answer.request.path_url.split("?")[0])
        if answer.status_code not in (200, 201) or path not in objects:
            continue
        body = answer.json()
        validator = jsonschema.Draft4Validator(koha_definition(objects[path]), format_checker=FORMATS)
        for item in body if isinstance(body, list) else [body]:
            validator.validate(item)
            checked.add(objects[path])
    assert checked == set(objects.values())


def test_the_errors_are_kohas(fake_koha):
    caller = exercise(fake_koha)
    error = koha_definition("error")
    for answer in caller.answers:
        body = answer.json() if answer.content else None
        if answer.status_code >= 400 and isinstance(body, dict) and "error" in body:
            jsonschema.Draft4Validator(error).validate(body)
