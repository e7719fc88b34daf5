"""The sotu-silo from the outside: who may store, reveal and look up; keys, rotation, tampering; the log."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import dj_database_url
import psycopg2
import pytest
from django.core.management import call_command
from django.db import connections

from audit.models import AccessEvent, Action, Outcome
from patrons.models import Patron
from sotu_silo import crypto
from sotu_silo.models import IdentityCode
from staff.models import Jurisdiction, Library
from tests.conftest import client_for
from tests.factories import LibraryFactory, MunicipalityFactory, PatronFactory, StaffProfileFactory, UserFactory

pytestmark = pytest.mark.django_db
CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu(ddmmyy: str, sign: str, individual: int) -> str:
    return f"{ddmmyy}{sign}{individual:03d}{CHECK[int(f'{ddmmyy}{individual:03d}') % 31]}"


CODE = hetu("230375", "-", 517)
OTHER_CODE = hetu("011280", "-", 208)


def codeless_adult(slug: str = "lapin-kirjastot", skip: int = 0) -> Patron:
    coded = IdentityCode.objects.values_list("patron_id", flat=True)
    adults = Patron.objects.filter(consortium__slug=slug, date_of_birth__year__lt=2000).exclude(pk__in=list(coded))
    return adults.order_by("pk")[skip]


def store(username: str, patron: Patron, code: str, **extra):
    return client_for(username, **extra).put(
        f"/api/v1/patrons/{patron.pk}/identity-code/", {"identity_code": code}, content_type="application/json"
    )


def reveal(username: str, patron: Patron, reason: str = "lasku 2026-77"):
    return client_for(username).post(
        f"/api/v1/patrons/{patron.pk}/identity-code/reveal/", {"reason": reason}, content_type="application/json"
    )


def lookup(username: str, code: str, reason: str = "henkilöllisyyden tarkistus"):
    return client_for(username).post(
        "/api/v1/identity-codes/lookup/", {"identity_code": code, "reason": reason}, content_type="application/json"
    )


def newest_event() -> AccessEvent | None:
    return AccessEvent.objects.order_by("-id").first()


@pytest.fixture
def stored_patron() -> Patron:
    patron = codeless_adult()
    assert store("rovaniemi.staff", patron, CODE).status_code == 200
    return patron


# Superusers administer; they do not bypass the silo: `admin` can neither store nor reveal.
STORE = {None: 403, "dpo": 403, "admin": 403, "mikkeli.staff": 404, "*": 200}
REVEAL = {None: 403, "rovaniemi.billing": 200, "*": 403}


@pytest.mark.parametrize(
    "role",
    [None, "rovaniemi.staff", "rovaniemi.billing", "rovaniemi.director", "dpo", "admin", "kemi.staff", "mikkeli.staff"],
)
def test_role_matrix_for_the_silo_endpoints(role, stored_patron):
    assert store(role, stored_patron, CODE).status_code == STORE.get(role, STORE["*"])
    assert reveal(role, stored_patron).status_code == REVEAL.get(role, REVEAL["*"])
    assert lookup(role, CODE).status_code == REVEAL.get(role, REVEAL["*"])


def test_desk_staff_write_a_code_they_cannot_read_back(stored_patron):
    page = client_for("rovaniemi.staff").get(f"/patrons/{stored_patron.pk}/").content.decode()
    assert CODE not in page
    assert reveal("rovaniemi.staff", stored_patron).status_code == 403
    body = reveal("rovaniemi.billing", stored_patron)
    assert body.json() == {"identity_code": CODE}
    assert "no-store" in body["Cache-Control"]


def test_every_store_reveal_and_lookup_is_logged_with_its_reason_and_never_the_code(stored_patron):
    assert newest_event().action == Action.IDENTITY_CODE_STORE
    reveal("rovaniemi.billing", stored_patron, reason="lasku 2026-1")
    event = newest_event()
    assert (event.action, event.outcome, event.reason, event.patron_ids) == (
        Action.IDENTITY_CODE_REVEAL,
        Outcome.ALLOWED,
        "lasku 2026-1",
        [stored_patron.pk],
    )
    assert lookup("rovaniemi.billing", CODE).json() == {"patron": {"id": stored_patron.pk}}
    assert (newest_event().action, newest_event().reason) == (Action.IDENTITY_CODE_LOOKUP, "henkilöllisyyden tarkistus")
    for row in AccessEvent.objects.values():
        # The seal and the content MAC are random-looking hex, which may hold any six digits by chance.
        content = {k: v for k, v in row.items() if k not in {"at", "prev_hash", "hash", "content_mac"}}
        assert CODE not in repr(row) and CODE[:6] not in repr(content)


def test_refused_attempts_are_logged_and_nothing_is_stored():
    patron = codeless_adult()
    before = IdentityCode.objects.count()
    wrong_check = CODE[:-1] + ("A" if CODE[-1] != "A" else "B")
    for attempt, detail in [(wrong_check, "invalid_checksum"), (hetu("230375", "-", 917), "temporary_not_allowed")]:
        response = store("rovaniemi.staff", patron, attempt)
        assert response.status_code == 400 and attempt not in response.content.decode()
        assert response.json()["code"] == detail
        assert (newest_event().outcome, newest_event().detail) == (Outcome.DENIED, detail)
    assert IdentityCode.objects.count() == before
    assert reveal("rovaniemi.billing", patron, reason="  ").status_code == 400
    assert newest_event().detail == "reason_required"
    assert reveal("rovaniemi.billing", patron).status_code == 404  # none stored
    assert newest_event().detail == "not_stored"
    assert lookup("rovaniemi.billing", OTHER_CODE).status_code == 404
    assert newest_event().detail == "not_found"


def test_a_refusal_speaks_the_callers_language():
    patron = codeless_adult()
    response = client_for("rovaniemi.staff", HTTP_ACCEPT_LANGUAGE="sv").put(
        f"/api/v1/patrons/{patron.pk}/identity-code/", {"identity_code": "230375-517"}, content_type="application/json"
    )
    assert response.status_code == 400
    finnish = store("rovaniemi.staff", patron, "230375-517").json()["detail"]
    assert response.json()["detail"] != finnish


def test_temporary_codes_are_accepted_when_the_setting_allows(settings):
    settings.SOTU_ALLOW_TEMPORARY_CODES = True
    assert store("rovaniemi.staff", codeless_adult(), hetu("230375", "-", 917)).status_code == 200


def test_codes_differing_only_in_the_century_sign_are_different_people(stored_patron):
    twin = codeless_adult(skip=1)
    same_digits = CODE.replace("-", "Y")
    assert store("rovaniemi.staff", twin, same_digits).status_code == 200
    assert lookup("rovaniemi.billing", same_digits).json()["patron"]["id"] == twin.pk
    assert lookup("rovaniemi.billing", CODE).json()["patron"]["id"] == stored_patron.pk


def test_one_code_one_patron_within_a_consortium(stored_patron):
    """A code someone holds is not stored twice: it becomes a conflict for billing (test_conflicts.py)."""
    other = codeless_adult(skip=1)
    assert store("rovaniemi.staff", other, CODE).json() == {"stored": True}
    assert not IdentityCode.objects.filter(patron_id=other.pk).exists()
    assert lookup("rovaniemi.billing", CODE).json() == {"patron": {"id": stored_patron.pk}}


def test_lookups_and_reveals_stay_inside_the_consortium(stored_patron):
    mikkeli_billing = StaffProfileFactory(
        home_library=Library.objects.get(koha_library_id="MIK"),
        user=UserFactory(username="mikkeli.billing", groups=["staff", "billing"]),
    )
    client = client_for(mikkeli_billing.user.username)
    assert (
        client.post(
            "/api/v1/identity-codes/lookup/", {"identity_code": CODE, "reason": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/patrons/{stored_patron.pk}/identity-code/reveal/",
            {"reason": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )
    # The same person may be a patron of both consortia.
    assert store("mikkeli.staff", codeless_adult("mikkelin-seutukirjasto"), CODE).status_code == 200


def test_swedish_personnummer_in_any_spelling_finds_the_same_patron():
    library = LibraryFactory(municipality=MunicipalityFactory(consortium__jurisdiction=Jurisdiction.SWEDEN))
    clerk = StaffProfileFactory(home_library=library, user=UserFactory(groups=["staff", "billing"]))
    patron = PatronFactory(home_library=library)
    library.municipality.networks.create(cidr="10.40.0.0/16")
    client = client_for(clerk.user.username, address="10.40.1.1")
    stored = client.put(
        f"/api/v1/patrons/{patron.pk}/identity-code/", {"identity_code": "811218-9876"}, content_type="application/json"
    )
    assert stored.status_code == 200, stored.content
    for spelling in ("811218-9876", "19811218-9876", "198112189876"):
        found = client.post(
            "/api/v1/identity-codes/lookup/",
            {"identity_code": spelling, "reason": "faktura 9"},
            content_type="application/json",
        )
        assert found.json() == {"patron": {"id": patron.pk}}, spelling


def test_no_event_no_reveal(stored_patron, monkeypatch):
    def broken_log(**kwargs):
        raise RuntimeError("the access log is unavailable")

    monkeypatch.setattr("sotu_silo.events.access_event_record", broken_log)
    client = client_for("rovaniemi.billing")
    client.raise_request_exception = False
    response = client.post(
        f"/api/v1/patrons/{stored_patron.pk}/identity-code/reveal/",
        {"reason": "lasku"},
        content_type="application/json",
    )
    assert response.status_code == 500
    assert CODE not in response.content.decode()


def key(n: int) -> str:
    return base64.b64encode(bytes([n]) * 32).decode()


def rekey(settings, encryption_keys: str | None = None, index_key: str | None = None) -> None:
    if encryption_keys is not None:
        settings.SOTU_ENCRYPTION_KEYS = encryption_keys
    if index_key is not None:
        settings.SOTU_INDEX_KEY = index_key


def test_wrong_encryption_key_refuses_to_reveal(settings, stored_patron):
    newest = crypto.keyring().newest_id
    rekey(settings, encryption_keys=f"{newest}:{key(7)}")
    response = reveal("rovaniemi.billing", stored_patron)
    assert response.status_code == 409 and CODE not in response.content.decode()
    assert (newest_event().outcome, newest_event().detail) == (Outcome.DENIED, "unreadable")


def test_wrong_index_key_finds_nothing(settings, stored_patron):
    rekey(settings, index_key=key(9))
    assert lookup("rovaniemi.billing", CODE).status_code == 404


def test_tampered_or_moved_ciphertext_is_refused(stored_patron):
    other = codeless_adult(skip=1)
    assert store("rovaniemi.staff", other, OTHER_CODE).status_code == 200
    row = IdentityCode.objects.get(patron_id=stored_patron.pk)
    flipped = bytes(row.ciphertext)[:-1] + bytes([bytes(row.ciphertext)[-1] ^ 1])
    IdentityCode.objects.filter(pk=row.pk).update(ciphertext=flipped)
    assert reveal("rovaniemi.billing", stored_patron).status_code == 409
    # A valid ciphertext copied onto another patron's row fails too: the associated data binds it.
    source = IdentityCode.objects.get(patron_id=other.pk)
    IdentityCode.objects.filter(pk=row.pk).update(nonce=source.nonce, ciphertext=source.ciphertext)
    assert reveal("rovaniemi.billing", stored_patron).status_code == 409
    # ...and so does a row whose blind index was swapped (a lookup would then find the wrong patron).
    assert reveal("rovaniemi.billing", other).status_code == 200
    IdentityCode.objects.filter(pk=source.pk).update(blind_index="0" * 64)
    assert reveal("rovaniemi.billing", other).status_code == 409


def test_key_rotation_round_trip(settings, stored_patron):
    old = settings.SOTU_ENCRYPTION_KEYS
    rekey(settings, encryption_keys=f"rotated:{key(3)},{old}")
    call_command("sotu_rotate_keys", "--dry-run", verbosity=0)
    assert IdentityCode.objects.exclude(key_id="rotated").exists()  # a dry run changes nothing
    call_command("sotu_rotate_keys", "--batch-size", "40", verbosity=0)
    assert not IdentityCode.objects.exclude(key_id="rotated").exists()
    rekey(settings, encryption_keys=f"rotated:{key(3)}")  # the old key can now go
    assert reveal("rovaniemi.billing", stored_patron).json() == {"identity_code": CODE}


def test_rotation_stops_on_an_unreadable_code(settings, stored_patron):
    newest = crypto.keyring().newest_id
    rekey(settings, encryption_keys=f"rotated:{key(3)},{newest}:{key(4)}")  # wrong old key
    with pytest.raises(Exception, match="integrity"):
        call_command("sotu_rotate_keys", verbosity=0)


def test_billing_page_finds_reveals_for_a_short_time_and_is_never_cached(stored_patron):
    clerk = client_for("rovaniemi.billing")
    listing = clerk.post("/billing/", {"q": stored_patron.cardnumber})
    assert f"/billing/patrons/{stored_patron.pk}/reveal/" in listing.content.decode()
    assert CODE not in listing.content.decode()
    revealed = clerk.post(f"/billing/patrons/{stored_patron.pk}/reveal/", {"reason": "lasku 5"})
    assert revealed.status_code == 200 and CODE in revealed.content.decode()
    assert "no-store" in revealed["Cache-Control"] and "data-hide-after" in revealed.content.decode()
    assert clerk.post(f"/billing/patrons/{stored_patron.pk}/reveal/", {"reason": ""}).status_code == 400
    found = clerk.post("/billing/lookup/", {"identity_code": CODE, "reason": "tarkistus"})
    assert found.status_code == 200 and stored_patron.cardnumber in found.content.decode()
    assert CODE not in found.content.decode()


def test_the_link_from_koha_opens_the_reason_form_which_reads_and_logs_nothing(stored_patron):
    """Koha's privacy panel links billing clerks to the reveal's address: a GET is the form, not the code."""
    before = AccessEvent.objects.count()
    form = client_for("rovaniemi.billing").get(f"/billing/patrons/{stored_patron.pk}/reveal/")
    page = form.content.decode()
    assert form.status_code == 200 and 'name="reason"' in page and "no-store" in form["Cache-Control"]
    assert CODE not in page and stored_patron.last_name not in page and stored_patron.cardnumber not in page
    assert AccessEvent.objects.count() == before
    assert client_for("rovaniemi.staff").get(f"/billing/patrons/{stored_patron.pk}/reveal/").status_code == 403


def test_desk_form_stores_and_never_echoes(stored_patron):
    patron = codeless_adult(skip=2)
    desk = client_for("rovaniemi.staff")
    response = desk.post(f"/patrons/{patron.pk}/identity-code/", {"identity_code": OTHER_CODE}, follow=True)
    assert response.status_code == 200 and OTHER_CODE not in response.content.decode()
    assert IdentityCode.objects.filter(patron_id=patron.pk).exists()
    bad = desk.post(f"/patrons/{patron.pk}/identity-code/", {"identity_code": OTHER_CODE[:-1] + "Q"})
    assert bad.status_code == 400 and OTHER_CODE[:-1] not in bad.content.decode()


def test_the_router_keeps_the_silo_apart():
    assert IdentityCode.objects.db == "sotu"
    assert Patron.objects.db == "default"
    silo_tables = set(connections["sotu"].introspection.table_names())
    assert "sotu_silo_identitycode" in silo_tables and "patrons_patron" not in silo_tables
    assert "sotu_silo_identitycode" not in connections["default"].introspection.table_names()


@pytest.mark.skipif(connections["sotu"].vendor != "postgresql", reason="roles and schemas are PostgreSQL's")
def test_the_main_roles_have_no_privilege_on_the_silo(settings, stored_patron):
    main = connections["default"].settings_dict
    silo = connections["sotu"].settings_dict
    conn = psycopg2.connect(
        dbname=silo["NAME"], user=main["USER"], password=main["PASSWORD"], host=main["HOST"], port=main["PORT"]
    )
    try:
        for role in (None, settings.DATABASE_APP_ROLE):
            with conn.cursor() as cursor:
                if role:
                    cursor.execute(f'SET ROLE "{role}"')
                with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="permission denied"):
                    cursor.execute(f"SELECT count(*) FROM {settings.SOTU_SCHEMA}.sotu_silo_identitycode")
            conn.rollback()
    finally:
        conn.close()


def test_a_second_client_cannot_ride_on_a_reveal(stored_patron):
    """The code is in no session or cache: a fresh request of the same user does not see it."""
    clerk = client_for("rovaniemi.billing")
    clerk.post(f"/billing/patrons/{stored_patron.pk}/reveal/", {"reason": "lasku 6"})
    assert CODE not in clerk.get("/billing/").content.decode()
    assert CODE not in str(dict(clerk.session))


def test_billing_list_shows_who_has_no_code_and_a_reveal_for_them_says_so():
    patron = codeless_adult()
    clerk = client_for("rovaniemi.billing")
    listing = clerk.post("/billing/", {"q": patron.cardnumber}).content.decode()
    assert f"/billing/patrons/{patron.pk}/reveal/" not in listing
    response = clerk.post(f"/billing/patrons/{patron.pk}/reveal/", {"reason": "lasku 8"})
    assert response.status_code == 404
    assert 'role="alert"' in response.content.decode()


@pytest.mark.parametrize("typed", [CODE, CODE.lower(), "811218-9876", "19811218-9876"])
def test_a_code_typed_into_a_name_search_is_neither_searched_nor_echoed(typed):
    before = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()
    for username, url in (("rovaniemi.staff", "/patrons/"), ("rovaniemi.billing", "/billing/")):
        page = client_for(username).post(url, {"q": typed}, follow=True).content.decode()
        assert typed not in page and 'role="alert"' in page
    # Nothing was searched: each refusal is a denied search naming no patron.
    events = AccessEvent.objects.filter(id__gt=before).values_list("action", "outcome", "detail", "patron_ids")
    assert list(events) == [(Action.PATRON_SEARCH, Outcome.DENIED, "identity_code_in_search", [])] * 2


@pytest.mark.skipif(
    not os.environ.get("SOTU_DATABASE_URL", "").startswith("postgres"), reason="the deployed PostgreSQL layout"
)
def test_deployed_layout_one_database_two_schemas(settings, tmp_path):
    """As deployed: one database, the main tables in "public", the silo in schema "sotu" of its own role.

    Migrates and seeds the real (non-test) database of the run in a subprocess, then proves that
    neither the owner nor the runtime role of the main application can touch the silo.
    """
    root = Path(__file__).resolve().parents[2]
    # The demo's access events are checkpointed: into the test's directory, not the checkout's var/ (where a
    # later `make run` would find a checkpoint of another database and alarm that its log was rewritten).
    env = {**os.environ, "AUDIT_CHECKPOINT_DIR": str(tmp_path / "checkpoints")}
    for command in (["migrate", "--noinput"], ["migrate", "--noinput", "--database=sotu"], ["seed_demo"]):
        done = subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", *command], cwd=root, capture_output=True, text=True, timeout=300, env=env
        )
        assert done.returncode == 0, done.stderr
    main = dj_database_url.parse(os.environ["DATABASE_URL"])
    conn = psycopg2.connect(
        dbname=main["NAME"], user=main["USER"], password=main["PASSWORD"], host=main["HOST"], port=main["PORT"]
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM patrons_patron")
            assert cursor.fetchone()[0] > 0
        conn.rollback()
        for role in (None, os.environ["DATABASE_APP_ROLE"]):
            with conn.cursor() as cursor:
                if role:
                    cursor.execute(f'SET ROLE "{role}"')
                with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="permission denied for schema"):
                    cursor.execute(f"SELECT count(*) FROM {settings.SOTU_SCHEMA}.sotu_silo_identitycode")
            conn.rollback()
    finally:
        conn.close()
    silo = dj_database_url.parse(os.environ["SOTU_DATABASE_URL"])
    conn = psycopg2.connect(
        dbname=silo["NAME"], user=silo["USER"], password=silo["PASSWORD"], host=silo["HOST"], port=silo["PORT"]
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {settings.SOTU_SCHEMA}.sotu_silo_identitycode")
            assert cursor.fetchone()[0] > 0  # seed_demo stored its codes there
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("SELECT count(*) FROM public.patrons_patron")  # and the silo role sees no patrons
    finally:
        conn.close()


def test_a_refused_reveal_is_logged_as_a_reveal_of_that_patron(stored_patron):
    assert reveal("rovaniemi.staff", stored_patron).status_code == 403
    event = newest_event()
    assert (event.action, event.outcome, event.detail, event.patron_ids, event.data_categories) == (
        Action.IDENTITY_CODE_REVEAL,
        Outcome.DENIED,
        "role",
        [stored_patron.pk],
        ["identity_code"],
    )


def test_a_reason_holding_a_code_is_refused_before_it_reaches_the_log(stored_patron):
    for reason in (f"tunnistus {CODE}", f"check {CODE.replace('-', '')}"):
        response = reveal("rovaniemi.billing", stored_patron, reason=reason)
        assert response.status_code == 400 and response.json()["code"] == "identity_code_in_text"
        assert CODE not in response.content.decode()
    assert not AccessEvent.objects.filter(reason__contains=CODE[:6]).exists()
    assert reveal("rovaniemi.billing", stored_patron, reason="lasku 2440000000").status_code == 200


def test_rotation_leaves_codes_under_unknown_keys_alone(settings, stored_patron):
    IdentityCode.objects.filter(patron_id=stored_patron.pk).update(key_id="from-elsewhere")
    old = settings.SOTU_ENCRYPTION_KEYS
    rekey(settings, encryption_keys=f"rotated:{key(3)},{old}")
    call_command("sotu_rotate_keys", verbosity=0)
    assert IdentityCode.objects.get(patron_id=stored_patron.pk).key_id == "from-elsewhere"
    assert not IdentityCode.objects.exclude(key_id__in=["rotated", "from-elsewhere"]).exists()
