"""The library and date of a note's incident are required (filled in 0012; a migration of its own so that
PostgreSQL does not alter the table while the fill's deferred foreign-key checks are pending)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("patrons", "0012_note_library_incident")]

    operations = [
        migrations.AlterField(
            model_name="note",
            name="library",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="notes",
                to="staff.library",
                verbose_name="library of the incident",
            ),
        ),
        migrations.AlterField(
            model_name="note",
            name="incident_on",
            field=models.DateField(verbose_name="date of the incident"),
        ),
    ]
