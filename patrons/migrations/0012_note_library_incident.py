"""Behaviour notes name the library and the date of the incident (Library Act 1492/2016 s. 15: one library).

Existing notes get the patron's home library and the day the note was written (in the service's time zone).
"""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone


def forwards(apps, schema_editor):
    Note = apps.get_model("patrons", "Note")
    for note in Note.objects.select_related("patron").only("pk", "created_at", "patron__home_library_id").iterator():
        Note.objects.filter(pk=note.pk).update(
            library_id=note.patron.home_library_id, incident_on=timezone.localdate(note.created_at)
        )


class Migration(migrations.Migration):
    dependencies = [("patrons", "0011_bans_to_bans_app"), ("staff", "0002_staffprofile_koha_userid_machinekey")]

    operations = [
        migrations.AddField(
            model_name="note",
            name="library",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="notes",
                to="staff.library",
                verbose_name="library of the incident",
            ),
        ),
        migrations.AddField(
            model_name="note",
            name="incident_on",
            field=models.DateField(null=True, verbose_name="date of the incident"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
