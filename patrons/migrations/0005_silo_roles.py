"""Identity-code permissions: desk staff may store a code, only billing may look up and reveal."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "staff": ["store_identity_code"],
    "billing": ["store_identity_code", "reveal_identity_code"],
}


def forwards(apps, schema_editor):
    app_config = apps.get_app_config("sotu_silo")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="sotu_silo", codename__in=codenames))


def backwards(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="sotu_silo"))


class Migration(migrations.Migration):
    dependencies = [("patrons", "0004_search_indexes"), ("sotu_silo", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
