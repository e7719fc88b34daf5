"""Records kept reduced under a legal hold before this change are marked as held, so staff no longer find them
(patrons.Patron.held_after_erasure, GDPR Art. 17(3)); the marking of new ones is the erasure's."""

from django.db import migrations


def mark_held_records(apps, schema_editor):
    LegalHold = apps.get_model("dpo", "LegalHold")
    Patron = apps.get_model("patrons", "Patron")
    held = LegalHold.objects.filter(key="patron", lifted_on__isnull=True).values("patron_id")
    Patron.objects.filter(pk__in=held).update(held_after_erasure=True)


class Migration(migrations.Migration):
    dependencies = [
        ("dpo", "0008_legal_holds"),
        ("patrons", "0015_processing_restriction"),
    ]

    operations = [migrations.RunPython(mark_held_records, migrations.RunPython.noop)]
