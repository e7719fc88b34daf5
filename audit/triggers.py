"""Database triggers that make the access log append-only, on SQLite and PostgreSQL.

The one way past them is the privileged pruning of old events (audit/prune.py), and since migration
0009 the database itself holds a prune to a prefix with a record (`install_guards`): a DELETE of events
or their patron index rows passes only for events before the first kept event of the newest prune
record, and only while that event exists; the record is written first, in the same transaction, and
must name the first kept event and the link it keeps. On PostgreSQL only the tables' owner may delete
at all, in a transaction that set `audit.prune`. SQLite has no roles, so there the rule is all: a
delete can only remove what a prune record already says is gone.

Since 0011 the prune record's cutoff binds too (`install_age_guards`): an event may go only when it is
older than the newest record's cutoff, and a record whose cutoff lies within the last month by the
database's own clock is refused. So the database refuses an obviously recent prune whoever writes the
record; the retention itself (a setting the database does not know) is held by audit/prune.py and,
against whoever lifts these triggers, by the signed checkpoints (audit/verifier.py).

Also since 0009 an INSERT that would replace a row is refused (SQLite's INSERT OR REPLACE and REPLACE
delete the old row without firing DELETE triggers unless recursive_triggers is on, which settings.py
sets on every connection; the BEFORE INSERT triggers hold even on a connection that did not).

The functions for migrations 0002 and 0007 (`install`, `install_function`, `install_prunable_function`,
`uninstall`) stay as those migrations ran them.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from audit.grants import APPEND_ONLY_TABLES, PRUNABLE_TABLES, SEAL_COLUMNS

MESSAGE = "access events are append-only"
# The transaction-local setting that the owner's prune sets; any other role may set it but has no
# DELETE grant, and the function checks the owner too.
PRUNE_SETTING = "audit.prune"


def _sqlite_trigger(table: str, operation: str) -> str:
    return (
        f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    )


def install(schema_editor, tables: Iterable[str] = APPEND_ONLY_TABLES) -> None:
    """Install the triggers on `tables` (a migration names its own tables: later ones may not exist yet)."""
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "sqlite":
            for operation in ("UPDATE", "DELETE"):
                schema_editor.execute(_sqlite_trigger(table, operation))
        elif vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
            )
        else:
            raise NotImplementedError(f"No append-only triggers for {vendor}")


def install_function(schema_editor) -> None:
    """The first trigger function (migration 0002): refuses every change."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$"
        )


# Literal SQL, fixed by migration 0007: the tables are PRUNABLE_TABLES, the setting PRUNE_SETTING.
PRUNABLE_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
        AND TG_TABLE_NAME IN ('audit_accesseventpatron', 'audit_accessevent')
        AND current_setting('audit.prune', true) = 'on'
        AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)
    THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access events are append-only' USING ERRCODE = 'insufficient_privilege';
END $$
"""


def install_prunable_function(schema_editor) -> None:
    """The trigger function since migration 0007: a DELETE of events passes only on the owner's prune.

    UPDATE and TRUNCATE stay refused for everyone, and so does any DELETE of prune records. The
    function runs with the caller's rights, so current_user is whoever deletes (after any SET ROLE).
    """
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PRUNABLE_FUNCTION)


def uninstall(schema_editor, tables: Iterable[str] = APPEND_ONLY_TABLES) -> None:
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")


# --- Since migration 0009: prunes only of a prefix, with a record; no replacing inserts ---------------

PREFIX_MESSAGE = "a prune removes only the events before the first kept event of its prune record"
RECORD_MESSAGE = "a prune record must name an existing first kept event and the link it keeps"
REPLACE_MESSAGE = "access log rows cannot be replaced"

# Literal SQL, fixed by migration 0009. A row of a prunable table may go only when the event it names
# comes before the first kept event of the newest prune record, and that event is still there.
SQLITE_DELETE_GUARDS = {
    "audit_accessevent": (
        "OLD.id < coalesce((SELECT first_kept_event_id FROM audit_accesslogprune ORDER BY id DESC LIMIT 1), 0) "
        "AND EXISTS (SELECT 1 FROM audit_accessevent WHERE id = "
        "(SELECT first_kept_event_id FROM audit_accesslogprune ORDER BY id DESC LIMIT 1))"
    ),
    "audit_accesseventpatron": (
        "OLD.event_id < coalesce((SELECT first_kept_event_id FROM audit_accesslogprune ORDER BY id DESC LIMIT 1), 0) "
        "AND EXISTS (SELECT 1 FROM audit_accessevent WHERE id = "
        "(SELECT first_kept_event_id FROM audit_accesslogprune ORDER BY id DESC LIMIT 1))"
    ),
}
# An insert that repeats a row's key would replace the row (SQLite's INSERT OR REPLACE, REPLACE).
SQLITE_REPLACE_GUARDS = {
    "audit_accessevent": (
        "EXISTS (SELECT 1 FROM audit_accessevent WHERE id = NEW.id) "
        "OR EXISTS (SELECT 1 FROM audit_accessevent WHERE hash = NEW.hash)"
    ),
    "audit_accesseventpatron": (
        "EXISTS (SELECT 1 FROM audit_accesseventpatron WHERE event_id = NEW.event_id AND patron_id = NEW.patron_id)"
    ),
    "audit_accesslogprune": "EXISTS (SELECT 1 FROM audit_accesslogprune WHERE id = NEW.id)",
}
# A prune record names an existing event as the first kept one, and the link that event keeps.
RECORD_GUARD = (
    "NOT EXISTS (SELECT 1 FROM audit_accessevent WHERE id = NEW.first_kept_event_id AND prev_hash = NEW.anchor_hash)"
)

PG_PREFIX_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_check_prune_prefix() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kept bigint;
    newest_removed bigint;
BEGIN
    IF TG_TABLE_NAME = 'audit_accessevent' THEN
        SELECT max(id) INTO newest_removed FROM removed;
    ELSE
        SELECT max(event_id) INTO newest_removed FROM removed;
    END IF;
    IF newest_removed IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT first_kept_event_id INTO kept FROM audit_accesslogprune ORDER BY id DESC LIMIT 1;
    IF kept IS NULL OR newest_removed >= kept OR NOT EXISTS (SELECT 1 FROM audit_accessevent WHERE id = kept) THEN
        RAISE EXCEPTION 'a prune removes only the events before the first kept event of its prune record'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END $$
"""

PG_RECORD_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_check_prune_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM audit_accessevent WHERE id = NEW.first_kept_event_id AND prev_hash = NEW.anchor_hash
    ) THEN
        RAISE EXCEPTION 'a prune record must name an existing first kept event and the link it keeps'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
"""


# --- Since migration 0011: the record's cutoff binds, and no record of an obviously recent prune -------

RECENT_MESSAGE = "the cutoff of a prune record must be at least a month in the past"

# Literal SQL, fixed by migration 0011: the guards of 0009, and the event older than the newest record's
# cutoff (an index row whose event is gone already names no time).
SQLITE_AGE_GUARDS = {
    "audit_accessevent": (
        "OLD.id < coalesce((SELECT first_kept_event_id FROM audit_accesslogprune ORDER BY id DESC LIMIT 1), 0) "
        "AND EXISTS (SELECT 1 FROM audit_accessevent WHERE id = "
        "(SELECT first_kept_event_id FROM audit_accesslogprune ORDER BY id DESC LIMIT 1)) "
        "AND OLD.at < coalesce((SELECT cutoff FROM audit_accesslogprune ORDER BY id DESC LIMIT 1), '')"
    ),
    "audit_accesseventpatron": (
        "OLD.event_id < coalesce((SELECT first_kept_event_id FROM audit_accesslogprune ORDER BY id DESC LIMIT 1), 0) "
        "AND EXISTS (SELECT 1 FROM audit_accessevent WHERE id = "
        "(SELECT first_kept_event_id FROM audit_accesslogprune ORDER BY id DESC LIMIT 1)) "
        "AND NOT EXISTS (SELECT 1 FROM audit_accessevent WHERE id = OLD.event_id "
        "AND at >= (SELECT cutoff FROM audit_accesslogprune ORDER BY id DESC LIMIT 1))"
    ),
}
# Django keeps times on SQLite as UTC text, which sorts as the time does; datetime() is UTC as well.
SQLITE_RECENT_RECORD = "NEW.cutoff > datetime('now', '-1 months')"

PG_AGE_PREFIX_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_check_prune_prefix() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kept bigint;
    kept_cutoff timestamptz;
    newest_removed bigint;
    newest_time timestamptz;
BEGIN
    IF TG_TABLE_NAME = 'audit_accessevent' THEN
        SELECT max(id), max(at) INTO newest_removed, newest_time FROM removed;
    ELSE
        SELECT max(r.event_id), max(e.at) INTO newest_removed, newest_time
        FROM removed r LEFT JOIN audit_accessevent e ON e.id = r.event_id;
    END IF;
    IF newest_removed IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT p.first_kept_event_id, p.cutoff INTO kept, kept_cutoff
    FROM audit_accesslogprune p ORDER BY p.id DESC LIMIT 1;
    IF kept IS NULL OR newest_removed >= kept OR NOT EXISTS (SELECT 1 FROM audit_accessevent WHERE id = kept) THEN
        RAISE EXCEPTION 'a prune removes only the events before the first kept event of its prune record'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF newest_time >= kept_cutoff THEN
        RAISE EXCEPTION 'a prune removes only events older than the cutoff of its prune record'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END $$
"""

PG_AGE_RECORD_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_check_prune_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM audit_accessevent WHERE id = NEW.first_kept_event_id AND prev_hash = NEW.anchor_hash
    ) THEN
        RAISE EXCEPTION 'a prune record must name an existing first kept event and the link it keeps'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.cutoff > now() - interval '1 month' THEN
        RAISE EXCEPTION 'the cutoff of a prune record must be at least a month in the past'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
"""


def _sqlite_guard(name: str, timing: str, table: str, when: str, message: str) -> str:
    return f"CREATE TRIGGER {name} {timing} ON {table} WHEN {when} BEGIN SELECT RAISE(ABORT, '{message}'); END"


def install_guards(schema_editor) -> None:
    """Migration 0009: deletes only of a recorded prefix, records that fit the chain, no replacing inserts."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for table, allowed in SQLITE_DELETE_GUARDS.items():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            schema_editor.execute(
                _sqlite_guard(f"{table}_no_delete", "BEFORE DELETE", table, f"NOT ({allowed})", MESSAGE)
            )
        for table, repeated in SQLITE_REPLACE_GUARDS.items():
            schema_editor.execute(
                _sqlite_guard(f"{table}_no_replace", "BEFORE INSERT", table, repeated, REPLACE_MESSAGE)
            )
        schema_editor.execute(
            _sqlite_guard(
                "audit_accesslogprune_fits_chain", "BEFORE INSERT", "audit_accesslogprune", RECORD_GUARD, RECORD_MESSAGE
            )
        )
    elif vendor == "postgresql":
        schema_editor.execute(PG_PREFIX_FUNCTION)
        schema_editor.execute(PG_RECORD_FUNCTION)
        for table in SQLITE_DELETE_GUARDS:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_prefix_only AFTER DELETE ON {table} REFERENCING OLD TABLE AS removed "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_check_prune_prefix()"
            )
        schema_editor.execute(
            "CREATE TRIGGER audit_accesslogprune_fits_chain BEFORE INSERT ON audit_accesslogprune "
            "FOR EACH ROW EXECUTE FUNCTION audit_check_prune_record()"
        )
    else:
        raise NotImplementedError(f"No access-log guards for {vendor}")


def uninstall_guards(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for table in SQLITE_REPLACE_GUARDS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_accesslogprune_fits_chain")
        for table in SQLITE_DELETE_GUARDS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            schema_editor.execute(_sqlite_trigger(table, "DELETE"))
    elif vendor == "postgresql":
        for table in SQLITE_DELETE_GUARDS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_prefix_only ON {table}")
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_accesslogprune_fits_chain ON audit_accesslogprune")
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_check_prune_prefix()")
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_check_prune_record()")


def install_age_guards(schema_editor) -> None:
    """Migration 0011: events go only when older than the record's cutoff; no record of a recent prune."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for table, allowed in SQLITE_AGE_GUARDS.items():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            schema_editor.execute(
                _sqlite_guard(f"{table}_no_delete", "BEFORE DELETE", table, f"NOT ({allowed})", MESSAGE)
            )
        schema_editor.execute(
            _sqlite_guard(
                "audit_accesslogprune_not_recent", "BEFORE INSERT", "audit_accesslogprune", SQLITE_RECENT_RECORD,
                RECENT_MESSAGE,
            )
        )  # fmt: skip
    elif vendor == "postgresql":
        schema_editor.execute(PG_AGE_PREFIX_FUNCTION)
        schema_editor.execute(PG_AGE_RECORD_FUNCTION)
    else:
        raise NotImplementedError(f"No access-log guards for {vendor}")


def uninstall_age_guards(schema_editor) -> None:
    """Back to the guards of migration 0009."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_accesslogprune_not_recent")
        for table, allowed in SQLITE_DELETE_GUARDS.items():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            schema_editor.execute(
                _sqlite_guard(f"{table}_no_delete", "BEFORE DELETE", table, f"NOT ({allowed})", MESSAGE)
            )
    elif vendor == "postgresql":
        schema_editor.execute(PG_PREFIX_FUNCTION)
        schema_editor.execute(PG_RECORD_FUNCTION)


@contextmanager
def prune_deletes_allowed(connection) -> Iterator[None]:
    """Within the caller's transaction, let this connection DELETE the prefix its prune record names.

    PostgreSQL: SET LOCAL audit.prune; the row trigger still refuses anyone but the owner, and the
    statement trigger anything but the recorded prefix. SQLite: nothing to lift; the triggers let a
    DELETE through only for the recorded prefix (`install_guards`).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("prune_deletes_allowed needs a transaction")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [PRUNE_SETTING])
            yield
            cursor.execute("SELECT set_config(%s, 'off', true)", [PRUNE_SETTING])
    elif connection.vendor == "sqlite":
        yield
    else:
        raise NotImplementedError(f"No pruning for {connection.vendor}")


# --- Since migration 0013: events are written unsealed and sealed once, in batches (audit/sealing.py) ----

SEAL_MESSAGE = "access events are append-only: each is sealed once, the seal changing nothing else"
# Everything else the sealing UPDATE must leave as it was (as of migration 0013; 0014 adds content_mac).
CONTENT_COLUMNS_0013 = (
    "id", "at", "actor_id", "actor_username", "actor_municipality_id", "client_ip", "action", "resource",
    "patron_ids", "data_categories", "reason", "outcome", "detail",
)  # fmt: skip
CONTENT_COLUMNS = (*CONTENT_COLUMNS_0013, "content_mac")


def _sqlite_sealing(content_columns: Iterable[str]) -> str:
    """The one UPDATE an event may see: its whole seal set, `content_columns` unchanged."""
    return (
        " AND ".join(f"OLD.{column} IS NULL AND NEW.{column} IS NOT NULL" for column in SEAL_COLUMNS)
        + " AND "
        + " AND ".join(f"NEW.{column} IS OLD.{column}" for column in content_columns)
    )


# Literal SQL, fixed by migration 0013 (a column it names must exist when it runs).
SQLITE_SEALING = _sqlite_sealing(CONTENT_COLUMNS_0013)

# The function of 0007 and the one UPDATE of an unsealed event: every column but the seal's compared as a
# whole row (to_jsonb), so a column added later is covered too. The checks on OLD and NEW fields are
# nested under the table's name: the patron index rows have no such fields.
PG_SEALING_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'audit_accessevent' THEN
        IF OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL AND OLD.key_id IS NULL
            AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL AND NEW.key_id IS NOT NULL
            AND to_jsonb(NEW) - ARRAY['seq', 'prev_hash', 'hash', 'key_id']
                = to_jsonb(OLD) - ARRAY['seq', 'prev_hash', 'hash', 'key_id']
        THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'access events are append-only: each is sealed once, the seal changing nothing else'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE'
        AND TG_TABLE_NAME IN ('audit_accesseventpatron', 'audit_accessevent')
        AND current_setting('audit.prune', true) = 'on'
        AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)
    THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access events are append-only' USING ERRCODE = 'insufficient_privilege';
END $$
"""


# SQLite triggers on other tables that name the events' table: a rebuild of that table (rename) fails
# while they exist, so migration 0013 drops them first and makes them again after.
SQLITE_REFERRING_TRIGGERS = ("audit_accesslogprune_fits_chain", "audit_accesseventpatron_no_delete")


def drop_referring_triggers(schema_editor) -> None:
    """Migration 0013, before the rebuild of the events' table on SQLite."""
    if schema_editor.connection.vendor == "sqlite":
        for name in SQLITE_REFERRING_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


def _sqlite_event_triggers(schema_editor, update_guard: str) -> None:
    """The triggers of 0002, 0009 and 0011 that name the events' table, with `update_guard` as its UPDATE one."""
    table = "audit_accessevent"
    patrons = "audit_accesseventpatron"
    for name in (f"{table}_no_update", f"{table}_no_delete", f"{table}_no_replace", *SQLITE_REFERRING_TRIGGERS):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    schema_editor.execute(update_guard)
    for guarded in (table, patrons):
        schema_editor.execute(
            _sqlite_guard(
                f"{guarded}_no_delete", "BEFORE DELETE", guarded, f"NOT ({SQLITE_AGE_GUARDS[guarded]})", MESSAGE
            )
        )
    schema_editor.execute(
        _sqlite_guard(f"{table}_no_replace", "BEFORE INSERT", table, SQLITE_REPLACE_GUARDS[table], REPLACE_MESSAGE)
    )
    schema_editor.execute(
        _sqlite_guard(
            "audit_accesslogprune_fits_chain", "BEFORE INSERT", "audit_accesslogprune", RECORD_GUARD, RECORD_MESSAGE
        )
    )


def install_sealing(schema_editor) -> None:
    """Migration 0013: an unsealed event may be sealed once, its content unchanged; nothing else changes.

    On SQLite the migration rebuilt the events' table (nullable columns, new constraints), which drops its
    triggers: they are made again here as 0002, 0009 and 0011 left them, the UPDATE one now letting the
    sealing through.
    """
    vendor = schema_editor.connection.vendor
    table = "audit_accessevent"
    if vendor == "sqlite":
        _sqlite_event_triggers(
            schema_editor,
            _sqlite_guard(f"{table}_no_update", "BEFORE UPDATE", table, f"NOT ({SQLITE_SEALING})", SEAL_MESSAGE),
        )
    elif vendor == "postgresql":
        schema_editor.execute(PG_SEALING_FUNCTION)
    else:
        raise NotImplementedError(f"No access-log guards for {vendor}")


def uninstall_sealing(schema_editor) -> None:
    """Back to 0011: no UPDATE at all (the rebuilt SQLite table gets its triggers back as they were)."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _sqlite_event_triggers(schema_editor, _sqlite_trigger("audit_accessevent", "UPDATE"))
    elif vendor == "postgresql":
        schema_editor.execute(PRUNABLE_FUNCTION)


# --- Since migration 0014: the writer's content MAC is content too; the runtime role inserts content only ---

INSERT_MESSAGE = "access events are inserted unsealed, with a finite time"
SQLITE_CONTENT_MAC_SEALING = _sqlite_sealing(CONTENT_COLUMNS)

# Every role but the table's owner (a restore, the owner's own repairs) inserts an event without a seal
# and with a finite time: a pre-sealed row would pose as sealed, and an infinite time stops the sealer's
# and the verifier's microseconds. (The id is not the runtime role's to give: audit/grants.py.)
PG_INSERT_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_check_event_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
        RETURN NEW;
    END IF;
    IF NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL OR NEW.key_id IS NOT NULL
        OR NEW.at IS NULL OR NOT isfinite(NEW.at)
    THEN
        RAISE EXCEPTION 'access events are inserted unsealed, with a finite time'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
"""


def _sqlite_update_guard(schema_editor, sealing: str) -> None:
    """The events' one UPDATE trigger, letting through only the sealing `sealing` describes."""
    table = "audit_accessevent"
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
    schema_editor.execute(_sqlite_guard(f"{table}_no_update", "BEFORE UPDATE", table, f"NOT ({sealing})", SEAL_MESSAGE))


def install_content_mac(schema_editor) -> None:
    """Migration 0014: the sealing UPDATE leaves content_mac as it was too (SQLite; PostgreSQL's function
    compares the whole row already), and on PostgreSQL every role but the owner inserts content only."""
    vendor = schema_editor.connection.vendor
    table = "audit_accessevent"
    if vendor == "sqlite":
        _sqlite_update_guard(schema_editor, SQLITE_CONTENT_MAC_SEALING)
    elif vendor == "postgresql":
        schema_editor.execute(PG_INSERT_FUNCTION)
        schema_editor.execute(
            f"CREATE TRIGGER {table}_insert_unsealed BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_check_event_insert()"
        )
    else:
        raise NotImplementedError(f"No access-log guards for {vendor}")


def uninstall_content_mac(schema_editor) -> None:
    """Back to 0013 (before content_mac goes: SQLite refuses to drop a column a trigger names)."""
    vendor = schema_editor.connection.vendor
    table = "audit_accessevent"
    if vendor == "sqlite":
        _sqlite_update_guard(schema_editor, SQLITE_SEALING)
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_insert_unsealed ON {table}")
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_check_event_insert()")


# --- Since migration 0015: the tables partitioned by month on PostgreSQL (audit/partitions.py) ----------

# The function of 0013 with the table named by the trigger's argument: a row trigger on a partitioned
# table fires on the partition, whose name TG_TABLE_NAME then is. A trigger without an argument (on the
# prune records) is on the table itself.
PG_PARTITIONED_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    logical_table text := CASE WHEN TG_NARGS > 0 THEN TG_ARGV[0] ELSE TG_TABLE_NAME END;
BEGIN
    IF TG_OP = 'UPDATE' AND logical_table = 'audit_accessevent' THEN
        IF OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL AND OLD.key_id IS NULL
            AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL AND NEW.key_id IS NOT NULL
            AND to_jsonb(NEW) - ARRAY['seq', 'prev_hash', 'hash', 'key_id']
                = to_jsonb(OLD) - ARRAY['seq', 'prev_hash', 'hash', 'key_id']
        THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'access events are append-only: each is sealed once, the seal changing nothing else'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE'
        AND logical_table IN ('audit_accesseventpatron', 'audit_accessevent')
        AND current_setting('audit.prune', true) = 'on'
        AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)
    THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access events are append-only' USING ERRCODE = 'insufficient_privilege';
END $$
"""


def install_partitioned(schema_editor) -> None:
    """Migration 0015 on PostgreSQL: the triggers of 0002-0014 on the partitioned tables.

    Row triggers on a partitioned table are cloned to every partition, present and future (so a direct
    UPDATE or DELETE of a partition meets them too); statement triggers (TRUNCATE, the prune's prefix
    check over its transition table) fire for statements on the partitioned table, the only one the
    runtime role has a grant on (audit/grants.py).
    """
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(PG_PARTITIONED_FUNCTION)
    for table in PRUNABLE_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION audit_refuse_change('{table}')"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change('{table}')"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_prefix_only AFTER DELETE ON {table} REFERENCING OLD TABLE AS removed "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_check_prune_prefix()"
        )
    schema_editor.execute(
        "CREATE TRIGGER audit_accessevent_insert_unsealed BEFORE INSERT ON audit_accessevent "
        "FOR EACH ROW EXECUTE FUNCTION audit_check_event_insert()"
    )


# The patron index rows' time, filled from their events on SQLite (the column is new in 0015; PostgreSQL
# fills it in the conversion, audit/partitions.py).
SQLITE_FILL_PATRON_TIME = (
    "UPDATE audit_accesseventpatron SET at = "
    "(SELECT e.at FROM audit_accessevent AS e WHERE e.id = audit_accesseventpatron.event_id) WHERE at IS NULL"
)

PG_FILL_PATRON_TIME = (
    "UPDATE audit_accesseventpatron AS p SET at = e.at FROM audit_accessevent AS e "
    "WHERE e.id = p.event_id AND p.at IS NULL"
)


def fill_patron_time(schema_editor) -> None:
    """Migration 0015: the patron index rows get their event's time (the owner's one UPDATE, triggers lifted)."""
    vendor = schema_editor.connection.vendor
    table = "audit_accesseventpatron"
    if vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        schema_editor.execute(SQLITE_FILL_PATRON_TIME)
        schema_editor.execute(_sqlite_trigger(table, "UPDATE"))
    elif vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        schema_editor.execute(PG_FILL_PATRON_TIME)
        schema_editor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        # Every row has its event (the foreign key until now), so every row has its time.
        schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN at SET NOT NULL")


# --- Since migration 0016: a current time at the insert, and seals that link (the runtime role) --------

TIME_WINDOW_MESSAGE = "access events are inserted unsealed, with a current time"
SEAL_LINK_MESSAGE = "an access event is sealed at a position in range, linked to the event before it"

# The guard of 0014, and the time within the hour before and five minutes after the database's clock at the
# insert (clock_timestamp, not now(): now() is when the writer's transaction began, before its event's time).
# An extreme time (year 294270, or BC) breaks the sealer's microseconds or Python's datetimes; a future one
# would keep a row out of the alarm (readers show it meanwhile). Owners (a restore, repairs) are not held.
PG_TIME_WINDOW_INSERT_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_check_event_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
        RETURN NEW;
    END IF;
    IF NEW.seq IS NOT NULL OR NEW.prev_hash IS NOT NULL OR NEW.hash IS NOT NULL OR NEW.key_id IS NOT NULL
        OR NEW.at IS NULL OR NOT isfinite(NEW.at)
        OR NEW.at < clock_timestamp() - interval '1 hour' OR NEW.at > clock_timestamp() + interval '5 minutes'
    THEN
        RAISE EXCEPTION 'access events are inserted unsealed, with a current time'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
"""

# After the statement's rows are all updated (an AFTER row trigger sees every row the same UPDATE sealed, so
# a batch's own predecessors count): a seal by any role but the owner has a position in [1, 2^62) and the
# link of the positioned event just before it, unless no event has a lower position (the first positioned
# event links to the old chain, the genesis or a prune's anchor: the verifier checks that one). The runtime
# role may set the seal's columns (it runs the sealer): without this it could take the last position (no
# event could be sealed after it) or break a link (no checkpoint could be signed after it).
PG_SEAL_LINK_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_check_event_seal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
        RETURN NULL;
    END IF;
    IF NEW.seq < 1 OR NEW.seq >= 4611686018427387904
        OR (
            NOT EXISTS (SELECT 1 FROM audit_accessevent WHERE seq = NEW.seq - 1 AND hash = NEW.prev_hash)
            AND EXISTS (SELECT 1 FROM audit_accessevent WHERE seq < NEW.seq)
        )
    THEN
        RAISE EXCEPTION 'an access event is sealed at a position in range, linked to the event before it'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END $$
"""


def install_seal_guards(schema_editor) -> None:
    """Migration 0016 (PostgreSQL; SQLite has no roles): the runtime role inserts events of the current
    time, and seals only at a position in range with the link of the event before."""
    vendor = schema_editor.connection.vendor
    table = "audit_accessevent"
    if vendor == "postgresql":
        schema_editor.execute(PG_TIME_WINDOW_INSERT_FUNCTION)
        schema_editor.execute(PG_SEAL_LINK_FUNCTION)
        schema_editor.execute(
            f"CREATE TRIGGER {table}_seal_links AFTER UPDATE ON {table} "
            "FOR EACH ROW WHEN (NEW.seq IS NOT NULL) EXECUTE FUNCTION audit_check_event_seal()"
        )
    elif vendor != "sqlite":
        raise NotImplementedError(f"No access-log guards for {vendor}")


def uninstall_seal_guards(schema_editor) -> None:
    """Back to 0014."""
    table = "audit_accessevent"
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_seal_links ON {table}")
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_check_event_seal()")
        schema_editor.execute(PG_INSERT_FUNCTION)


# --- Since migration 0017: the same guards at a batch's price (PostgreSQL) ------------------------------
# A batch of 1,000 seals spent 51 ms in 0015's append-only check (to_jsonb of the old and the new row, per
# row) and 19 ms in 0016's link check (a PL/pgSQL call a row): more than half the sealer's time, and the
# sealer is one process among the writers (bench/access_log_writers.py). The same rules:
# - a seal changes nothing but the seal: the new row with its seal emptied is the old row, compared as a
#   composite value (every column, present and future; two empty fields compare equal), not as JSON;
# - every seal of a statement has a position in [1, 2^62) and the link of the positioned event before it,
#   checked once per statement over its transition table (the statement's rows are all updated by then).
PG_SEAL_ONCE_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    logical_table text := CASE WHEN TG_NARGS > 0 THEN TG_ARGV[0] ELSE TG_TABLE_NAME END;
    unsealed record;
BEGIN
    IF TG_OP = 'UPDATE' AND logical_table = 'audit_accessevent' THEN
        IF OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL AND OLD.key_id IS NULL
            AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL AND NEW.key_id IS NOT NULL
        THEN
            unsealed := NEW;
            unsealed.seq := NULL;
            unsealed.prev_hash := NULL;
            unsealed.hash := NULL;
            unsealed.key_id := NULL;
            IF unsealed IS NOT DISTINCT FROM OLD THEN
                RETURN NEW;
            END IF;
        END IF;
        RAISE EXCEPTION 'access events are append-only: each is sealed once, the seal changing nothing else'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE'
        AND logical_table IN ('audit_accesseventpatron', 'audit_accessevent')
        AND current_setting('audit.prune', true) = 'on'
        AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)
    THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'access events are append-only' USING ERRCODE = 'insufficient_privilege';
END $$
"""

PG_SEAL_LINKS_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_check_event_seals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
        RETURN NULL;
    END IF;
    IF EXISTS (
        SELECT 1 FROM sealed AS n
        WHERE n.seq IS NOT NULL AND (
            n.seq < 1 OR n.seq >= 4611686018427387904
            OR (
                NOT EXISTS (SELECT 1 FROM audit_accessevent AS b WHERE b.seq = n.seq - 1 AND b.hash = n.prev_hash)
                AND EXISTS (SELECT 1 FROM audit_accessevent AS b WHERE b.seq < n.seq)
            )
        )
    ) THEN
        RAISE EXCEPTION 'an access event is sealed at a position in range, linked to the event before it'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END $$
"""


def install_batch_seal_guards(schema_editor) -> None:
    """Migration 0017 (PostgreSQL): 0015's append-only check and 0016's link check, cheaper a batch."""
    if schema_editor.connection.vendor != "postgresql":
        return
    table = "audit_accessevent"
    schema_editor.execute(PG_SEAL_ONCE_FUNCTION)
    schema_editor.execute(f"DROP TRIGGER {table}_seal_links ON {table}")
    schema_editor.execute("DROP FUNCTION audit_check_event_seal()")
    schema_editor.execute(PG_SEAL_LINKS_FUNCTION)
    schema_editor.execute(
        f"CREATE TRIGGER {table}_seal_links AFTER UPDATE ON {table} REFERENCING NEW TABLE AS sealed "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_check_event_seals()"
    )


def uninstall_batch_seal_guards(schema_editor) -> None:
    """Back to 0016."""
    if schema_editor.connection.vendor != "postgresql":
        return
    table = "audit_accessevent"
    schema_editor.execute(f"DROP TRIGGER {table}_seal_links ON {table}")
    schema_editor.execute("DROP FUNCTION audit_check_event_seals()")
    schema_editor.execute(PG_PARTITIONED_FUNCTION)
    schema_editor.execute(PG_SEAL_LINK_FUNCTION)
    schema_editor.execute(
        f"CREATE TRIGGER {table}_seal_links AFTER UPDATE ON {table} "
        "FOR EACH ROW WHEN (NEW.seq IS NOT NULL) EXECUTE FUNCTION audit_check_event_seal()"
    )
