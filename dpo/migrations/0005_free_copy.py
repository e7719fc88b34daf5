"""The repealed "one free report a year" rule (Personal Data Act 523/1999 s. 26) goes; GDPR Art. 12(5), 15(3).

Existing fee decisions are migrated for what they were: `free` needs no decision now (every copy is free
unless a finding is recorded), so it becomes empty; its reason text stays as written. `refused` was already
a refusal as manifestly unfounded or excessive with a reason (Art. 12(5)(b)) and keeps its value. `charged`
keeps its value, now labelled as a fee charged under the repealed rule, since no finding was recorded for it.
"""

import django.db.models.deletion
from django.db import migrations, models


def free_needs_no_decision(apps, schema_editor):
    apps.get_model("dpo", "SubjectRequest").objects.filter(fee_decision="free").update(fee_decision="")


class Migration(migrations.Migration):
    dependencies = [
        ("dpo", "0004_parts_held_elsewhere"),
    ]

    operations = [
        migrations.RunPython(free_needs_no_decision, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="subjectrequest",
            name="fee_decision",
            field=models.CharField(
                blank=True,
                choices=[
                    ("unfounded_fee", "Manifestly unfounded or excessive: a reasonable fee (Art. 12(5)(a))"),
                    ("refused", "Manifestly unfounded or excessive: refused (Art. 12(5)(b))"),
                    ("further_copy", "A further copy: a reasonable fee (Art. 15(3))"),
                    (
                        "charged",
                        "Charged under the repealed one-free-report-a-year rule (recorded before the change; no Art. 12(5) finding)",
                    ),
                ],
                help_text="Empty: the copy is free.",
                max_length=15,
                verbose_name="finding for a fee or refusal",
            ),
        ),
        migrations.AlterField(
            model_name="subjectrequest",
            name="fee_reason",
            field=models.TextField(blank=True, verbose_name="reasoning of the finding"),
        ),
        migrations.AlterField(
            model_name="subjectrequest",
            name="previous_report",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="dpo.subjectrequest",
                verbose_name="earlier report of the patron",
            ),
        ),
    ]
