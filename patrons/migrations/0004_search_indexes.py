"""Indexes that let PostgreSQL answer the patron search's prefix matches without a full scan.

Django's istartswith is `UPPER(col::text) LIKE UPPER('term%')` and startswith is
`col::text LIKE 'term%'`. Outside the C locale only a pattern-ops index serves
those, and Django cannot declare an expression index with an operator class
portably, so these are PostgreSQL-only SQL. SQLite (development) does without.
"""

from django.db import migrations

INDEXES = {
    "patron_last_name_prefix_idx": "(consortium_id, UPPER(last_name::text) text_pattern_ops)",
    "patron_first_name_prefix_idx": "(consortium_id, UPPER(first_name::text) text_pattern_ops)",
    "patron_cardnumber_prefix_idx": "(consortium_id, (cardnumber::text) text_pattern_ops)",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, columns in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON patrons_patron {columns}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("patrons", "0003_unique_networks")]
    operations = [migrations.RunPython(forwards, backwards)]
