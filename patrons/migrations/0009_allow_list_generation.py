"""The allow-list's generation number in the database, so every process sees a network change within a second."""

from django.db import migrations, models


def create_row(apps, schema_editor):
    apps.get_model("patrons", "AllowListGeneration").objects.using(schema_editor.connection.alias).get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("patrons", "0008_staff_patron_protection"),
    ]

    operations = [
        migrations.CreateModel(
            name="AllowListGeneration",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("value", models.BigIntegerField(default=0)),
            ],
            options={
                "default_permissions": [],
            },
        ),
        migrations.RunPython(create_row, migrations.RunPython.noop),
    ]
