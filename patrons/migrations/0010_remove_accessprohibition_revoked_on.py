"""An access prohibition's `revoked_on` goes: nothing ever wrote it, so it was empty on every row (issue 11)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("patrons", "0009_allow_list_generation"),
    ]

    operations = [
        migrations.RemoveField(model_name="accessprohibition", name="revoked_on"),
    ]
