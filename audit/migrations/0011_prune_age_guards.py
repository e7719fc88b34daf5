"""The database's guards of a prune (audit/triggers.py, `install_age_guards`): events go only when older
than the cutoff of the newest prune record, and a record whose cutoff is within the last month is refused.
"""

from django.db import migrations

from audit import triggers


def forwards(apps, schema_editor):
    triggers.install_age_guards(schema_editor)


def backwards(apps, schema_editor):
    triggers.uninstall_age_guards(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0010_account_change_action")]

    operations = [migrations.RunPython(forwards, backwards)]
