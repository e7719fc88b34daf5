"""Make the access log append-only at the database level (see audit/triggers.py)."""

from django.db import migrations

from audit import triggers

TABLES = ("audit_accessevent", "audit_accesseventpatron")


def forwards(apps, schema_editor):
    triggers.install_function(schema_editor)
    triggers.install(schema_editor, TABLES)


def backwards(apps, schema_editor):
    triggers.uninstall(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
