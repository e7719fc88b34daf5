"""The patron search's indexes (patrons.selectors.patron_search): each part of a search is one range of one of them.

- patron_search_last_idx: a consortium's patrons by UPPER(last_name), UPPER(first_name) and id, compared by code
  point (COLLATE "C"), which is the search's order: the patrons whose last name starts with a word are one range
  of it, already in the order shown, so a page is its first rows however many match; and a walk in that order
  meets the (evenly spread) first-name and card-number matches soon.
- patron_search_first_idx: the same by UPPER(first_name): the patrons whose first name starts with a word.

Both hold the names and card number (INCLUDE), so a part is read from the index alone (an index-only scan) and
its other words checked there, and only patrons staff may find (not held after an erasure). A B-tree in the "C"
collation serves LIKE 'PREFIX%' without text_pattern_ops. They replace 0004's name prefix indexes; its card number
index stays (the card number part). PostgreSQL only: SQLite (development) has no "C" collation and does without.
"""

from django.db import migrations

PARTIAL = "WHERE NOT held_after_erasure"
CREATE = {
    "patron_search_last_idx": (
        '(consortium_id, (UPPER(last_name) COLLATE "C"), (UPPER(first_name) COLLATE "C"), id) '
        f"INCLUDE (last_name, first_name, cardnumber) {PARTIAL}"
    ),
    "patron_search_first_idx": (
        f'(consortium_id, (UPPER(first_name) COLLATE "C")) INCLUDE (id, last_name, first_name, cardnumber) {PARTIAL}'
    ),
}
REPLACED = {
    "patron_last_name_prefix_idx": "(consortium_id, UPPER(last_name::text) text_pattern_ops)",
    "patron_first_name_prefix_idx": "(consortium_id, UPPER(first_name::text) text_pattern_ops)",
}


def _create(schema_editor, indexes: dict[str, str]) -> None:
    for name, columns in indexes.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON patrons_patron {columns}")


def _drop(schema_editor, indexes: dict[str, str]) -> None:
    for name in indexes:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _create(schema_editor, CREATE)
        _drop(schema_editor, REPLACED)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _create(schema_editor, REPLACED)
        _drop(schema_editor, CREATE)


class Migration(migrations.Migration):
    dependencies = [("patrons", "0015_processing_restriction")]
    operations = [migrations.RunPython(forwards, backwards)]
