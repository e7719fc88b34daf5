"""Writing a consortium's Koha connection, and re-encrypting the stored secrets under the newest key.

Every creation or change is an access event (Action.KOHA_CONNECTION_CHANGE) naming the consortium and
the fields that changed, never their values: whoever can change where the service sends its Koha
credentials, or replace them, can read and change every patron in Koha, so it is logged like a role
change (accounts/services/roles.py) and shows in the DPO's access-event browser.
"""

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from audit.actor import Actor
from audit.models import Action
from audit.services import access_event_record
from core.errors import RuleBroken
from koha import crypto
from koha.models import AuthMethod, KohaConnection
from staff.models import Consortium

LOOPBACK_NAMES = {"localhost"}


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def koha_base_url_clean(url: str) -> str:
    """Koha's address as stored: scheme and host (and port and path prefix), no `/api/v1`, no trailing slash.

    https is required unless DEBUG is on or Koha is on this machine (loopback): the secret and patrons'
    data travel over this connection. No user name or password in the URL (it would be logged as text),
    no query string or fragment.
    """
    try:
        parts = urlsplit((url or "").strip())
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        parts, host = urlsplit(""), ""
    if parts.scheme not in ("http", "https") or not host:
        raise RuleBroken("koha_url_invalid", _("Give Koha's address as https://host, e.g. https://koha.example.fi."))
    if parts.username or parts.password or parts.query or parts.fragment:
        raise RuleBroken(
            "koha_url_invalid", _("Koha's address must not hold a user name, a password, a query or a fragment.")
        )
    if parts.scheme != "https" and not (settings.DEBUG or _is_loopback(host)):
        raise RuleBroken("koha_url_not_https", _("Koha's address must use https (http only for Koha on this machine)."))
    path = parts.path.rstrip("/")
    path = path.removesuffix("/api/v1")
    return f"{parts.scheme}://{parts.netloc}{path}"


@sensitive_variables("secret")
def koha_connection_save(
    *,
    actor: Actor,
    consortium: Consortium,
    base_url: str,
    auth: str,
    client_id: str,
    secret: str | None,
    enabled: bool = True,
) -> tuple[KohaConnection, list[str]]:
    """Create or change the consortium's connection; (the connection, the names of the fields changed).

    `secret` None or empty keeps the stored one; a new connection needs one.
    """
    base_url = koha_base_url_clean(base_url)
    if auth not in AuthMethod.values:
        raise RuleBroken("koha_auth_invalid", _("Authentication is oauth2 or basic."))
    client_id = (client_id or "").strip()
    if not client_id:
        raise RuleBroken("koha_client_id_missing", _("Give the client id (or the Basic user name)."))
    with transaction.atomic():
        connection = KohaConnection.objects.select_for_update().filter(consortium=consortium).first()
        created = connection is None
        if connection is None:
            connection = KohaConnection(consortium=consortium)
        if created and not secret:
            raise RuleBroken("koha_secret_missing", _("Give the client secret (or the Basic password)."))
        new_values = {"base_url": base_url, "auth": auth, "client_id": client_id, "enabled": enabled}
        changed = [name for name, value in new_values.items() if created or getattr(connection, name) != value]
        for name, value in new_values.items():
            setattr(connection, name, value)
        if secret:
            connection.secret_set(secret)
            connection.secret_changed_at = timezone.now()
            changed.append("secret")
        if changed:
            connection.save()
            what = "created" if created else "changed:" + ",".join(changed)
            access_event_record(
                actor=actor, action=Action.KOHA_CONNECTION_CHANGE, detail=f"{what}:consortium={consortium.pk}"[:100]
            )
    return connection, changed


@dataclass
class RotationResult:
    to_rotate: int
    rotated: int = 0


def koha_secrets_rotate(*, dry_run: bool = False) -> RotationResult:
    """Re-encrypt every stored secret that is not under KOHA_CREDENTIAL_KEYS' newest key.

    A rerun picks up only what is left; a secret that fails its integrity check stops the rotation
    (crypto.SecretUnreadable) instead of being re-encrypted."""
    newest = crypto.newest_key_id()
    stale = KohaConnection.objects.exclude(secret_key_id=newest)
    result = RotationResult(to_rotate=stale.count())
    if dry_run:
        return result
    for connection in stale.order_by("pk"):
        with transaction.atomic():
            connection.secret_set(connection.secret())
            connection.save(update_fields=["secret_key_id", "secret_nonce", "secret_ciphertext"])
        result.rotated += 1
    return result
