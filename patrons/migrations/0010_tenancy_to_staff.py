"""The tenancy models now live in staff/ (staff/migrations/0001): Django's state only, the tables stay.

The patrons' foreign keys point at staff's models, which use the very same tables, so no column or
constraint changes; then the old model states are dropped.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("patrons", "0009_allow_list_generation"),
        ("staff", "0001_initial"),
        ("dpo", "0003_consortium_in_staff"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="patron",
                    name="consortium",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="patrons",
                        to="staff.consortium",
                        verbose_name="consortium",
                    ),
                ),
                migrations.AlterField(
                    model_name="patron",
                    name="home_library",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="patrons",
                        to="staff.library",
                        verbose_name="home library",
                    ),
                ),
                migrations.AlterField(
                    model_name="closureperiod",
                    name="consortium",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="closures",
                        to="staff.consortium",
                        verbose_name="consortium",
                    ),
                ),
                migrations.AlterField(
                    model_name="accessprohibition",
                    name="library",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="access_prohibitions",
                        to="staff.library",
                        verbose_name="library",
                    ),
                ),
                migrations.AlterField(
                    model_name="ban",
                    name="library",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="bans",
                        to="staff.library",
                        verbose_name="library",
                    ),
                ),
                migrations.DeleteModel(name="StaffProfile"),
                migrations.DeleteModel(name="AllowedNetwork"),
                migrations.DeleteModel(name="Library"),
                migrations.DeleteModel(name="Municipality"),
                migrations.DeleteModel(name="Consortium"),
                migrations.DeleteModel(name="AllowListGeneration"),
            ],
        ),
    ]
