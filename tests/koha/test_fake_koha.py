"""The fake Koha behaves as Koha does where the service depends on it: auth, paging, q, faults, refusals."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

pytestmark = pytest.mark.django_db


def session_for(fake_koha) -> requests.Session:
    token = requests.post(
        f"{fake_koha.base_url}/api/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": fake_koha.client_id,
            "client_secret": fake_koha.client_secret,
        },
        timeout=5,
    ).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def get(session: requests.Session, fake_koha, path: str, **kwargs) -> requests.Response:
    return session.get(f"{fake_koha.base_url}/api/v1{path}", timeout=5, **kwargs)


# --- authentication -------------------------------------------------------------------------------------------
def test_token_with_form_or_basic_client_credentials(fake_koha):
    url = f"{fake_koha.base_url}/api/v1/oauth/token"
    by_form = requests.post(
        url,
        data={
            "grant_type": "client_credentials",
            "client_id": fake_koha.client_id,
            "client_secret": fake_koha.client_secret,
        },
        timeout=5,
    )
    by_basic = requests.post(
        url, data={"grant_type": "client_credentials"}, auth=(fake_koha.client_id, fake_koha.client_secret), timeout=5
    )
    for answer in (by_form, by_basic):
        assert answer.status_code == 200
        assert answer.json()["token_type"] == "Bearer"
        assert answer.json()["expires_in"] == 3600


def test_a_wrong_secret_gets_no_token(fake_koha):
    answer = requests.post(
        f"{fake_koha.base_url}/api/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": fake_koha.client_id, "client_secret": "guess"},
        timeout=5,
    )
    assert answer.status_code == 403
    assert answer.json() == {"error": "unauthorized_client"}


def test_other_grant_types_and_disabled_oauth_are_refused(fake_koha):
    url = f"{fake_koha.base_url}/api/v1/oauth/token"
    credentials = {"client_id": fake_koha.client_id, "client_secret": fake_koha.client_secret}
    assert requests.post(url, data={"grant_type": "password", **credentials}, timeout=5).status_code == 400
    fake_koha.oauth_enabled = False
    answer = requests.post(url, data={"grant_type": "client_credentials", **credentials}, timeout=5)
    assert answer.status_code == 400
    assert answer.json() == {"error": "Unimplemented grant type"}


def test_no_forged_or_expired_token_reaches_the_data(fake_koha):
    fake_koha.add_patron()
    url = f"{fake_koha.base_url}/api/v1/patrons"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer forged"}, timeout=5).status_code == 401
    session = session_for(fake_koha)
    assert session.get(url, timeout=5).status_code == 200
    fake_koha.expire_tokens()
    expired = session.get(url, timeout=5)
    assert expired.status_code == 401
    assert expired.json() == {"error": "Authentication failure."}


def test_basic_auth_only_when_enabled_and_with_the_right_password(fake_koha):
    url = f"{fake_koha.base_url}/api/v1/libraries"
    right = (fake_koha.basic_user, fake_koha.basic_password)
    disabled = requests.get(url, auth=right, timeout=5)
    assert disabled.status_code == 401
    assert disabled.json() == {"error": "Basic authentication disabled"}
    fake_koha.basic_auth_enabled = True
    assert requests.get(url, auth=right, timeout=5).status_code == 200
    assert requests.get(url, auth=(fake_koha.basic_user, "guess"), timeout=5).status_code == 401


# --- lists ----------------------------------------------------------------------------------------------------
def test_paging_headers_and_links(fake_koha):
    for number in range(45):
        fake_koha.add_patron(firstname=f"P{number}")
    session = session_for(fake_koha)
    first = get(session, fake_koha, "/patrons")
    assert len(first.json()) == 20
    assert first.headers["X-Total-Count"] == "45"
    assert first.headers["X-Base-Total-Count"] == "45"
    links = requests.utils.parse_header_links(first.headers["Link"])
    rels = {link["rel"]: link["url"] for link in links}
    assert set(rels) == {"first", "next", "last"}
    assert "_page=3" in rels["last"]
    following = session.get(rels["next"], timeout=5)
    assert [p["firstname"] for p in following.json()][:1] == ["P20"]
    third = get(session, fake_koha, "/patrons", params={"_page": 3})
    assert len(third.json()) == 5
    assert "prev" in {link["rel"] for link in requests.utils.parse_header_links(third.headers["Link"])}
    everything = get(session, fake_koha, "/patrons", params={"_per_page": -1})
    assert len(everything.json()) == 45
    assert "Link" not in everything.headers


def test_per_page_zero_and_unknown_parameters_are_refused(fake_koha):
    session = session_for(fake_koha)
    assert get(session, fake_koha, "/patrons", params={"_per_page": 0}).status_code == 400
    unknown = get(session, fake_koha, "/patrons", params={"updated_since": "2025-01-01"})
    assert unknown.status_code == 400
    assert unknown.json() == [{"message": "Malformed query string", "path": "/query/updated_since"}]


def test_q_on_updated_on_with_rfc3339_values_and_several_q_anded(fake_koha):
    fake_koha.now = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    old = fake_koha.add_patron(surname="Virta")
    fake_koha.now = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    new = fake_koha.add_patron(surname="Virtanen")
    fake_koha.add_patron(surname="Korhonen")
    session = session_for(fake_koha)

    def ids(*queries):
        answer = get(session, fake_koha, "/patrons", params=[("q", json.dumps(query)) for query in queries])
        assert answer.status_code == 200, answer.text
        return [patron["patron_id"] for patron in answer.json()]

    assert old["updated_on"] == "2025-06-01T12:00:00+03:00"
    assert ids({"updated_on": {">": "2025-06-01T09:00:00Z"}}) == [new["patron_id"], new["patron_id"] + 1]
    assert ids({"updated_on": {">=": "2025-06-01T12:00:00+03:00"}, "surname": {"-like": "Virta%"}}) == [
        old["patron_id"],
        new["patron_id"],
    ]
    assert ids({"updated_on": {"<": "2025-06-02T00:00:00Z"}}, {"surname": "Virta"}) == [old["patron_id"]]
    assert ids({"patron_id": {"-in": [old["patron_id"], 999]}}) == [old["patron_id"]]
    assert ids({"surname": ["Virta", "Korhonen"]}) == [old["patron_id"], new["patron_id"] + 1]


def test_bad_q_is_invalid_query(fake_koha):
    session = session_for(fake_koha)
    for bad in ("{not json", json.dumps({"surname": {"-frobnicate": 1}}), json.dumps({"no_such_field": 1})):
        answer = get(session, fake_koha, "/patrons", params={"q": bad})
        assert answer.status_code == 400
        assert answer.json()["error_code"] == "invalid_query"


def test_order_by(fake_koha):
    for name in ("b", "c", "a"):
        fake_koha.add_patron(surname=name)
    session = session_for(fake_koha)
    ascending = get(session, fake_koha, "/patrons", params={"_order_by": "+surname"})
    assert [p["surname"] for p in ascending.json()] == ["a", "b", "c"]
    descending = get(session, fake_koha, "/patrons", params={"_order_by": "-patron_id"})
    assert [p["surname"] for p in descending.json()] == ["a", "c", "b"]


def test_plain_filters_contain_by_default_as_koha(fake_koha):
    for _ in range(12):
        fake_koha.add_patron()
    session = session_for(fake_koha)
    contains = get(session, fake_koha, "/patrons", params={"patron_id": "1"})
    assert [p["patron_id"] for p in contains.json()] == [1, 10, 11, 12]
    exact = get(session, fake_koha, "/patrons", params={"patron_id": "1", "_match": "exact"})
    assert [p["patron_id"] for p in exact.json()] == [1]


def test_embedded_extended_attributes_and_the_filter_on_them(fake_koha):
    wanted = fake_koha.add_patron(extended_attributes=[{"type": "SSN", "value": "ssn0000012345"}])
    fake_koha.add_patron(extended_attributes=[{"type": "SSN", "value": "ssn0000099999"}])
    fake_koha.add_patron()
    session = session_for(fake_koha)
    query = {"extended_attributes.code": "SSN", "extended_attributes.attribute": "ssn0000012345"}
    found = get(
        session, fake_koha, "/patrons", params={"q": json.dumps(query)}, headers={"x-koha-embed": "extended_attributes"}
    )
    assert [p["patron_id"] for p in found.json()] == [wanted["patron_id"]]
    assert found.json()[0]["extended_attributes"][0]["value"] == "ssn0000012345"
    plain = get(session, fake_koha, "/patrons")
    assert "extended_attributes" not in plain.json()[0]
    without_embed = get(session, fake_koha, "/patrons", params={"q": json.dumps(query)})
    assert without_embed.status_code == 400
    assert get(session, fake_koha, "/patrons", headers={"x-koha-embed": "secrets"}).status_code == 400


def test_libraries(fake_koha):
    fake_koha.add_library(library_id="ROV", name="Rovaniemen kaupunginkirjasto")
    answer = get(session_for(fake_koha), fake_koha, "/libraries")
    assert answer.json()[0]["library_id"] == "ROV"
    assert answer.headers["X-Total-Count"] == "1"


def test_a_missing_patron_is_404_with_kohas_body(fake_koha):
    answer = get(session_for(fake_koha), fake_koha, "/patrons/4242")
    assert answer.status_code == 404
    assert answer.json() == {"error": "Patron not found"}


# --- faults ---------------------------------------------------------------------------------------------------
def test_fail_next_answers_the_status_then_recovers(fake_koha):
    session = session_for(fake_koha)
    fake_koha.fail_next(500, times=2, path="/api/v1/patrons")
    assert get(session, fake_koha, "/libraries").status_code == 200
    first = get(session, fake_koha, "/patrons")
    assert first.status_code == 500
    assert first.json()["error_code"] == "internal_server_error"
    assert get(session, fake_koha, "/patrons").status_code == 500
    assert get(session, fake_koha, "/patrons").status_code == 200
    fake_koha.fail_next(503)
    assert get(session, fake_koha, "/libraries").json() == {"error": "System is under maintenance."}


def test_down_refuses_connections_and_up_serves_again(fake_koha):
    session = session_for(fake_koha)
    assert get(session, fake_koha, "/libraries").status_code == 200
    fake_koha.down()
    with pytest.raises(requests.ConnectionError):
        get(session, fake_koha, "/libraries")
    fake_koha.up()
    assert get(session, fake_koha, "/libraries").status_code == 200


def test_delay_makes_answers_slow(fake_koha):
    session = session_for(fake_koha)
    fake_koha.delay = 0.3
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        session.get(f"{fake_koha.base_url}/api/v1/libraries", timeout=0.1)
    assert time.monotonic() - started < 0.3
    fake_koha.delay = 0


def test_requests_are_logged(fake_koha):
    session = session_for(fake_koha)
    get(session, fake_koha, "/patrons", params={"_per_page": 5})
    assert fake_koha.requests[-1] == ("GET", "/api/v1/patrons", {"_per_page": ["5"]})


def test_seed_is_fast_and_pages_through(fake_koha):
    started = time.monotonic()
    fake_koha.seed(20_000, identity_codes=True)
    assert time.monotonic() - started < 5
    answer = get(
        session_for(fake_koha),
        fake_koha,
        "/patrons",
        params={"_per_page": 100, "_page": 200},
        headers={"x-koha-embed": "extended_attributes"},
    )
    assert answer.headers["X-Total-Count"] == "20000"
    assert answer.json()[-1]["patron_id"] == 20_000
    assert answer.json()[-1]["extended_attributes"][0]["type"] == "SSN"


def test_updated_on_moves_when_the_patron_or_its_attributes_change(fake_koha):
    fake_koha.now = datetime(2025, 6, 1, tzinfo=UTC)
    patron = fake_koha.add_patron()
    fake_koha.now += timedelta(hours=1)
    fake_koha.update_patron(patron["patron_id"], email="aino@example.org")
    after_update = fake_koha.patrons[patron["patron_id"]]["updated_on"]
    fake_koha.now += timedelta(hours=1)
    fake_koha.add_extended_attribute(patron["patron_id"], "SSN", "ssn0000000001")
    after_attribute = fake_koha.patrons[patron["patron_id"]]["updated_on"]
    assert patron["updated_on"] < after_update < after_attribute


# --- writes and refusals --------------------------------------------------------------------------------------
def test_post_patron_creates_it_and_refuses_missing_required_fields(fake_koha):
    fake_koha.add_library(library_id="ROV", name="Rovaniemi")
    session = session_for(fake_koha)
    url = f"{fake_koha.base_url}/api/v1/patrons"
    created = session.post(url, json={"surname": "Uusi", "library_id": "ROV", "category_id": "PT"}, timeout=5)
    assert created.status_code == 201
    assert created.headers["Location"] == f"/api/v1/patrons/{created.json()['patron_id']}"
    assert fake_koha.patrons[created.json()["patron_id"]]["surname"] == "Uusi"
    missing = session.post(url, json={"library_id": "ROV", "category_id": "PT"}, timeout=5)
    assert missing.status_code == 400
    assert missing.json()["errors"] == [{"message": "Missing property.", "path": "/body/surname"}]
    unknown_library = session.post(url, json={"surname": "X", "library_id": "NOPE", "category_id": "PT"}, timeout=5)
    assert unknown_library.status_code == 400
    assert len(fake_koha.patrons) == 1


@pytest.mark.parametrize(
    "reason", ["has_checkouts", "has_debt", "has_guarantees", "is_anonymous_patron", "is_protected"]
)
def test_delete_is_refused_for_kohas_reasons(fake_koha, reason):
    patron = fake_koha.add_patron(protected=reason == "is_protected")
    patron_id = patron["patron_id"]
    if reason == "has_checkouts":
        fake_koha.add_checkout(patron_id)
    elif reason == "has_debt":
        fake_koha.add_account_line(patron_id, 5)
    elif reason == "has_guarantees":
        fake_koha.add_guarantee(guarantor_id=patron_id, guarantee_id=fake_koha.add_patron()["patron_id"])
    elif reason == "is_anonymous_patron":
        fake_koha.store.anonymous_patron_id = patron_id
    answer = session_for(fake_koha).delete(f"{fake_koha.base_url}/api/v1/patrons/{patron_id}", timeout=5)
    assert answer.status_code == 409
    assert answer.json()["error_code"] == reason
    assert patron_id in fake_koha.patrons


def test_delete_removes_the_patron_and_logs_it(fake_koha):
    patron_id = fake_koha.add_patron()["patron_id"]
    session = session_for(fake_koha)
    url = f"{fake_koha.base_url}/api/v1/patrons/{patron_id}"
    assert session.delete(url, timeout=5).status_code == 204
    assert patron_id not in fake_koha.patrons
    assert session.delete(url, timeout=5).status_code == 404
    logs = get(session, fake_koha, "/action_logs", params={"q": json.dumps({"module": "MEMBERS", "object": patron_id})})
    assert [entry["action"] for entry in logs.json()] == ["DELETE"]


def test_put_replaces_every_attribute_and_patch_changes_one(fake_koha):
    fake_koha.add_attribute_type("CHILD", repeatable=True)
    patron = fake_koha.add_patron(
        extended_attributes=[{"type": "SSN", "value": "010203-9000"}, {"type": "CHILD", "value": "a"}]
    )
    session = session_for(fake_koha)
    url = f"{fake_koha.base_url}/api/v1/patrons/{patron['patron_id']}/extended_attributes"
    replaced = session.put(url, json=[{"type": "SSN", "value": "ssn0000000001"}], timeout=5)
    assert replaced.status_code == 200
    assert [(a["type"], a["value"]) for a in fake_koha.extended_attributes(patron["patron_id"])] == [
        ("SSN", "ssn0000000001")
    ]
    attribute_id = replaced.json()[0]["extended_attribute_id"]
    patched = session.patch(f"{url}/{attribute_id}", json={"value": "ssn0000000002"}, timeout=5)
    assert patched.json() == {"extended_attribute_id": attribute_id, "type": "SSN", "value": "ssn0000000002"}


def test_a_unique_attribute_value_cannot_be_given_twice(fake_koha):
    fake_koha.add_patron(extended_attributes=[{"type": "SSN", "value": "ssn0000000001"}])
    other = fake_koha.add_patron()
    answer = session_for(fake_koha).put(
        f"{fake_koha.base_url}/api/v1/patrons/{other['patron_id']}/extended_attributes",
        json=[{"type": "SSN", "value": "ssn0000000001"}],
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "attribute_not_unique"
    assert fake_koha.extended_attributes(other["patron_id"]) == []


def test_circulation_and_account_of_one_patron(fake_koha):
    patron_id = fake_koha.add_patron()["patron_id"]
    other_id = fake_koha.add_patron()["patron_id"]
    fake_koha.add_checkout(patron_id)
    fake_koha.add_checkout(other_id)
    fake_koha.add_hold(patron_id)
    fake_koha.add_account_line(patron_id, 3.5)
    fake_koha.add_account_line(patron_id, -1.5)
    session = session_for(fake_koha)
    checkouts = get(session, fake_koha, "/checkouts", params={"patron_id": patron_id})
    assert [c["patron_id"] for c in checkouts.json()] == [patron_id]
    holds = get(session, fake_koha, "/holds", params={"q": json.dumps({"patron_id": patron_id})})
    assert [h["patron_id"] for h in holds.json()] == [patron_id]
    account = get(session, fake_koha, f"/patrons/{patron_id}/account").json()
    assert account["balance"] == 2.0
    assert account["outstanding_debits"]["total"] == 3.5
    assert account["outstanding_credits"]["total"] == -1.5


def test_request_id_is_echoed(fake_koha):
    answer = get(session_for(fake_koha), fake_koha, "/libraries", headers={"x-koha-request-id": "42"})
    assert answer.headers["x-koha-request-id"] == "42"
