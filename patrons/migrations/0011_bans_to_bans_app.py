"""Ban and AccessProhibition now live in bans/ (bans/migrations/0001): Django's state only, the tables stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("patrons", "0010_tenancy_to_staff"),
        ("bans", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Ban"),
                migrations.DeleteModel(name="AccessProhibition"),
            ],
        ),
    ]
