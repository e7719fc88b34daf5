"""The chain over access events: each event's link is an HMAC-SHA256 under the chain key.

Each event stores the link of the event before it in the chain, its position in the chain (`seq`, 1
for the first event ever, pruned ones included; the chain's order, not the id: audit/sealing.py), the
id of the chain key, and its own link: HMAC-SHA256
under that key (audit/keys.py) over its content, its position and the previous link. Changing a row
breaks its own link; removing or reordering rows breaks the next row's `prev_hash`; recomputing the
links needs the key, which the database never holds. A removed tail leaves a valid chain: the signed
checkpoints (audit/checkpoints.py) pin the head. Sealers serialise on a lock (PostgreSQL advisory
lock; SQLite's IMMEDIATE transactions) so the chain has exactly one head; writers take none
(audit/sealing.py).

Events written before the chain key existed (no key id) carry a plain SHA-256 (`legacy_link`). They
are accepted only as the chain's oldest part: the first keyed event's link covers the last of them,
so rewriting them (and recomputing their SHA-256) breaks that keyed link.

The message a link is computed over (`link_message`) is built from the values as the database hands
them back, so the verifier (audit/verifier.py) reads raw columns, not model objects. Fields in this
order, each as text, joined by NUL (which PostgreSQL text cannot hold; the message is refused when a
field holds one, so a field cannot pose as two):

    "access-event/v1", seq, time (integer microseconds since 1970-01-01 UTC), actor id, username,
    municipality id, client address ("4:<int>" / "6:<int>" of the address, "" when none), action,
    resource, patron ids (JSON text, "[1, 2]"), data categories (JSON text, '["basic"]'), reason,
    outcome, detail, previous link, key id

Integers are decimal, a missing one is "None". This module imports nothing from Django at load time:
the offline verifier uses it.
"""

import datetime
import hashlib
import ipaddress
import json
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC

GENESIS_HASH = "0" * 64
# Arbitrary but fixed: the advisory lock that serialises the access log's sealers (and prunes) on PostgreSQL.
CHAIN_LOCK_KEY = 727_001
MESSAGE_PREFIX = "access-event/v1"
MESSAGE_FIELDS = 16
SEPARATOR = "\x00"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
ONE_MICROSECOND = datetime.timedelta(microseconds=1)


class UnlinkableEvent(ValueError):
    """A field holds the separator (NUL): the event cannot be linked unambiguously."""


def microseconds(moment: datetime.datetime) -> int:
    """An aware datetime as integer microseconds since the epoch (what the database stores, exactly)."""
    return (moment - EPOCH) // ONE_MICROSECOND


def from_microseconds(value: int) -> datetime.datetime:
    return EPOCH + value * ONE_MICROSECOND


@lru_cache(maxsize=4096)
def address_text(value: str | None) -> str:
    """A client address as its family and integer: the same for every spelling and Python version.

    Text that is no address (only a tampered row holds one) becomes "!" + the text, so it still
    differs from every address.
    """
    if value is None:
        return ""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return "!" + value
    return f"{address.version}:{int(address)}"


def json_list_text(values: list) -> str:
    """A list as the database stores and returns it: Django's json.dumps, PostgreSQL's jsonb output."""
    return json.dumps(values)


def link_message(
    seq: int,
    at_us: int | None,
    actor_id: int | None,
    actor_username: str,
    actor_municipality_id: int | None,
    client_address: str,
    action: str,
    resource: str,
    patron_ids_json: str,
    data_categories_json: str,
    reason: str,
    outcome: str,
    detail: str,
    prev_hash: str,
    key_id: str,
) -> bytes:
    """The bytes an event's link is computed over (the module docstring spells the format out)."""
    message = (
        f"{MESSAGE_PREFIX}\x00{seq}\x00{at_us}\x00{actor_id}\x00{actor_username}\x00{actor_municipality_id}"
        f"\x00{client_address}\x00{action}\x00{resource}\x00{patron_ids_json}\x00{data_categories_json}"
        f"\x00{reason}\x00{outcome}\x00{detail}\x00{prev_hash}\x00{key_id}"
    )
    if message.count(SEPARATOR) != MESSAGE_FIELDS - 1:
        raise UnlinkableEvent("an access event's text may not contain NUL characters")
    return message.encode()


CONTENT_PREFIX = "access-event-content/v1"
CONTENT_FIELDS = 14


def content_message(nonce: str, *content: object) -> bytes:
    """The bytes of an event's content MAC (audit/sealing.py): the nonce, then `content`, the fields of
    `link_message` from the time to the detail, in its order and forms.

    The writer's word that it wrote the row: no position and no previous link (it takes no lock), and
    its own prefix, so a content MAC can never pass for a link. The writer's random nonce makes two
    events of the same content in the same microsecond differ, so the MAC can be unique (no replays).
    """
    fields = (CONTENT_PREFIX, nonce, *content)
    message = SEPARATOR.join(str(field) for field in fields)
    if len(fields) != CONTENT_FIELDS or message.count(SEPARATOR) != CONTENT_FIELDS - 1:
        raise UnlinkableEvent("an access event's text may not contain NUL characters")
    return message.encode()


def hmac_base(key: bytes) -> HMAC:
    """HMAC-SHA256 (`cryptography`) with the key already absorbed: `keyed_link` copies it per message,
    which saves the key schedule on every event."""
    return HMAC(key, hashes.SHA256())


def keyed_link(base: HMAC, message: bytes) -> str:
    """An event's link: HMAC-SHA256 of its message, hex."""
    mac = base.copy()
    mac.update(message)
    return mac.finalize().hex()


# --- Events written before the chain key: plain SHA-256 over JSON -------------------------------------


def legacy_content(
    *,
    at: datetime.datetime,
    actor_id: int | None,
    actor_username: str,
    actor_municipality_id: int | None,
    client_ip: str | None,
    action: str,
    resource: str,
    patron_ids: list,
    data_categories: list,
    reason: str,
    outcome: str,
    detail: str,
) -> dict:
    return {
        "at": at.isoformat(),
        "actor_id": actor_id,
        "actor_username": actor_username,
        "actor_municipality_id": actor_municipality_id,
        "client_ip": client_ip,
        "action": action,
        "resource": resource,
        "patron_ids": list(patron_ids),
        "data_categories": list(data_categories),
        "reason": reason,
        "outcome": outcome,
        "detail": detail,
    }


def legacy_link(content: dict, prev_hash: str) -> str:
    """The link of an event written before the chain key existed (no key id): plain SHA-256."""
    payload = json.dumps(
        {"prev": prev_hash, "event": content}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def lock_chain_head() -> None:
    """Serialise sealers (and prunes) until the end of the current transaction."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
