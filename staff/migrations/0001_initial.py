"""The tenancy models move from patrons/ to staff/: Django's state only, the tables stay `patrons_*`.

The database does not change (its tables, triggers and PostgreSQL grants stay as they are). The content
types move with the models, so every permission (`staff.manage_networks`, `staff.change_staffprofile`, ...)
keeps its id and every group keeps its permissions.
"""

import django.db.models.deletion
import staff.models
from django.conf import settings
from django.db import migrations, models

MOVED_MODELS = ["consortium", "municipality", "allowednetwork", "allowlistgeneration", "library", "staffprofile"]


def move_content_types(from_label, to_label):
    def move(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        ContentType.objects.using(schema_editor.connection.alias).filter(
            app_label=from_label, model__in=MOVED_MODELS
        ).update(app_label=to_label)

    return move


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("patrons", "0009_allow_list_generation"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AllowListGeneration",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("value", models.BigIntegerField(default=0)),
                    ],
                    options={
                        "db_table": "patrons_allowlistgeneration",
                        "default_permissions": [],
                    },
                ),
                migrations.CreateModel(
                    name="Consortium",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200, verbose_name="name")),
                        ("slug", models.SlugField(unique=True, verbose_name="short name")),
                        (
                            "jurisdiction",
                            models.CharField(
                                choices=[("FI", "Finland"), ("SE", "Sweden")], max_length=2, verbose_name="jurisdiction"
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "consortium",
                        "verbose_name_plural": "consortia",
                        "db_table": "patrons_consortium",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="Municipality",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200, verbose_name="name")),
                        (
                            "network_mode",
                            models.CharField(
                                choices=[
                                    ("enforce", "Enforce: refuse requests from other networks"),
                                    ("report", "Report: allow, but log would-be denials (rollout)"),
                                ],
                                default="enforce",
                                max_length=10,
                                verbose_name="network allow-list mode",
                            ),
                        ),
                        (
                            "consortium",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="municipalities",
                                to="staff.consortium",
                                verbose_name="consortium",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "municipality",
                        "verbose_name_plural": "municipalities",
                        "db_table": "patrons_municipality",
                        "ordering": ["name"],
                        "permissions": [("manage_networks", "Can manage municipalities' allowed networks")],
                        "default_permissions": [],
                    },
                ),
                migrations.CreateModel(
                    name="Library",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200, verbose_name="name")),
                        (
                            "koha_library_id",
                            models.CharField(max_length=10, unique=True, verbose_name="Koha library id (branchcode)"),
                        ),
                        (
                            "municipality",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="libraries",
                                to="staff.municipality",
                                verbose_name="municipality",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "library",
                        "verbose_name_plural": "libraries",
                        "db_table": "patrons_library",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="AllowedNetwork",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "cidr",
                            models.CharField(
                                max_length=50, validators=[staff.models.validate_cidr], verbose_name="network (CIDR)"
                            ),
                        ),
                        ("description", models.CharField(blank=True, max_length=200, verbose_name="description")),
                        (
                            "consortium",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="networks",
                                to="staff.consortium",
                                verbose_name="consortium (all municipalities)",
                            ),
                        ),
                        (
                            "municipality",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="networks",
                                to="staff.municipality",
                                verbose_name="municipality",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "allowed network",
                        "verbose_name_plural": "allowed networks",
                        "db_table": "patrons_allowednetwork",
                        "ordering": ["cidr"],
                        "default_permissions": [],
                    },
                ),
                migrations.CreateModel(
                    name="StaffProfile",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "confidentiality_signed_on",
                            models.DateField(
                                blank=True,
                                help_text="No patron data is shown to a staff member before this is recorded.",
                                null=True,
                                verbose_name="confidentiality agreement signed on",
                            ),
                        ),
                        (
                            "privacy_briefing_on",
                            models.DateField(
                                blank=True,
                                help_text="Confidentiality is repeated every year; a staff member is reminded when this is over a year old.",
                                null=True,
                                verbose_name="last yearly privacy briefing on",
                            ),
                        ),
                        (
                            "home_library",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="staff",
                                to="staff.library",
                                verbose_name="home library",
                            ),
                        ),
                        (
                            "patron",
                            models.OneToOneField(
                                blank=True,
                                help_text="A staff member who is also a patron: the access review flags colleagues reading it.",
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="staff_profile",
                                to="patrons.patron",
                                verbose_name="own patron record",
                            ),
                        ),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="staff_profile",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="user",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "staff profile",
                        "verbose_name_plural": "staff profiles",
                        "db_table": "patrons_staffprofile",
                    },
                ),
                migrations.AddConstraint(
                    model_name="municipality",
                    constraint=models.UniqueConstraint(fields=("consortium", "name"), name="municipality_unique_name"),
                ),
                migrations.AddConstraint(
                    model_name="allowednetwork",
                    constraint=models.UniqueConstraint(
                        fields=("municipality", "cidr"), name="allowednetwork_unique_municipality"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="allowednetwork",
                    constraint=models.UniqueConstraint(
                        fields=("consortium", "cidr"), name="allowednetwork_unique_consortium"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="allowednetwork",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("municipality__isnull", False), ("consortium__isnull", True)),
                            models.Q(("municipality__isnull", True), ("consortium__isnull", False)),
                            _connector="OR",
                        ),
                        name="allowednetwork_one_owner",
                        violation_error_message="A network belongs either to a municipality or to a consortium.",
                    ),
                ),
            ],
        ),
        migrations.RunPython(move_content_types("patrons", "staff"), move_content_types("staff", "patrons")),
    ]
