"""Writes: a consortium's Koha connection (and re-encrypting the stored secrets under the newest key), and
the views Koha's staff interface reports.

Every creation or change is an access event (Action.KOHA_CONNECTION_CHANGE) naming the consortium and
the fields that changed, never their values: whoever can change where the service sends its Koha
credentials, or replace them, can read and change every patron in Koha, so it is logged like a role
change (accounts/services/roles.py) and shows in the DPO's access-event browser.
"""

import datetime
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from audit.actor import Actor
from audit.models import Action, DataCategory, Outcome
from audit.services import access_event_record
from core.errors import RuleBroken
from koha import crypto
from koha.models import AuthMethod, KohaConnection, KohaViewReceipt
from patrons.models import Patron
from staff.client_ip import IPAddress
from staff.ip_allowlist import Verdict, network_verdict
from staff.models import Consortium, MachineKey, StaffProfile

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
    staff_url: str | None = None,
) -> tuple[KohaConnection, list[str]]:
    """Create or change the consortium's connection; (the connection, the names of the fields changed).

    `secret` None or empty keeps the stored one; a new connection needs one. `staff_url` None keeps the stored
    staff interface address, "" clears it (the staff interface is then at Koha's address).
    """
    base_url = koha_base_url_clean(base_url)
    staff_url = koha_base_url_clean(staff_url) if staff_url else staff_url
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
        if staff_url is not None:
            new_values["staff_url"] = staff_url
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


# What Koha's patron pages show; the plugin does not say which fields a page had, so every view records these.
VIEW_CATEGORIES = (DataCategory.BASIC, DataCategory.CONTACT)


@dataclass(frozen=True)
class ReportedView:
    """One patron view in Koha's staff interface, as the plugin reports it."""

    event_id: str
    koha_patron_id: int
    staff_userid: str
    staff_address: IPAddress
    page: str
    viewed_at: datetime.datetime


@dataclass(frozen=True)
class ViewAnswer:
    """What became of one reported view: `recorded`, `duplicate` (recorded before) or `unknown_patron` (no
    patron of the consortium has the Koha id; nothing recorded, so a later resend after a sync records it)."""

    event_id: str
    status: str
    staff_user_known: bool | None = None
    network_allowed: bool | None = None


def _staff_by_userid(consortium_id: int, userids: set[str]) -> dict[str, StaffProfile]:
    """Profiles of the consortium by Koha user id; a userid two profiles claim matches nobody (not a guess)."""
    found: dict[str, StaffProfile] = {}
    ambiguous: set[str] = set()
    profiles = (
        StaffProfile.objects.of_consortium(consortium_id)
        .filter(koha_userid__in=userids)
        .select_related("user", "home_library")
    )
    for profile in profiles:
        if profile.koha_userid in found:
            ambiguous.add(profile.koha_userid)
        found[profile.koha_userid] = profile
    return {userid: profile for userid, profile in found.items() if userid not in ambiguous}


def _view_actor(view: ReportedView, consortium_id: int, profile: StaffProfile | None) -> Actor:
    return Actor(
        user_id=profile.user_id if profile else None,
        username=profile.user.get_username() if profile else f"koha:{view.staff_userid}",
        municipality_id=profile.home_library.municipality_id if profile else None,
        consortium_id=consortium_id,
        client_ip=view.staff_address,
        resource=f"koha:{view.page}",
    )


def _record(actor: Actor, key: MachineKey, views: list[ReportedView]) -> list[ViewAnswer]:
    consortium_id = key.consortium_id
    with transaction.atomic():
        seen = set(
            KohaViewReceipt.objects.filter(
                consortium_id=consortium_id, event_id__in={view.event_id for view in views}
            ).values_list("event_id", flat=True)
        )
        # Every patron of the consortium, a record an erasure kept under a legal hold included (not
        # patrons.selectors.staff_patrons): a view is the staff member's act in Koha, recorded for the patron and the
        # DPO, and its answer (`recorded`) tells Koha nothing of the record. Koha keeps an erased patron it could not
        # delete (a debt, loans: the very cases a hold is kept for), its staff go on opening them there, and the DPO's
        # access review (the held record is marked needs_protection) must see those reads.
        patrons = dict(
            Patron.objects.of_consortium(consortium_id)
            .filter(koha_patron_id__in={view.koha_patron_id for view in views})
            .values_list("koha_patron_id", "pk")
        )
        staff = _staff_by_userid(consortium_id, {view.staff_userid for view in views})
        answers: list[ViewAnswer] = []
        receipts: list[KohaViewReceipt] = []
        now = timezone.now()
        for view in views:
            if view.event_id in seen:
                answers.append(ViewAnswer(view.event_id, "duplicate"))
                continue
            patron_id = patrons.get(view.koha_patron_id)
            if patron_id is None:
                answers.append(ViewAnswer(view.event_id, "unknown_patron"))
                continue
            seen.add(view.event_id)
            profile = staff.get(view.staff_userid)
            allowed = profile is not None and (
                network_verdict(user=profile.user, address=view.staff_address) is Verdict.ALLOW
            )
            detail = "" if allowed else ("network_not_allowed" if profile is not None else "unknown_staff_user")
            event = access_event_record(
                actor=_view_actor(view, consortium_id, profile),
                action=Action.KOHA_PATRON_VIEW,
                # It happened in Koha; "reported" is what the access review reads as a would-be denial here.
                outcome=Outcome.ALLOWED if allowed else Outcome.REPORTED,
                patron_ids=[patron_id],
                data_categories=VIEW_CATEGORIES,
                detail=detail,
            )
            receipts.append(
                KohaViewReceipt(
                    consortium_id=consortium_id,
                    event_id=view.event_id,
                    key=key,
                    viewed_at=view.viewed_at,
                    received_at=now,
                    access_event_id=event.pk,
                )
            )
            answers.append(ViewAnswer(view.event_id, "recorded", profile is not None, allowed))
        KohaViewReceipt.objects.bulk_create(receipts)
        counts = {status: sum(answer.status == status for answer in answers) for status in ("recorded", "duplicate")}
        access_event_record(
            actor=actor,
            action=Action.KOHA_VIEWS_RECEIVED,
            detail=f"recorded:{counts['recorded']};duplicate:{counts['duplicate']};"
            f"unknown_patron:{len(answers) - sum(counts.values())}",
        )
    return answers


def koha_views_record(*, actor: Actor, key: MachineKey, views: list[ReportedView]) -> list[ViewAnswer]:
    """Record each view reported by Koha once, as the staff member's access event; all of a batch or nothing.

    The staff member is the profile of the key's consortium with that Koha user id (an unknown one is
    recorded under `koha:<userid>` as a would-be denial); their address is checked by the allow-list rule
    of their municipality (staff.ip_allowlist), a would-be denial recorded as such. The batch itself is one
    event of the key. A batch sent twice at once: the later one's receipts collide, and it runs again, now
    finding the earlier one's receipts (duplicates).
    """
    try:
        return _record(actor, key, views)
    except IntegrityError:
        return _record(actor, key, views)
