"""PostgreSQL privileges for the runtime role (DATABASE_APP_ROLE).

Migrations run as the schema owner. The service itself connects as a runtime
role that may read and write the application's tables but may only SELECT and
INSERT the access log, and UPDATE only the seal's columns of an event (its position and link, set once
by the sealer): no other UPDATE, no DELETE or TRUNCATE, so even a compromised application cannot
rewrite history. It inserts an event without its id (the sequence's to give: an id it chose, at the
end of the range, would stall the prune's walk), and the triggers refuse its insert of a sealed row or an
infinite time (audit/triggers.py, `install_content_mac`). The records of prunings (audit.models.AccessLogPrune)
it may only read: they are written by the owner's prune alone (audit/prune.py), so the
application cannot vouch for a gap in the log. It has no grant on the log's partitions (PostgreSQL,
audit/partitions.py). Re-applied after every `migrate`; `manage.py partition_access_log` makes new
partitions as the owner, which gives the runtime role nothing on them.
"""

from django.conf import settings
from django.db import connections

# The columns the sealer sets, once per event (audit/sealing.py).
SEAL_COLUMNS = ("seq", "prev_hash", "hash", "key_id")
APPEND_ONLY_TABLES = ("audit_accessevent", "audit_accesseventpatron", "audit_accesslogprune")
# What the owner's prune may delete from (never the prune records themselves).
PRUNABLE_TABLES = ("audit_accesseventpatron", "audit_accessevent")
# Written only by the owner.
OWNER_WRITTEN_TABLES = ("audit_accesslogprune",)


def grant_runtime_role(*, using: str = "default", **_kwargs) -> None:
    connection = connections[using]
    role = settings.DATABASE_APP_ROLE
    # The silo's database is the silo role's alone: the runtime role gets nothing there.
    if using != "default" or connection.vendor != "postgresql" or not role:
        return
    quoted = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
        for table in APPEND_ONLY_TABLES:
            cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {quoted}")
        # The sealer (audit/sealing.py) runs in the service: it may set an event's seal and nothing else,
        # and the triggers let that through once per event (audit/triggers.py, `install_sealing`).
        cursor.execute(f"GRANT UPDATE ({', '.join(SEAL_COLUMNS)}) ON audit_accessevent TO {quoted}")
        cursor.execute(f"REVOKE INSERT ON audit_accessevent FROM {quoted}")
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'audit_accessevent' AND column_name <> 'id' "
            "ORDER BY ordinal_position"
        )
        columns = ", ".join(connection.ops.quote_name(name) for (name,) in cursor.fetchall())
        cursor.execute(f"GRANT INSERT ({columns}) ON audit_accessevent TO {quoted}")
        for table in OWNER_WRITTEN_TABLES:
            cursor.execute(f"REVOKE INSERT ON {table} FROM {quoted}")
        # On the partitions of the log (audit/partitions.py) nothing: the runtime role reads and writes
        # through the partitioned tables, whose grants alone PostgreSQL checks then, and the grant on all
        # tables above must not open a partition to a direct UPDATE or DELETE.
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent::regclass::text = ANY(%s)",
            [list(PRUNABLE_TABLES)],
        )
        for (partition,) in cursor.fetchall():
            cursor.execute(f"REVOKE ALL ON {connection.ops.quote_name(partition)} FROM {quoted}")
