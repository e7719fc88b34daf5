"""Events are written unsealed and sealed in batches (audit/sealing.py): the seal's columns may be empty.

One position per event (unique seq), the seal whole or absent (a check), the sealer's and the verifier's
partial indexes, and the database's guards (audit/triggers.py, `install_sealing`): one UPDATE per event,
setting its seal and nothing else. On SQLite the table is rebuilt, so its triggers are made again last.
"""

from django.db import migrations, models

from audit import triggers


def forwards(apps, schema_editor):
    triggers.install_sealing(schema_editor)


def backwards(apps, schema_editor):
    triggers.uninstall_sealing(schema_editor)


def triggers_dropped(apps, schema_editor):
    triggers.drop_referring_triggers(schema_editor)


def before_rebuild(apps, schema_editor):
    triggers.drop_referring_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0012_action_without_choices"),
    ]

    operations = [
        # Back: run last, after the rebuild of the table that drops its triggers on SQLite.
        migrations.RunPython(before_rebuild, backwards),
        migrations.AlterField(
            model_name="accessevent",
            name="hash",
            field=models.CharField(blank=True, max_length=64, null=True, verbose_name="hash"),
        ),
        migrations.AlterField(
            model_name="accessevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64, null=True, verbose_name="previous event's hash"),
        ),
        migrations.AddIndex(
            model_name="accessevent",
            index=models.Index(
                condition=models.Q(("hash__isnull", True)), fields=["id"], name="accessevent_unsealed_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="accessevent",
            index=models.Index(
                condition=models.Q(("seq__isnull", True)), fields=["id"], name="accessevent_unpositioned_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="accessevent",
            constraint=models.UniqueConstraint(fields=("seq",), name="accessevent_unique_seq"),
        ),
        migrations.AddConstraint(
            model_name="accessevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("hash__isnull", True),
                        ("key_id__isnull", True),
                        ("prev_hash__isnull", True),
                        ("seq__isnull", True),
                    ),
                    models.Q(
                        ("hash__isnull", False),
                        ("key_id__isnull", True),
                        ("prev_hash__isnull", False),
                        ("seq__isnull", True),
                    ),
                    models.Q(
                        ("hash__isnull", False),
                        ("key_id__isnull", False),
                        ("prev_hash__isnull", False),
                        ("seq__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="accessevent_seal_complete",
            ),
        ),
        migrations.RunPython(forwards, triggers_dropped),
    ]
