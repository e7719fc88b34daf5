"""The silo's PostgreSQL schema must exist before Django keeps its migration table in it.

In production an administrator creates it for the silo's role (docs/deployment.md); a fresh
database owned by that role (the test run's) gets it here, on first connection.
"""

from django.conf import settings

from sotu_silo.router import SILO_DATABASE


def ensure_silo_schema(sender, connection, **kwargs) -> None:
    if connection.alias != SILO_DATABASE or connection.vendor != "postgresql":
        return
    schema = settings.SOTU_SCHEMA
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
        if cursor.fetchone() is None:
            quoted = connection.ops.quote_name(schema)
            cursor.execute(f"CREATE SCHEMA {quoted}")
            cursor.execute(f"REVOKE ALL ON SCHEMA {quoted} FROM PUBLIC")
