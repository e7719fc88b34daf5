"""After rectification: the body, date and reference of the rectification decision and who recorded it; the
rectification decision's notice and the administrative-court appeal; the authority the decision named (issue 14).

From the generator of Django 6.1.3"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bans", "0007_notice_consent_enforcement"),
    ]

    operations = [
        migrations.AddField(
            model_name="ban",
            name="appeal_body",
            field=models.CharField(
                blank=True, max_length=200, verbose_name="body that decided the rectification request"
            ),
        ),
        migrations.AddField(
            model_name="ban",
            name="appeal_recorded_by",
            field=models.CharField(blank=True, max_length=150, verbose_name="rectification decision recorded by"),
        ),
        migrations.AddField(
            model_name="ban",
            name="appeal_reference",
            field=models.CharField(blank=True, max_length=100, verbose_name="reference of the rectification decision"),
        ),
        migrations.AddField(
            model_name="ban",
            name="authority",
            field=models.JSONField(
                blank=True, default=dict, verbose_name="authority and rectification body named in the decision"
            ),
        ),
        migrations.AddField(
            model_name="ban",
            name="court",
            field=models.CharField(blank=True, max_length=200, verbose_name="administrative court"),
        ),
        migrations.AddField(
            model_name="ban",
            name="court_appeal_deadline",
            field=models.DateField(blank=True, null=True, verbose_name="administrative court appeal deadline"),
        ),
        migrations.AddField(
            model_name="ban",
            name="court_appeal_lodged_on",
            field=models.DateField(blank=True, null=True, verbose_name="court appeal lodged on"),
        ),
        migrations.AddField(
            model_name="ban",
            name="court_decided_on",
            field=models.DateField(blank=True, null=True, verbose_name="court decided on"),
        ),
        migrations.AddField(
            model_name="ban",
            name="court_outcome",
            field=models.CharField(
                blank=True,
                choices=[
                    ("pending", "Pending"),
                    ("upheld", "Ban upheld"),
                    ("overturned", "Ban overturned"),
                    ("dismissed", "Dismissed (late or inadmissible)"),
                ],
                max_length=20,
                verbose_name="court's outcome",
            ),
        ),
        migrations.AddField(
            model_name="ban",
            name="court_recorded_by",
            field=models.CharField(blank=True, max_length=150, verbose_name="court appeal recorded by"),
        ),
        migrations.AddField(
            model_name="ban",
            name="rectification_deemed_received_on",
            field=models.DateField(blank=True, null=True, verbose_name="rectification decision deemed received on"),
        ),
        migrations.AddField(
            model_name="ban",
            name="rectification_notification_method",
            field=models.CharField(
                blank=True,
                choices=[("letter", "Letter"), ("electronic", "Electronic notice"), ("in_person", "In person")],
                max_length=20,
                verbose_name="rectification decision sent by",
            ),
        ),
        migrations.AddField(
            model_name="ban",
            name="rectification_notified_on",
            field=models.DateField(blank=True, null=True, verbose_name="rectification decision sent on"),
        ),
    ]
