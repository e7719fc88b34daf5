"""Keyed links (audit/chain.py): each event's position and chain key id; events before this keep neither.

And the database's guards (audit/triggers.py, `install_guards`): a prune deletes only the prefix its
record names, the record must fit the chain, and no insert may replace a row (SQLite's INSERT OR
REPLACE).
"""

from django.db import migrations, models

from audit import triggers


def forwards(apps, schema_editor):
    triggers.install_guards(schema_editor)


def backwards(apps, schema_editor):
    triggers.uninstall_guards(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_new_actions")]

    operations = [
        migrations.AddField(
            model_name="accessevent",
            name="key_id",
            field=models.CharField(blank=True, max_length=32, null=True, verbose_name="chain key"),
        ),
        migrations.AddField(
            model_name="accessevent",
            name="seq",
            field=models.BigIntegerField(blank=True, null=True, verbose_name="position in the chain"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
