"""Guards against the runtime role's own SQL (audit/triggers.py, `install_seal_guards`; PostgreSQL only).

Its insert carries a current time (an hour back to five minutes ahead of the database's clock), and its
seal a position in [1, 2^62) with the link of the positioned event before it. Row triggers on the events'
table: PostgreSQL clones them to the partitions of a partitioned table.
"""

from django.db import migrations

from audit import triggers


def forwards(apps, schema_editor):
    triggers.install_seal_guards(schema_editor)


def backwards(apps, schema_editor):
    triggers.uninstall_seal_guards(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0015_monthly_partitions"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
