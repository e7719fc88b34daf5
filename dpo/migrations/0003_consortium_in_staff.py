"""Consortium moved to staff/ (staff/migrations/0001): the foreign keys follow in Django's state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dpo", "0002_roles"),
        ("staff", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="breach",
                    name="consortium",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="breaches",
                        to="staff.consortium",
                        verbose_name="consortium",
                    ),
                ),
                migrations.AlterField(
                    model_name="erasuretombstone",
                    name="consortium",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="erasure_tombstones",
                        to="staff.consortium",
                        verbose_name="consortium",
                    ),
                ),
                migrations.AlterField(
                    model_name="registerdescription",
                    name="consortium",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="register_descriptions",
                        to="staff.consortium",
                        verbose_name="consortium",
                    ),
                ),
                migrations.AlterField(
                    model_name="subjectrequest",
                    name="consortium",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="subject_requests",
                        to="staff.consortium",
                        verbose_name="consortium",
                    ),
                ),
            ],
        ),
    ]
