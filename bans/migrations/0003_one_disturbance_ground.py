"""Library Act 1492/2016 s. 15 has one disturbance ground, "repeatedly and substantially": the old separate
"repeated" and "substantial" grounds of stored bans become that one ground (once, in the order they stood)."""

from django.db import migrations

OLD = ("repeated_disturbance", "substantial_disturbance")
NEW = "repeated_substantial_disturbance"


def forwards(apps, schema_editor):
    Ban = apps.get_model("bans", "Ban")
    for ban in Ban.objects.only("pk", "grounds").iterator():
        grounds = list(dict.fromkeys(NEW if ground in OLD else ground for ground in ban.grounds or []))
        if grounds != ban.grounds:
            Ban.objects.filter(pk=ban.pk).update(grounds=grounds)


class Migration(migrations.Migration):
    dependencies = [("bans", "0002_remove_accessprohibition_revoked_on")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
