"""The DPO's permissions: requests, the breach register, register descriptions and the access review."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "dpo": {
        "dpo": [
            "manage_subject_requests",
            "manage_breaches",
            "view_registerdescription",
            "add_registerdescription",
            "change_registerdescription",
            "view_registerdescriptiontext",
            "add_registerdescriptiontext",
            "change_registerdescriptiontext",
            "delete_registerdescriptiontext",
        ],
        "audit": ["review_access"],
    }
}


def forwards(apps, schema_editor):
    for label in ("dpo", "audit"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, by_app in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        for app_label, codenames in by_app.items():
            group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))


def backwards(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for role, by_app in ROLE_PERMISSIONS.items():
        group = apps.get_model("auth", "Group").objects.get(name=role)
        for app_label, codenames in by_app.items():
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("dpo", "0001_initial"),
        ("audit", "0005_review_permission"),
        ("patrons", "0007_ban_roles"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
