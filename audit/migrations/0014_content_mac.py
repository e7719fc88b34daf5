"""The writer's content MAC (audit/sealing.py): the sealer seals only the rows the writer wrote.

A new nullable column (events written before it have none, and are sealed already), unique where set (a
replayed copy of a genuine event is refused), and the database's guards (audit/triggers.py,
`install_content_mac`): on SQLite the sealing UPDATE keeps content_mac too; on PostgreSQL every role but
the owner inserts unsealed rows with a finite time. On SQLite the column is added in place (nullable, no
default: no rebuild), so the other triggers stay.
"""

from django.db import migrations, models

from audit import triggers


def forwards(apps, schema_editor):
    triggers.install_content_mac(schema_editor)


def backwards(apps, schema_editor):
    triggers.uninstall_content_mac(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0013_sealing_in_batches"),
    ]

    operations = [
        migrations.AddField(
            model_name="accessevent",
            name="content_mac",
            field=models.CharField(blank=True, max_length=120, null=True, verbose_name="content MAC"),
        ),
        migrations.AddConstraint(
            model_name="accessevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("content_mac__isnull", False)),
                fields=("content_mac",),
                name="accessevent_unique_content_mac",
            ),
        ),
        # Back: first, so the column's triggers are gone before the column.
        migrations.RunPython(forwards, backwards),
    ]
