"""An access prohibition's revocation and the court's outcome are recorded (issue 14): `revoked_on` comes back, now
written by bans.services.access_prohibition_revoke and access_prohibition_court_record (0002 removed the unwritten one)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bans", "0005_hearing_deadline_and_guardians"),
    ]

    operations = [
        migrations.AddField(
            model_name="accessprohibition",
            name="court",
            field=models.CharField(blank=True, max_length=200, verbose_name="court"),
        ),
        migrations.AddField(
            model_name="accessprohibition",
            name="court_decided_on",
            field=models.DateField(blank=True, null=True, verbose_name="court decided on"),
        ),
        migrations.AddField(
            model_name="accessprohibition",
            name="court_outcome",
            field=models.CharField(
                blank=True,
                choices=[("upheld", "Upheld"), ("revoked", "Revoked"), ("changed", "Changed (a new end date)")],
                max_length=20,
                verbose_name="court's outcome",
            ),
        ),
        migrations.AddField(
            model_name="accessprohibition",
            name="court_recorded_by",
            field=models.CharField(blank=True, max_length=150, verbose_name="court's outcome recorded by"),
        ),
        migrations.AddField(
            model_name="accessprohibition",
            name="court_reference",
            field=models.CharField(blank=True, max_length=100, verbose_name="court's case number"),
        ),
        migrations.AddField(
            model_name="accessprohibition",
            name="decided_ends_on",
            field=models.DateField(blank=True, null=True, verbose_name="end date the prosecutor decided"),
        ),
        migrations.AddField(
            model_name="accessprohibition",
            name="revocation_recorded_by",
            field=models.CharField(blank=True, max_length=150, verbose_name="revocation recorded by"),
        ),
        migrations.AddField(
            model_name="accessprohibition",
            name="revocation_reference",
            field=models.CharField(blank=True, max_length=100, verbose_name="prosecutor's revocation reference"),
        ),
        migrations.AddField(
            model_name="accessprohibition",
            name="revoked_on",
            field=models.DateField(blank=True, null=True, verbose_name="revoked from"),
        ),
    ]
