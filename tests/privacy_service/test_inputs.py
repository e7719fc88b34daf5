"""Every input answered: each input that was a server error (500) is now a 400 or a form error in the user's
language, and nothing is written.

The attacks, as they were found: `?day=0001-01-01` on the access review (API and admin), a 25-digit patron
filter in the access-event admin, a naive `0001-01-01T00:00:00` breach time, a subject request received on
`0001-01-01`, huge integers in id lists (SQLite), a NUL byte in any search (PostgreSQL); and their families:
other dates, ids in URLs and bodies, admin filters and forms, NUL bytes in bodies and cookies. The guard
tests at the end make sure no new field, form, admin or URL is left unbounded.
"""

import json
from typing import cast

import pytest
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.translation import gettext, override
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

import privacy_service.urls  # noqa: F401  (every view, form and serializer module imported)
from audit.models import AccessEvent
from bans.models import Ban
from core import api_fields, form_fields
from core.bounds import DATE_OUT_OF_RANGE, ID_MAX, ID_OUT_OF_RANGE, date_range_message
from dpo.models import Breach, SubjectRequest
from dpo.review_api import AccessReviewQuerySerializer
from patrons.models import Note, NoteCategory, Patron
from staff.admin_bounds import BoundedInputsAdmin
from staff.language import FINLAND_SWEDISH
from staff.models import StaffProfile
from tests.conftest import client_for
from tests.patrons.procedure import ban_through, days, decision_body, today_is, write_note

pytestmark = pytest.mark.django_db

HUGE = "9" * 25
NUL_MESSAGE = "The request contains a NUL character (a zero byte), which no field accepts. Remove it and try again."
LANGUAGES = ["fi", "sv", "en"]


def api(username: str | None, language: str = "fi"):
    return client_for(username, HTTP_ACCEPT_LANGUAGE=language)


def page(username: str | None, language: str = "fi"):
    client = client_for(username)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def post_json(client, url: str, body: dict | str):
    return client.post(url, body if isinstance(body, str) else json.dumps(body), content_type="application/json")


def in_language(message: str, language: str, **params) -> str:
    with override(language):
        text = gettext(message) % params if params else gettext(message)
    if language != "en":
        assert text != message, f"{message!r} has no {language} translation"
    return text


def date_message(language: str) -> str:
    """The message as the tests' users (all in Finnish consortia) read it: their Swedish is Finland-Swedish."""
    with override(FINLAND_SWEDISH if language == "sv" else language):
        text = date_range_message()
    if language != "en":
        assert text != str(DATE_OUT_OF_RANGE), f"no {language} translation"
    return text


class NothingWritten:
    """`with NothingWritten(): ...` asserts no access event, breach, request, ban, note or patron appeared."""

    MODELS = (AccessEvent, Breach, SubjectRequest, Ban, Note, Patron)

    def __enter__(self):
        self.before = self._counts()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert self._counts() == self.before

    def _counts(self) -> dict:
        return {model.__name__: model.objects.count() for model in self.MODELS}


def field_error(response, field: str) -> str:
    """The one shape of an invalid-input error: 400 `{"detail", "code": "invalid", "errors": {field: [...]}}`."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and body["detail"], body
    return " ".join(body["errors"][field])


# --- The eight inputs that were server errors ---------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_access_review_of_year_one_is_a_400_in_the_callers_language(language):
    with NothingWritten():
        response = api("dpo", language).get("/api/v1/access-review/?day=0001-01-01")
    assert field_error(response, "day") == date_message(language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_access_review_page_of_year_one_is_a_form_error(language):
    with NothingWritten():
        response = page("dpo", language).get("/admin/dpo/access-review/?day=0001-01-01")
    assert response.status_code == 400
    assert date_message(language) in response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_25_digit_patron_filter_in_the_access_log_is_refused_and_not_logged(language):
    client = page("dpo", language)
    with NothingWritten():
        response = client.get(f"/admin/audit/accessevent/?patron={HUGE}", follow=True)
    assert response.redirect_chain == [("/admin/audit/accessevent/?e=1", 302)]
    assert in_language(ID_OUT_OF_RANGE, language, max=ID_MAX) in response.content.decode()


def test_a_patron_filter_that_is_an_id_still_shows_and_logs_that_patrons_events(lapland_patron):
    response = client_for("dpo").get(f"/admin/audit/accessevent/?patron={lapland_patron.pk}")
    assert response.status_code == 200
    assert AccessEvent.objects.filter(action="access_log_view", subjects__patron_id=lapland_patron.pk).exists()


@pytest.mark.parametrize("aware_at", ["0001-01-01T00:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59"])
def test_a_breach_time_out_of_range_is_a_400_and_no_breach(aware_at):
    with NothingWritten():
        response = post_json(api("dpo", "sv"), "/api/v1/breaches/", {"aware_at": aware_at, "description": "Lost."})
    assert field_error(response, "aware_at") == date_message("sv")


def test_a_breach_time_of_year_one_in_the_admin_is_a_form_error():
    data = {"aware_at_0": "0001-01-01", "aware_at_1": "00:00:00", "description": "Lost.", "risk": "risk"}
    with NothingWritten():
        response = page("dpo", "en").post("/admin/dpo/breach/add/", data)
    assert response.status_code == 200
    assert date_message("en") in response.content.decode()


def test_a_subject_request_received_in_year_one_is_a_400_and_no_request(lapland_patron):
    body = {"patron": lapland_patron.pk, "kind": "access", "received_on": "0001-01-01", "identity_document": "id_card"}
    with NothingWritten():
        response = post_json(api("dpo", "fi"), "/api/v1/subject-requests/", body)
    assert field_error(response, "received_on") == date_message("fi")


def test_a_subject_request_received_in_year_one_in_the_admin_is_a_form_error(lapland_patron):
    data = {"patron": lapland_patron.pk, "kind": "access", "received_on": "0001-01-01", "identity_document": "id_card"}
    with NothingWritten():
        response = page("dpo", "sv").post("/admin/dpo/subjectrequest/add/", data)
    assert response.status_code == 200
    assert date_message("sv") in response.content.decode()


@pytest.fixture
def behaviour_note(lapland_patron) -> Note:
    return Note.objects.create(
        patron=lapland_patron,
        category=NoteCategory.BEHAVIOUR,
        text="Shouted.",
        created_at=timezone.now(),
        created_by="rovaniemi.staff",
    )


@pytest.mark.parametrize("note_ids", [[int(HUGE)], [2**63], [0], list(range(1, 10_002))])
def test_ban_proposal_with_ids_out_of_range_is_a_400_and_no_ban(lapland_patron, behaviour_note, note_ids):
    body = {
        "library": lapland_patron.home_library.koha_library_id,
        "grounds": ["repeated_substantial_disturbance"],
        "note_ids": note_ids,
        "starts_on": "2027-02-01",
        "ends_on": "2027-02-05",
    }
    with NothingWritten():
        response = post_json(api("rovaniemi.staff"), f"/api/v1/patrons/{lapland_patron.pk}/bans/", body)
    assert response.status_code == 400
    assert next(iter(response.json()["errors"])).startswith("note_ids")


def test_the_largest_id_a_column_holds_is_just_not_found(lapland_patron, behaviour_note):
    """2**63 - 1 is in range: the service looks and finds no such note (its own rule), no overflow."""
    body = {
        "library": lapland_patron.home_library.koha_library_id,
        "grounds": ["repeated_substantial_disturbance"],
        "note_ids": [behaviour_note.pk, ID_MAX],
        "starts_on": "2027-02-01",
        "ends_on": "2027-02-05",
    }
    with NothingWritten():
        response = post_json(api("rovaniemi.staff"), f"/api/v1/patrons/{lapland_patron.pk}/bans/", body)
    assert response.status_code == 400
    assert response.json()["rule"] == "note_unknown"


BREACH = {"aware_at": "2026-01-01T00:00:00", "description": "Lost."}
REQUEST = {"kind": "access", "received_on": "2026-01-01", "identity_document": "id_card"}


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/breaches/", {**BREACH, "affected_patron_ids": [HUGE]}, "affected_patron_ids.0"),
        ("/api/v1/breaches/", {**BREACH, "people_affected": 2**31}, "people_affected"),
        ("/api/v1/subject-requests/", {**REQUEST, "patron": HUGE}, "patron"),
    ],
)
def test_huge_integers_in_dpo_bodies_are_400s(url, body, field):
    with NothingWritten():
        response = post_json(api("dpo", "en"), url, body)
    assert field_error(response, field)


def test_huge_patron_ids_in_the_breach_admin_form_are_a_form_error():
    data = {"aware_at_0": "2026-01-01", "aware_at_1": "00:00:00", "description": "x", "risk": "risk"}
    with NothingWritten():
        response = page("dpo", "fi").post("/admin/dpo/breach/add/", {**data, "affected_patron_ids": HUGE})
    assert response.status_code == 200
    assert in_language(ID_OUT_OF_RANGE, "fi", max=ID_MAX) in response.content.decode()


@pytest.mark.parametrize("field", ["guardian", "koha_patron_id"])
def test_huge_ids_in_a_registration_are_a_400_and_no_patron(lapland_patron, field):
    body = {
        "cardnumber": "24400000999999",
        "first_name": "Aino",
        "last_name": "Koe",
        "date_of_birth": "1990-01-01",
        "home_library": lapland_patron.home_library.koha_library_id,
        field: HUGE,
    }
    with NothingWritten():
        response = post_json(api("rovaniemi.staff"), "/api/v1/patrons/", body)
    assert field_error(response, field)


@pytest.mark.parametrize(
    ("username", "method", "url"),
    [
        ("rovaniemi.staff", "post", f"/api/v1/patrons/{HUGE}/identity-code/reveal/"),
        ("rovaniemi.director", "put", f"/api/v1/patrons/{HUGE}/identity-code/"),
        ("rovaniemi.staff", "get", f"/api/v1/patrons/{2**63}/"),
        ("rovaniemi.staff", "post", f"/billing/patrons/{HUGE}/reveal/"),
        ("rovaniemi.staff", "get", f"/patrons/{HUGE}/"),
        ("dpo", "get", f"/admin/dpo/requests/{HUGE}/report/"),
    ],
)
def test_an_id_too_large_for_the_database_in_a_url_is_not_found(username, method, url):
    """Refusals are logged with the patron id; an id no column holds was a 500 when that event was written."""
    with NothingWritten():
        client = client_for(username)
        response = client.get(url) if method == "get" else getattr(client, method)(url, {}, "application/json")
    assert response.status_code == 404


def test_an_api_url_that_matches_nothing_is_a_json_404():
    response = api("rovaniemi.staff", "sv").get(f"/api/v1/patrons/{HUGE}/")
    assert response.status_code == 404
    assert response.json() == {"detail": in_language("Not found.", "sv"), "code": "not_found"}


# --- Texts longer than their column (PostgreSQL: `value too long`) ------------------------------------------------


@pytest.mark.parametrize(("field", "length"), [("decision_number", 51), ("contact_person", 201)])
def test_a_decision_text_longer_than_its_column_is_a_400_and_no_decision(lapland_patron, field, length):
    ban = ban_through(lapland_patron.pk, step="heard")
    body = decision_body(today_is(), today_is() + days(4), **{field: "N" * length})
    with NothingWritten():
        response = post_json(api("rovaniemi.director", "en"), f"/api/v1/bans/{ban['id']}/decision/", body)
    assert field_error(response, field)
    assert Ban.objects.get(pk=ban["id"]).decided_on is None


def test_a_cancellation_reason_longer_than_its_column_is_a_400(lapland_patron):
    ban = ban_through(lapland_patron.pk, step="proposed")
    with NothingWritten():
        response = post_json(api("rovaniemi.director"), f"/api/v1/bans/{ban['id']}/cancel/", {"reason": "r" * 301})
    assert field_error(response, "reason")
    assert Ban.objects.get(pk=ban["id"]).cancellation_reason == ""


def test_a_note_removal_reason_longer_than_its_column_is_a_400(lapland_patron):
    note_id = write_note(api("rovaniemi.staff"), lapland_patron.pk)
    url = f"/api/v1/patrons/{lapland_patron.pk}/notes/{note_id}/"
    with NothingWritten():
        response = api("rovaniemi.staff").delete(
            url, json.dumps({"reason": "r" * 301}), content_type="application/json"
        )
    assert field_error(response, "reason")
    assert Note.objects.get(pk=note_id).removed_at is None


# --- NUL characters -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("rovaniemi.staff", "/api/v1/patrons/?search=Ai%00kio"),
        ("rovaniemi.staff", "/patrons/?q=Ai%00kio"),
        ("rovaniemi.billing", "/billing/?q=Ai%00kio"),
        ("dpo", "/admin/dpo/breach/?q=%00"),
        ("dpo", "/admin/audit/accessevent/?actor=rovaniemi.staff%00"),
        ("dpo", "/admin/dpo/subjectrequest/?q=1%00"),
        ("admin", "/admin/auth/user/?q=rovaniemi%00"),
        ("dpo", "/api/v1/access-review/?day=2026-01-01%00"),
        (None, "/privacy/lapin-kirjastot%00/"),
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_nul_in_any_search_or_filter_is_a_400_before_anything_is_read(username, url, language):
    """PostgreSQL refuses a text holding NUL: every one of these was a 500 there."""
    client = api(username, language) if "/api/" in url else page(username, language)
    with NothingWritten():
        response = client.get(url)
    assert response.status_code == 400
    message = in_language(NUL_MESSAGE, language)
    if "/api/" in url:
        assert response.json() == {"detail": message, "code": "nul_character"}
    else:
        assert message in response.content.decode()


@pytest.mark.parametrize(
    "body",
    [
        '{"category": "general", "text": "Kind\\u0000"}',
        '{"category": "general", "text\\u0000": "Kind"}',
        '{"category": "general", "text": "\\\\\\u0000"}',
    ],
)
def test_a_nul_escaped_in_a_json_body_is_a_400_and_no_note(lapland_patron, body):
    with NothingWritten():
        response = post_json(api("rovaniemi.staff"), f"/api/v1/patrons/{lapland_patron.pk}/notes/", body)
    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"


def test_a_json_text_that_only_spells_backslash_u0000_is_kept(lapland_patron):
    """`\\\\u0000` in JSON is a backslash and the letters u0000: text, not a NUL."""
    body = '{"category": "general", "text": "path C:\\\\u0000"}'
    response = post_json(api("rovaniemi.staff"), f"/api/v1/patrons/{lapland_patron.pk}/notes/", body)
    assert response.status_code == 201, response.content
    assert response.json()["text"] == "path C:\\u0000"


def test_a_nul_in_a_form_body_is_a_400_and_no_note(lapland_patron):
    with NothingWritten():
        response = page("rovaniemi.staff").post(
            f"/patrons/{lapland_patron.pk}/notes/", {"category": "general", "text": "Kind\x00"}
        )
    assert response.status_code == 400


def test_a_nul_in_the_log_in_form_is_a_400():
    response = page(None).post("/accounts/login/", {"username": "dpo\x00", "password": "kirjasto-demo-2026"})
    assert response.status_code == 400


def test_a_nul_in_the_session_cookie_is_a_400_not_a_session_lookup():
    client = client_for(None, HTTP_COOKIE=f'{settings.SESSION_COOKIE_NAME}="abcdefghij\\000"')
    assert client.get("/patrons/").status_code == 400
    assert client.get("/api/v1/patrons/").json()["code"] == "nul_character"


# --- The rest of the families in the admin ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "query"),
    [
        ("dpo", "at__gte=0001-01-01"),
        ("dpo", "at__gte=0001-01-01+00:00:00"),
        ("dpo", "at__lt=9999-12-31+23:59:59"),
        ("admin", "starts_on__year=99999999999999999999"),
        ("admin", "starts_on__year=1"),
    ],
)
def test_admin_date_filters_out_of_range_are_refused_with_a_message(username, query):
    url = "/admin/audit/accessevent/" if query.startswith("at") else "/admin/patrons/closureperiod/"
    with NothingWritten():
        response = page(username, "en").get(f"{url}?{query}", follow=True)
    assert response.redirect_chain == [(f"{url}?e=1", 302)]
    assert response.status_code == 200


def test_admin_date_filter_within_range_still_filters():
    response = client_for("dpo").get("/admin/audit/accessevent/?at__gte=2020-01-01+00:00:00%2B02:00")
    assert response.status_code == 200


ADMIN_LISTS = [url for url in (f"/admin/{m._meta.app_label}/{m._meta.model_name}/" for m in admin.site._registry)]


@pytest.mark.parametrize("username", ["dpo", "admin"])
@pytest.mark.parametrize(
    "query",
    [
        "id__in=1,99999999999999999999999",  # overflowed on SQLite
        "patron_ids__contains=1",  # a JSON lookup SQLite does not support
        "pk__gt=99999999999999999999999",
        "id__regex=.*",
    ],
)
def test_an_admin_list_is_filtered_only_by_what_it_offers(username, query):
    """Django takes any lookup on a model's own fields from the URL; here only the list's own filters."""
    with NothingWritten():
        for url in ADMIN_LISTS:
            response = page(username, "en").get(f"{url}?{query}")
            assert response.status_code in (400, 403), (url, response.status_code)


def test_a_user_joined_in_year_one_is_a_form_error_in_the_user_admin():
    user = get_user_model().objects.get(username="rovaniemi.staff")
    data = {
        "username": user.username,
        "is_active": "on",
        "last_login_0": "0001-01-01",
        "last_login_1": "00:00:00",
        "date_joined_0": "0001-01-01",
        "date_joined_1": "00:00:00",
    }
    response = page("admin", "en").post(f"/admin/auth/user/{user.pk}/change/", data)
    assert response.status_code == 200
    assert date_message("en") in response.content.decode()
    user.refresh_from_db()
    assert user.date_joined.year > 1


def test_a_staff_member_briefed_in_year_one_is_a_form_error():
    profile = StaffProfile.objects.get(user__username="rovaniemi.staff")
    data = {"confidentiality_signed_on": "0001-01-01", "privacy_briefing_on": "2026-01-01"}
    response = page("dpo", "en").post(f"/admin/staff/staffprofile/{profile.pk}/change/", data)
    assert response.status_code == 200
    assert date_message("en") in response.content.decode()
    profile.refresh_from_db()
    assert profile.confidentiality_signed_on.year > 1


# --- Guards: nothing new is left unbounded -------------------------------------------------------------------------


def test_every_admin_keeps_to_the_bounds():
    registered = admin.site._registry.items()
    unbounded = [str(model._meta) for model, each in registered if not isinstance(each, BoundedInputsAdmin)]
    assert not unbounded, f"admins without BoundedInputsAdmin: {unbounded}"


def _patterns(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def test_every_object_id_in_a_url_is_a_bounded_id():
    routes = [route for route in _patterns(get_resolver()) if "<int:" in route and not route.startswith("admin/")]
    assert not routes, f"use <id:...> (core.bounds.IdConverter): {routes}"


OUR_APPS = {"audit", "bans", "dpo", "patrons", "privacy_service", "sotu_silo", "staff"}


def _project_subclasses(base: type) -> list[type]:
    found: list[type] = []
    todo: list[type] = [base]
    cls: type
    while todo:
        for cls in todo.pop().__subclasses__():
            todo.append(cls)
            if cls.__module__.split(".")[0] in OUR_APPS:
                found.append(cls)
    return found


def _unbounded(name: str, field) -> list[str]:
    if getattr(field, "read_only", False):
        return []
    if isinstance(field, serializers.ListField | serializers.ListSerializer):
        return _unbounded(f"{name}[]", field.child)
    if isinstance(field, serializers.BaseSerializer):
        fields = cast(serializers.Serializer, field).fields
        return [issue for sub, child in fields.items() for issue in _unbounded(f"{name}.{sub}", child)]
    bounded = (api_fields.DateField, api_fields.DateTimeField)
    if isinstance(field, serializers.DateField | serializers.DateTimeField) and not isinstance(field, bounded):
        return [name]
    if isinstance(field, serializers.IntegerField) and field.max_value is None:
        return [name]
    return []


def _request_serializers() -> list:
    """The serializers of every request body in the API schema, as drf-spectacular resolved them."""
    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    bodies = [
        media["schema"]["$ref"].rsplit("/", 1)[-1]
        for operations in schema["paths"].values()
        for operation in operations.values()
        for media in operation.get("requestBody", {}).get("content", {}).values()
        if "$ref" in media["schema"]
    ]
    components = {component.name: component.object for component in generator.registry._components.values()}
    # Query parameters read through a serializer are not in the schema as one.
    return [components[name] for name in bodies] + [AccessReviewQuerySerializer()]


def test_every_date_time_and_integer_the_api_reads_is_bounded():
    issues = []
    for serializer in _request_serializers():
        serializer = serializer() if isinstance(serializer, type) else serializer
        name = type(serializer).__name__
        for field, value in serializer.fields.items():
            issues += _unbounded(f"{name}.{field}", value)
    assert not issues, f"use core.api_fields: {sorted(set(issues))}"


def test_every_date_and_integer_a_form_reads_is_bounded():
    dated = (forms.DateField, forms.DateTimeField, forms.SplitDateTimeField)
    bounded = (form_fields.DateField, form_fields.DateTimeField, form_fields.SplitDateTimeField)
    issues = []
    for cls in _project_subclasses(forms.BaseForm):
        for name, field in getattr(cls, "base_fields", {}).items():
            label = f"{cls.__name__}.{name}"
            if isinstance(field, dated) and not isinstance(field, bounded):
                issues.append(label)
            if isinstance(field, forms.IntegerField) and field.max_value is None:
                issues.append(label)
    assert not issues, f"use core.form_fields: {issues}"
