"""An access prohibition's `revoked_on` goes: nothing ever wrote it, so it was empty on every row (issue 11)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("bans", "0001_initial"),
    ]

    operations = [
        migrations.RemoveField(model_name="accessprohibition", name="revoked_on"),
    ]
