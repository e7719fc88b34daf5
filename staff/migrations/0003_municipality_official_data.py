"""The municipality's official data a ban decision names: official name, rectification body, its address (issue 14).

From the generator of Django 6.1.3"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0002_staffprofile_koha_userid_machinekey"),
    ]

    operations = [
        migrations.AddField(
            model_name="municipality",
            name="office_hours",
            field=models.CharField(
                blank=True,
                help_text="Optional, e.g. Mon-Fri 9-15",
                max_length=200,
                verbose_name="registry office hours",
            ),
        ),
        migrations.AddField(
            model_name="municipality",
            name="official_name",
            field=models.CharField(
                blank=True,
                help_text="As decisions name it, e.g. Rovaniemen kaupunki",
                max_length=200,
                verbose_name="official name",
            ),
        ),
        migrations.AddField(
            model_name="municipality",
            name="official_name_sv",
            field=models.CharField(
                blank=True,
                help_text="For decisions written in Swedish, e.g. Rovaniemi stad; empty: the official name",
                max_length=200,
                verbose_name="official name in Swedish",
            ),
        ),
        migrations.AddField(
            model_name="municipality",
            name="rectification_address",
            field=models.TextField(
                blank=True,
                help_text="E.g. the registry's postal address: PL 8216, 96101 Rovaniemi",
                max_length=500,
                verbose_name="postal address for rectification requests",
            ),
        ),
        migrations.AddField(
            model_name="municipality",
            name="rectification_body",
            field=models.CharField(
                blank=True,
                help_text="The body that decides rectification requests of library decisions, e.g. Sivistyslautakunta",
                max_length=200,
                verbose_name="rectification body",
            ),
        ),
        migrations.AddField(
            model_name="municipality",
            name="rectification_body_sv",
            field=models.CharField(
                blank=True,
                help_text="E.g. Bildningsnämnden; empty: the rectification body",
                max_length=200,
                verbose_name="rectification body in Swedish",
            ),
        ),
        migrations.AddField(
            model_name="municipality",
            name="rectification_email",
            field=models.EmailField(blank=True, max_length=254, verbose_name="email for rectification requests"),
        ),
    ]
