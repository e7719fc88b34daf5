"""The hash chain over access events.

Each event stores the hash of the event before it (by id) and its own hash over
its content plus that previous hash. Changing a row breaks its own hash;
removing or reordering rows breaks the next row's link. Writers serialise on a
lock (PostgreSQL advisory lock; SQLite's IMMEDIATE transactions) so the chain
has exactly one head.
"""

import hashlib
import json

from django.db import connection

GENESIS_HASH = "0" * 64
# Arbitrary but fixed: the advisory lock that serialises access-log writers on PostgreSQL.
CHAIN_LOCK_KEY = 727_001


def event_content(event) -> dict:
    return {
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "actor_municipality_id": event.actor_municipality_id,
        "client_ip": event.client_ip,
        "action": event.action,
        "resource": event.resource,
        "patron_ids": list(event.patron_ids),
        "data_categories": list(event.data_categories),
        "reason": event.reason,
        "outcome": event.outcome,
        "detail": event.detail,
    }


def event_hash(event, prev_hash: str) -> str:
    payload = json.dumps(
        {"prev": prev_hash, "event": event_content(event)}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def lock_chain_head() -> None:
    """Serialise writers until the end of the current transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
