"""The seal's guards of 0015 and 0016 at a batch's price (audit/triggers.py, `install_batch_seal_guards`;
PostgreSQL only): the same rules, the append-only check comparing rows as composite values instead of as
JSON, the link check once per statement over its transition table instead of once per row."""

from django.db import migrations

from audit import triggers


def forwards(apps, schema_editor):
    triggers.install_batch_seal_guards(schema_editor)


def backwards(apps, schema_editor):
    triggers.uninstall_batch_seal_guards(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0016_seal_guards"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
