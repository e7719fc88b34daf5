"""Database triggers that make the access log append-only, on SQLite and PostgreSQL.

The one way past them is the privileged pruning of old events (audit/prune.py): on PostgreSQL the
trigger function lets a DELETE through only for the tables' owner in a transaction that set
`audit.prune`; SQLite has no roles, so the prune lifts its DELETE triggers inside its own transaction.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from audit.grants import APPEND_ONLY_TABLES, PRUNABLE_TABLES

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


@contextmanager
def prune_deletes_allowed(connection) -> Iterator[None]:
    """Within the caller's transaction, let this connection DELETE from PRUNABLE_TABLES.

    PostgreSQL: SET LOCAL audit.prune; the trigger still refuses anyone but the owner. SQLite: the
    DELETE triggers are dropped and re-created, both inside the transaction (SQLite's DDL is
    transactional), so an error that rolls it back leaves the triggers as they were. Only the success
    path restores them: after an error the transaction is rolled back anyway.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("prune_deletes_allowed needs a transaction")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config(%s, 'on', true)", [PRUNE_SETTING])
            yield
            cursor.execute("SELECT set_config(%s, 'off', true)", [PRUNE_SETTING])
        elif connection.vendor == "sqlite":
            for table in PRUNABLE_TABLES:
                cursor.execute(f"DROP TRIGGER {table}_no_delete")
            yield
            for table in PRUNABLE_TABLES:
                cursor.execute(_sqlite_trigger(table, "DELETE"))
        else:
            raise NotImplementedError(f"No pruning for {connection.vendor}")
