"""The access log in monthly range partitions on PostgreSQL (audit/partitions.py); its patron rows carry the time.

Both vendors: the patron index rows get their event's time (nullable in the model, so SQLite adds the
column in place; filled from the events, the owner's one UPDATE with the triggers lifted), their index is
(patron, time), and their foreign key to the event goes from the model (a foreign key to a partitioned
table would need the partition key; SQLite keeps its own, harmless). PostgreSQL only: both tables become
partitioned by month, the old rows kept in one `_before` partition, a DEFAULT partition and the months
ahead made, and the triggers made again on the partitioned tables (audit/triggers.py,
`install_partitioned`). Not reversible on PostgreSQL (a partitioned table is not turned back).
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.migrations.exceptions import IrreversibleError

from audit import partitions, triggers


def fill_patron_time(apps, schema_editor):
    triggers.fill_patron_time(schema_editor)


def to_partitions(apps, schema_editor):
    partitions.convert_to_partitions(schema_editor)
    triggers.install_partitioned(schema_editor)


def irreversible_on_postgresql(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        raise IrreversibleError("the access log's partitions are not turned back")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0014_content_mac"),
    ]

    operations = [
        migrations.AddField(
            model_name="accesseventpatron",
            name="at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="time"),
        ),
        migrations.RunPython(fill_patron_time, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="accesseventpatron",
            name="accessevent_patron_idx",
        ),
        migrations.AddIndex(
            model_name="accesseventpatron",
            index=models.Index(fields=["patron_id", "at"], name="accessevent_patron_idx"),
        ),
        # The model only: the database's foreign key goes in the conversion on PostgreSQL (SQLite would
        # rebuild the table, and its triggers with it, for nothing).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="accesseventpatron",
                    name="event",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="subjects",
                        to="audit.accessevent",
                    ),
                ),
            ],
        ),
        migrations.RunPython(to_partitions, migrations.RunPython.noop),
        # Back: first, before anything is undone.
        migrations.RunPython(migrations.RunPython.noop, irreversible_on_postgresql),
    ]
