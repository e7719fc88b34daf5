"""The privileged pruning of old access events (audit/prune.py) and its append-only record."""

from django.db import migrations, models

from audit import triggers

PRUNE_TABLE = ("audit_accesslogprune",)


def forwards(apps, schema_editor):
    triggers.install_prunable_function(schema_editor)
    triggers.install(schema_editor, PRUNE_TABLE)


def backwards(apps, schema_editor):
    triggers.uninstall(schema_editor, PRUNE_TABLE)
    triggers.install_function(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_dpo_actions")]

    operations = [
        migrations.CreateModel(
            name="AccessLogPrune",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("pruned_at", models.DateTimeField(verbose_name="pruned")),
                ("cutoff", models.DateTimeField(verbose_name="events before")),
                ("removed_events", models.PositiveBigIntegerField(verbose_name="events removed")),
                ("first_kept_event_id", models.BigIntegerField(verbose_name="first event kept")),
                ("anchor_hash", models.CharField(max_length=64, verbose_name="hash the first kept event links to")),
            ],
            options={
                "verbose_name": "access log pruning",
                "verbose_name_plural": "access log prunings",
                "ordering": ["-id"],
                "default_permissions": [],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
