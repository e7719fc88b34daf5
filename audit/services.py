"""Writing the access log. The one way an AccessEvent comes into being."""

import re
from collections.abc import Iterable

from django.db import connection, models, transaction
from django.utils import timezone

from audit.actor import Actor
from audit.chain import SEPARATOR, UnlinkableEvent
from audit.checkpoints import checkpoint_soon
from audit.grants import SEAL_COLUMNS
from audit.models import AccessEvent, AccessEventPatron, Action, Outcome
from audit.sealing import event_content_mac, seal_soon

# Data categories are identifiers (audit.models.DataCategory): their JSON text is then the same on
# every database, which the link relies on (audit/chain.py).
CATEGORY = re.compile(r"[a-z0-9_]+\Z")
# Action.values builds its list anew on every call (Django's choices): once, for the writer's check.
ACTIONS = frozenset(Action.values)

# The content the writer sets: every column but the id (the sequence's) and the seal's (the sealer's), as
# audit/grants.py gives the runtime role INSERT of them.
CONTENT_FIELDS = tuple(
    field for field in AccessEvent._meta.concrete_fields if field.attname != "id" and field.attname not in SEAL_COLUMNS
)
# On PostgreSQL the event and its patron rows in one statement: one round trip, and no ORM insert to
# compile, where a busy log is bound by its writers' CPU (bench/access_log_writers.py).
PG_INSERT_SQL = (  # noqa: S608 (the model's column names, no input)
    "WITH e AS (INSERT INTO audit_accessevent ({columns}) VALUES ({values}) RETURNING id, at), "
    "p AS (INSERT INTO audit_accesseventpatron (event_id, patron_id, at) "
    "SELECT e.id, pid, e.at FROM e, unnest(%s::bigint[]) AS pid) "
    "SELECT id FROM e"
).format(
    columns=", ".join(field.attname for field in CONTENT_FIELDS),
    values=", ".join("%s::jsonb" if isinstance(field, models.JSONField) else "%s" for field in CONTENT_FIELDS),
)


def access_event_record(
    *,
    actor: Actor,
    action: str,
    outcome: str = Outcome.ALLOWED,
    patron_ids: Iterable[int] = (),
    data_categories: Iterable[str] = (),
    reason: str = "",
    detail: str = "",
) -> AccessEvent:
    """Append one event to the log, in the caller's transaction when there is one.

        A selector that reads patron data calls this inside its own transaction, so the read and its record
        commit together or not at all. The event is written unsealed, without a lock, with its content MAC
    (the writer's word that it wrote it, audit/sealing.py): the sealer gives it
        its position and link (an HMAC under the newest chain key) after the commit (audit/sealing.py), and a
        checkpoint of the head follows when one is due.
    """
    if action not in ACTIONS:
        raise ValueError(f"{action!r} is not an action of the access log (audit.models.Action)")
    patron_ids = sorted({int(pid) for pid in patron_ids})
    categories = sorted(set(data_categories))
    if not all(CATEGORY.match(category) for category in categories):
        raise ValueError("data categories are identifiers (audit.models.DataCategory)")
    client_ip = str(actor.client_ip) if actor.client_ip is not None else None
    if any(SEPARATOR in text for text in (actor.username, actor.resource, reason, detail)):
        # The link could not tell the fields apart (audit/chain.py): refused here, not left unsealed.
        raise UnlinkableEvent("an access event's text may not contain NUL characters")
    # No savepoint: an event that fails fails the caller's transaction, the read it records with it.
    with transaction.atomic(savepoint=False):
        event = AccessEvent(
            at=timezone.now(),
            actor_id=actor.user_id,
            actor_username=actor.username,
            actor_municipality_id=actor.municipality_id,
            client_ip=client_ip,
            action=action,
            resource=actor.resource,
            patron_ids=patron_ids,
            data_categories=categories,
            reason=reason,
            outcome=outcome,
            detail=detail,
        )
        event.content_mac = event_content_mac(event)  # the sealer seals only what carries it
        _insert(event)
        if seal_soon():
            event.refresh_from_db(fields=SEAL_COLUMNS)
        checkpoint_soon()
    return event


def _insert(event: AccessEvent) -> None:
    """Insert `event` and its patron rows (AccessEventPatron); the event has its id afterwards."""
    if connection.vendor != "postgresql":
        event.save(force_insert=True)
        AccessEventPatron.objects.bulk_create(
            AccessEventPatron(event=event, patron_id=pid, at=event.at) for pid in event.patron_ids
        )
        return
    # Each value as Django's own insert prepares it (Field.pre_save, then get_db_prep_save): the free-text
    # fields refuse an identity code there (core/free_text_fields.py), the lists become their JSON.
    values = [field.get_db_prep_save(field.pre_save(event, True), connection) for field in CONTENT_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(PG_INSERT_SQL, [*values, event.patron_ids])
        event.pk = cursor.fetchone()[0]
    # As Django's own insert leaves it: a saved row of the default database.
    event._state.adding = False
    event._state.db = connection.alias
