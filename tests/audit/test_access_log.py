"""The access log: append-only in the database, hash-chained, verified end to end."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from audit.actor import Actor
from audit.models import AccessEvent, AccessEventPatron, Action
from audit.services import access_event_record
from audit.verify import verify_chain

pytestmark = pytest.mark.django_db

ACTOR = Actor(user_id=1, username="tester", municipality_id=1, consortium_id=1, client_ip=None)


def record(n: int = 3) -> list[AccessEvent]:
    return [
        access_event_record(
            actor=ACTOR, action=Action.PATRON_VIEW, patron_ids=[100 + i, 200 + i], data_categories=["basic"]
        )
        for i in range(n)
    ]


def test_events_link_to_the_previous_one():
    first, second, third = record(3)
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert verify_chain() is None
    call_command("verify_access_log", verbosity=0)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_accessevent SET actor_username = 'someone-else'",
        "DELETE FROM audit_accessevent",
        "UPDATE audit_accesseventpatron SET patron_id = 1",
        "DELETE FROM audit_accesseventpatron",
    ],
)
def test_the_database_refuses_updates_and_deletes(statement):
    record(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AccessEvent.objects.filter(actor_username="tester").count() == 1


def test_the_orm_cannot_delete_either():
    (event,) = record(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE and role grants are PostgreSQL's")
def test_postgres_refuses_truncate_and_the_runtime_role_has_no_update_grant(settings):
    record(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # Django's foreign keys are deferred
        cursor.execute("TRUNCATE audit_accessevent CASCADE")
    role = settings.DATABASE_APP_ROLE
    assert role, "the PostgreSQL run must name the runtime role (DATABASE_APP_ROLE)"
    for statement in ("UPDATE audit_accessevent SET reason = 'x'", "DELETE FROM audit_accessevent"):
        with (
            pytest.raises(DatabaseError, match="permission denied"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")
            cursor.execute(statement)
    with transaction.atomic(), connection.cursor() as cursor:
        # ...while it may still read and append.
        cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")
        cursor.execute("SELECT count(*) FROM audit_accessevent")
        cursor.execute("SELECT count(*) FROM patrons_patron")


class Tampering:
    """Play the attacker who owns the database: lift every trigger of the log's tables and the check that
    a seal is whole, inside the test's transaction (rolled back afterwards), as the owner may (ALTER TABLE
    ... DISABLE TRIGGER, DROP CONSTRAINT on PostgreSQL; on SQLite, whoever has the file drops them)."""

    TABLES = ("audit_accessevent", "audit_accesseventpatron", "audit_accesslogprune")
    CHECK = "accessevent_seal_complete"

    def __enter__(self):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending trigger events
                for table in self.TABLES:
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", [self.CHECK])
                self.check = cursor.fetchone()[0]
                cursor.execute(f"ALTER TABLE audit_accessevent DROP CONSTRAINT {self.CHECK}")
            else:
                cursor.execute("PRAGMA ignore_check_constraints = ON")
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s, %s, %s)",
                    self.TABLES,
                )
                self.saved = cursor.fetchall()
                for name, _sql in self.saved:
                    cursor.execute(f"DROP TRIGGER {name}")
        return self

    def __exit__(self, *exc):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for table in self.TABLES:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
                cursor.execute(f"ALTER TABLE audit_accessevent ADD CONSTRAINT {self.CHECK} {self.check} NOT VALID")
            else:
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
                for _name, sql in self.saved:
                    cursor.execute(sql)


def assert_broken_at(event_id: int, problem: str):
    """verify_chain names `event_id` first, and verify_access_log exits 1 naming it on stderr."""
    broken = verify_chain()
    assert broken is not None and broken.event_id == event_id and problem in broken.problem, broken
    err = StringIO()
    with pytest.raises(CommandError, match="tampered with") as failed, translation.override("en"):
        call_command("verify_access_log", verbosity=0, stderr=err)
    assert failed.value.returncode == 1
    assert re.search(rf"^Event {event_id}\b.*{problem}", err.getvalue(), re.MULTILINE), err.getvalue()


def test_a_changed_event_is_detected():
    _first, second, _third = record(3)
    with Tampering():
        AccessEvent.objects.filter(pk=second.pk).update(actor_username="innocent")
    assert_broken_at(second.pk, "changed")


def test_a_removed_event_is_detected():
    _first, second, third = record(3)
    with Tampering():
        AccessEventPatron.objects.filter(event_id=second.pk).delete()
        AccessEvent.objects.filter(pk=second.pk).delete()
    assert_broken_at(third.pk, "removed or moved")


def test_reordered_events_are_detected():
    _first, second, third = record(3)
    fields = ["at", "actor_id", "actor_username", "patron_ids", "prev_hash", "hash"]
    a = AccessEvent.objects.values(*fields).get(pk=second.pk)
    b = AccessEvent.objects.values(*fields).get(pk=third.pk)
    with Tampering():
        # Swap the two rows' content, as if their order had been changed.
        AccessEvent.objects.filter(pk=second.pk).update(hash="x" * 64)
        AccessEvent.objects.filter(pk=third.pk).update(**a)
        AccessEvent.objects.filter(pk=second.pk).update(**b)
        AccessEventPatron.objects.filter(event_id__in=[second.pk, third.pk]).delete()
        AccessEventPatron.objects.bulk_create(
            [AccessEventPatron(event_id=second.pk, patron_id=p, at=b["at"]) for p in b["patron_ids"]]
            + [AccessEventPatron(event_id=third.pk, patron_id=p, at=a["at"]) for p in a["patron_ids"]]
        )
    assert_broken_at(second.pk, "removed or moved")


def test_a_removed_patron_link_is_detected():
    _first, second, _third = record(3)
    with Tampering():
        AccessEventPatron.objects.filter(event_id=second.pk, patron_id=101).delete()
    assert_broken_at(second.pk, "patron index")


def test_events_hold_no_personal_data(lapland_patron):
    from tests.conftest import client_for

    client = client_for("rovaniemi.staff")
    client.post("/patrons/", {"q": lapland_patron.last_name}, follow=True)
    client.get(f"/patrons/{lapland_patron.pk}/")
    client.get(f"/api/v1/patrons/{lapland_patron.pk}/")
    events = list(AccessEvent.objects.filter(actor_username="rovaniemi.staff").values())
    assert len(events) == 3
    personal = [lapland_patron.first_name, lapland_patron.last_name, lapland_patron.cardnumber, lapland_patron.email]
    for event in events:
        text = repr(event)
        for value in filter(None, personal):
            assert value not in text
    assert all(lapland_patron.pk in event["patron_ids"] for event in events)


def test_an_action_is_no_choice_of_the_field_so_a_new_one_needs_no_migration():
    field = AccessEvent._meta.get_field("action")
    assert not field.choices
    assert max(len(action) for action in Action.values) <= field.max_length


def test_the_writer_refuses_an_action_outside_the_vocabulary():
    before = AccessEvent.objects.count()
    with pytest.raises(ValueError, match="not an action"):
        access_event_record(actor=ACTOR, action="patron_peek")
    assert AccessEvent.objects.count() == before
    assert access_event_record(actor=ACTOR, action="patron_view").action_label == Action.PATRON_VIEW.label
