"""A consortium's Koha connection: the secret encrypted at rest and never shown back; koha_connect; the admin.

The attacks: read the secret from the database column, the command's output (also when it is mistyped
as an argument), the logs, the admin's pages, the connection's str/repr; move a ciphertext to another
consortium's row; point the connection at plain http.
"""

import io
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection as db_connection
from django.test import override_settings
from django.utils import translation

from audit.models import AccessEvent, Action
from koha import crypto
from koha.models import KohaConnection
from koha.services import koha_base_url_clean, koha_secrets_rotate
from staff.models import Consortium
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-Koha-client-value-0451"
LAPLAND = "lapin-kirjastot"


def connect(*args: str, secret: str | None = SECRET, stdin: str | None = None, monkeypatch=None) -> str:
    if secret is None:
        monkeypatch.delenv("KOHA_CLIENT_SECRET", raising=False)
    else:
        monkeypatch.setenv("KOHA_CLIENT_SECRET", secret)
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    with translation.override("en"):
        call_command("koha_connect", *args, stdout=out, stderr=out)
    return out.getvalue()


def lapland_connection(monkeypatch, url: str = "https://koha.lapin-kirjastot.example") -> KohaConnection:
    connect(LAPLAND, "--url", url, "--client-id", "privacy-service", "--no-check", monkeypatch=monkeypatch)
    return KohaConnection.objects.get(consortium__slug=LAPLAND)


def test_koha_connect_stores_the_secret_encrypted_and_never_prints_it(monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    out = connect(
        LAPLAND,
        "--url",
        "https://koha.lapin-kirjastot.example/api/v1/",
        "--client-id",
        "privacy-service",
        "--no-check",
        monkeypatch=monkeypatch,
    )
    connection = KohaConnection.objects.get(consortium__slug=LAPLAND)
    assert connection.base_url == "https://koha.lapin-kirjastot.example"
    assert connection.secret() == SECRET
    assert "saved" in out and SECRET not in out
    assert SECRET not in caplog.text
    assert SECRET not in str(connection) and SECRET not in repr(connection) and SECRET not in repr(connection.client())
    # The column holds ciphertext: read it as the database has it.
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT * FROM koha_kohaconnection")
        row = cursor.fetchone()
    stored = b"".join(bytes(value) if isinstance(value, memoryview | bytes) else str(value).encode() for value in row)
    assert SECRET.encode() not in stored
    event = AccessEvent.objects.filter(action=Action.KOHA_CONNECTION_CHANGE).latest("id")
    assert event.detail == f"created:consortium={connection.consortium_id}" and event.actor_username == "koha_connect"


def test_the_secret_from_standard_input_and_an_update_keeps_what_is_not_given(monkeypatch):
    lapland_connection(monkeypatch)
    connect(
        LAPLAND,
        "--url",
        "https://koha2.lapin-kirjastot.example",
        "--auth",
        "basic",
        "--client-id",
        "svc",
        "--no-check",
        secret=None,
        stdin="from-stdin-value\n",
        monkeypatch=monkeypatch,
    )
    connection = KohaConnection.objects.get(consortium__slug=LAPLAND)
    assert (connection.base_url, connection.auth, connection.client_id) == (
        "https://koha2.lapin-kirjastot.example",
        "basic",
        "svc",
    )
    assert connection.secret() == "from-stdin-value"
    assert KohaConnection.objects.filter(consortium__slug=LAPLAND).count() == 1
    event = AccessEvent.objects.filter(action=Action.KOHA_CONNECTION_CHANGE).latest("id")
    assert event.detail == f"changed:base_url,auth,client_id,secret:consortium={connection.consortium_id}"
    assert "from-stdin-value" not in event.detail


@pytest.mark.parametrize(
    ("args", "secret", "complaint"),
    [
        (["no-such-consortium", "--url", "https://koha.example", "--client-id", "x"], SECRET, "No consortium"),
        ([LAPLAND, "--url", "http://koha.example.fi", "--client-id", "x"], SECRET, "must use https"),
        ([LAPLAND, "--url", "ftp://koha.example.fi", "--client-id", "x"], SECRET, "Give Koha's address"),
        ([LAPLAND, "--url", "https://user:pw@koha.example.fi", "--client-id", "x"], SECRET, "must not hold"),
        ([LAPLAND, "--url", "https://koha.example.fi", "--client-id", "x"], "   ", "No secret given"),
        ([LAPLAND, "--url", "https://koha.example.fi", "--client-id", " "], SECRET, "client id"),
    ],
)
def test_koha_connect_refuses_clearly(monkeypatch, args, secret, complaint):
    with pytest.raises(CommandError) as refusal:
        connect(*args, "--no-check", secret=secret, stdin="", monkeypatch=monkeypatch)
    assert complaint in str(refusal.value)
    assert not KohaConnection.objects.exists()


def test_there_is_no_secret_option_and_a_mistyped_one_is_not_echoed(monkeypatch):
    with pytest.raises(CommandError) as refusal:
        connect(
            LAPLAND,
            "--url",
            "https://koha.example.fi",
            "--client-id",
            "x",
            "--secret",
            "typed-on-the-command-line",
            monkeypatch=monkeypatch,
        )
    assert "typed-on-the-command-line" not in str(refusal.value)
    assert "KOHA_CLIENT_SECRET" in str(refusal.value)


def test_http_is_allowed_for_koha_on_this_machine_or_with_debug():
    assert koha_base_url_clean("http://127.0.0.1:8081/") == "http://127.0.0.1:8081"
    assert koha_base_url_clean("http://[::1]:8081/koha/api/v1") == "http://[::1]:8081/koha"
    with override_settings(DEBUG=True):
        assert koha_base_url_clean("http://koha.test") == "http://koha.test"


def test_a_ciphertext_moved_to_another_consortiums_row_does_not_open(monkeypatch):
    lapland = lapland_connection(monkeypatch)
    mikkeli = Consortium.objects.get(slug="mikkelin-seutukirjasto")
    moved = KohaConnection(
        consortium=mikkeli,
        base_url="https://koha.mikkeli.example",
        client_id="x",
        secret_key_id=lapland.secret_key_id,
        secret_nonce=lapland.secret_nonce,
        secret_ciphertext=lapland.secret_ciphertext,
    )
    with pytest.raises(crypto.SecretUnreadable):
        moved.secret()


def test_key_rotation_reencrypts_under_the_newest_key(monkeypatch, settings):
    connection = lapland_connection(monkeypatch)
    old_id = connection.secret_key_id
    settings.KOHA_CREDENTIAL_KEYS = "new1:" + "Z" * 43 + "=," + settings.KOHA_CREDENTIAL_KEYS
    out = io.StringIO()
    call_command("koha_rotate_keys", "--dry-run", stdout=out)
    assert out.getvalue().startswith("1 ")
    call_command("koha_rotate_keys", stdout=out)
    assert "1 " in out.getvalue().splitlines()[-1]
    connection.refresh_from_db()
    assert connection.secret_key_id == "new1" != old_id and connection.secret() == SECRET
    assert koha_secrets_rotate().to_rotate == 0


# --- The admin ------------------------------------------------------------------------------------


def test_the_admin_never_renders_the_secret_and_keeps_it_when_left_empty(monkeypatch):
    connection = lapland_connection(monkeypatch)
    admin = client_for("admin")
    for path in ("/admin/koha/kohaconnection/", f"/admin/koha/kohaconnection/{connection.pk}/change/"):
        page = admin.get(path)
        assert page.status_code == 200
        assert SECRET not in page.content.decode()
    response = admin.post(
        f"/admin/koha/kohaconnection/{connection.pk}/change/",
        {"base_url": "https://koha3.lapin-kirjastot.example", "auth": "oauth2", "client_id": "c", "enabled": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    connection.refresh_from_db()
    assert connection.base_url == "https://koha3.lapin-kirjastot.example" and connection.secret() == SECRET
    history = admin.get(f"/admin/koha/kohaconnection/{connection.pk}/history/").content.decode()
    assert SECRET not in history
    response = admin.post(
        f"/admin/koha/kohaconnection/{connection.pk}/change/",
        {
            "base_url": "https://koha3.lapin-kirjastot.example",
            "auth": "oauth2",
            "client_id": "c",
            "enabled": "on",
            "new_secret": "a-new-secret-value",
        },
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.secret() == "a-new-secret-value"
    event = AccessEvent.objects.filter(action=Action.KOHA_CONNECTION_CHANGE).latest("id")
    assert event.detail == f"changed:secret:consortium={connection.consortium_id}"
    assert event.actor_username == "admin"
    page = admin.get(f"/admin/koha/kohaconnection/{connection.pk}/change/").content.decode()
    assert "a-new-secret-value" not in page


def test_the_admin_adds_a_connection_only_with_a_secret_and_https(monkeypatch):
    admin = client_for("admin")
    lapland = Consortium.objects.get(slug=LAPLAND)
    data = {"consortium": lapland.pk, "base_url": "http://koha.example.fi", "auth": "oauth2", "client_id": "c"}
    response = admin.post("/admin/koha/kohaconnection/add/", data)
    assert response.status_code == 200 and not KohaConnection.objects.exists()
    assert set(response.context["adminform"].form.errors) == {"base_url", "new_secret"}
    data.update(base_url="https://koha.example.fi", new_secret="added-secret-value")
    response = admin.post("/admin/koha/kohaconnection/add/", data)
    assert response.status_code == 302
    assert KohaConnection.objects.get(consortium=lapland).secret() == "added-secret-value"


def test_only_superusers_reach_the_koha_connection_admin(monkeypatch):
    connection = lapland_connection(monkeypatch)
    for username in ("dpo", "rovaniemi.staff"):
        client = client_for(username)
        assert client.get("/admin/koha/kohaconnection/").status_code in (302, 403)
        assert client.get(f"/admin/koha/kohaconnection/{connection.pk}/change/").status_code in (302, 403)


def test_a_superuser_cannot_connect_another_consortium():
    mikkeli = Consortium.objects.get(slug="mikkelin-seutukirjasto")
    response = client_for("admin").post(
        "/admin/koha/kohaconnection/add/",
        {
            "consortium": mikkeli.pk,
            "base_url": "https://koha.mikkeli.example",
            "auth": "oauth2",
            "client_id": "c",
            "new_secret": "x-secret",
        },
    )
    assert response.status_code == 200 and not KohaConnection.objects.exists()
