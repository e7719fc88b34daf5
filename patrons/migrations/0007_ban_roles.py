"""Ban procedure and staff-duty permissions for the roles.

Desk staff prepare a ban (proposal, hearing, notice); only ban deciders decide it and its
rectification request; ban deciders and the DPO read the decision archive. The DPO keeps
the staff's confidentiality agreements and yearly briefings up to date.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "staff": ["prepare_ban"],
    "ban_decider": ["prepare_ban", "decide_ban", "view_ban_archive"],
    "dpo": ["view_ban_archive", "view_staffprofile", "change_staffprofile"],
}


def forwards(apps, schema_editor):
    app_config = apps.get_app_config("patrons")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="patrons", codename__in=codenames))


def backwards(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group = apps.get_model("auth", "Group").objects.get(name=role)
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="patrons", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("patrons", "0006_notes_bans_registers")]
    operations = [migrations.RunPython(forwards, backwards)]
