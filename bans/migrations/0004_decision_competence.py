"""The competence table (who decides bans for which libraries, by which delegation); the DPO keeps it.

From the generator of Django 6.1.3 on 2026-12-03 09:45"""

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models


def dpo_keeps_the_table(apps, schema_editor):
    app_config = apps.get_app_config("bans")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="bans", codename="manage_decision_competence")
    for group in apps.get_model("auth", "Group").objects.filter(name="dpo"):
        group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("bans", "0003_one_disturbance_ground"),
        ("staff", "0002_staffprofile_koha_userid_machinekey"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="ban",
            name="decider_title",
            field=models.CharField(blank=True, max_length=200, verbose_name="decider's title"),
        ),
        migrations.AddField(
            model_name="ban",
            name="delegation",
            field=models.CharField(blank=True, max_length=300, verbose_name="delegation behind the decision"),
        ),
        migrations.CreateModel(
            name="DecisionCompetence",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "title",
                    models.CharField(help_text="E.g. library director", max_length=200, verbose_name="decider's title"),
                ),
                (
                    "delegation",
                    models.CharField(
                        help_text="The decision or administrative rule that delegates the power, e.g. its section and date.",
                        max_length=300,
                        verbose_name="delegation",
                    ),
                ),
                ("valid_from", models.DateField(verbose_name="valid from")),
                ("valid_until", models.DateField(blank=True, null=True, verbose_name="valid until")),
                (
                    "decider",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="decision_competences",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="decider",
                    ),
                ),
                (
                    "library",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty: every library of the municipality.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="decision_competences",
                        to="staff.library",
                        verbose_name="library",
                    ),
                ),
                (
                    "municipality",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="decision_competences",
                        to="staff.municipality",
                        verbose_name="municipality",
                    ),
                ),
            ],
            options={
                "verbose_name": "competence to decide bans",
                "verbose_name_plural": "competences to decide bans",
                "ordering": ["municipality__name", "valid_from", "id"],
                "permissions": [
                    ("manage_decision_competence", "Can keep the table of who decides bans for which library")
                ],
                "default_permissions": [],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("valid_until__isnull", True), ("valid_until__gte", models.F("valid_from")), _connector="OR"
                        ),
                        name="decisioncompetence_dates_in_order",
                        violation_error_message="A delegation cannot end before it starts.",
                    )
                ],
            },
        ),
        migrations.RunPython(dpo_keeps_the_table, migrations.RunPython.noop),
    ]
