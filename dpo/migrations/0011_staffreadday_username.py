"""StaffReadDay gets the username the access log gave the reads (the review of a summarised day lists its staff
from the summary). The summaries made before have none: they are removed, and `summarize_access_reads` makes
them again (until then the review scans those days, as for any day not summarised: time, never a finding)."""

from django.db import migrations, models


def remove_summaries(apps, schema_editor):
    apps.get_model("dpo", "StaffReadDay").objects.all().delete()
    apps.get_model("dpo", "ReadSummaryDay").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dpo", "0010_read_summary"),
    ]

    operations = [
        migrations.RunPython(remove_summaries, migrations.RunPython.noop),
        migrations.AddField(
            model_name="staffreadday",
            name="username",
            field=models.CharField(default="", max_length=150, verbose_name="user"),
            preserve_default=False,
        ),
    ]
