"""Ban and AccessProhibition move from patrons/ to bans/: Django's state only, the tables stay `patrons_*`.

The database does not change (tables `patrons_ban`, `patrons_ban_notes`, `patrons_accessprohibition`, their
indexes, constraints and PostgreSQL grants stay as they are). The content types move with the models, so the
permissions (`bans.prepare_ban`, `bans.decide_ban`, `bans.view_ban_archive`) keep their ids and every group
(staff, ban_decider, dpo) keeps them.
"""

import django.db.models.deletion
from django.db import migrations, models

MOVED_MODELS = ["ban", "accessprohibition"]


def move_content_types(from_label, to_label):
    def move(apps, schema_editor):
        content_types = apps.get_model("contenttypes", "ContentType").objects.using(schema_editor.connection.alias)
        # A content type a partial `migrate` made meanwhile for the models' other place holds nothing of use
        # (its permissions were made with it, unused): the moving one, with the groups' permissions, replaces it.
        content_types.filter(app_label=to_label, model__in=MOVED_MODELS).delete()
        content_types.filter(app_label=from_label, model__in=MOVED_MODELS).update(app_label=to_label)

    return move


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("patrons", "0010_tenancy_to_staff"),
        ("staff", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AccessProhibition",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("applied_on", models.DateField(verbose_name="library's application date")),
                        (
                            "application_reference",
                            models.CharField(max_length=100, verbose_name="library's application reference"),
                        ),
                        (
                            "prosecutor_reference",
                            models.CharField(max_length=100, verbose_name="prosecutor's reference"),
                        ),
                        ("decided_on", models.DateField(verbose_name="decided on")),
                        ("starts_on", models.DateField(verbose_name="starts on")),
                        ("ends_on", models.DateField(verbose_name="ends on")),
                        ("revoked_on", models.DateField(blank=True, null=True, verbose_name="revoked on")),
                        ("recorded_at", models.DateTimeField(verbose_name="recorded")),
                        ("recorded_by", models.CharField(max_length=150, verbose_name="recorded by")),
                        ("archived_at", models.DateTimeField(blank=True, null=True, verbose_name="archived")),
                        ("retain_until", models.DateField(blank=True, null=True, verbose_name="kept until")),
                        (
                            "library",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="access_prohibitions",
                                to="staff.library",
                                verbose_name="library",
                            ),
                        ),
                        (
                            "patron",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="access_prohibitions",
                                to="patrons.patron",
                                verbose_name="patron",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "access prohibition",
                        "verbose_name_plural": "access prohibitions",
                        "db_table": "patrons_accessprohibition",
                        "ordering": ["-starts_on", "-id"],
                        "default_permissions": [],
                    },
                ),
                migrations.CreateModel(
                    name="Ban",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("grounds", models.JSONField(default=list, verbose_name="grounds")),
                        ("starts_on", models.DateField(verbose_name="starts on")),
                        ("ends_on", models.DateField(verbose_name="ends on")),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("proposed", "Proposed"),
                                    ("heard", "Heard"),
                                    ("hearing_waived", "Hearing waived"),
                                    ("decided", "Decided"),
                                    ("notified", "Notified"),
                                    ("cancelled", "Cancelled"),
                                    ("overturned", "Overturned on appeal"),
                                ],
                                default="proposed",
                                max_length=20,
                                verbose_name="status",
                            ),
                        ),
                        ("proposed_at", models.DateTimeField(verbose_name="proposed")),
                        ("proposed_by", models.CharField(max_length=150, verbose_name="proposed by")),
                        ("heard_on", models.DateField(blank=True, null=True, verbose_name="heard on")),
                        (
                            "hearing_method",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("in_person", "In person"),
                                    ("phone", "By phone"),
                                    ("letter", "By letter"),
                                    ("electronic", "Electronically"),
                                ],
                                max_length=20,
                                verbose_name="hearing method",
                            ),
                        ),
                        ("statement", models.TextField(blank=True, verbose_name="the patron's statement")),
                        (
                            "hearing_waived_reason",
                            models.TextField(blank=True, verbose_name="legal reason the hearing was waived"),
                        ),
                        (
                            "hearing_recorded_by",
                            models.CharField(blank=True, max_length=150, verbose_name="hearing recorded by"),
                        ),
                        (
                            "decision_number",
                            models.CharField(blank=True, max_length=50, verbose_name="decision number"),
                        ),
                        ("decided_on", models.DateField(blank=True, null=True, verbose_name="decided on")),
                        ("decided_by", models.CharField(blank=True, max_length=150, verbose_name="decided by")),
                        (
                            "decider_name",
                            models.CharField(blank=True, max_length=200, verbose_name="decider's name and title"),
                        ),
                        ("reasons", models.TextField(blank=True, verbose_name="reasons")),
                        ("decided_text", models.TextField(blank=True, verbose_name="what is decided")),
                        ("legal_basis", models.CharField(blank=True, max_length=300, verbose_name="legal basis")),
                        ("contact_person", models.CharField(blank=True, max_length=200, verbose_name="contact person")),
                        (
                            "enforced_before_final",
                            models.BooleanField(default=True, verbose_name="enforced before it is final"),
                        ),
                        (
                            "notification_method",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("letter", "Letter"),
                                    ("electronic", "Electronic notice"),
                                    ("in_person", "In person"),
                                ],
                                max_length=20,
                                verbose_name="notification method",
                            ),
                        ),
                        ("notified_on", models.DateField(blank=True, null=True, verbose_name="notice sent on")),
                        (
                            "deemed_received_on",
                            models.DateField(blank=True, null=True, verbose_name="deemed received on"),
                        ),
                        (
                            "appeal_deadline",
                            models.DateField(blank=True, null=True, verbose_name="rectification request deadline"),
                        ),
                        (
                            "appeal_lodged_on",
                            models.DateField(blank=True, null=True, verbose_name="rectification request lodged on"),
                        ),
                        (
                            "appeal_outcome",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("pending", "Pending"),
                                    ("upheld", "Ban upheld"),
                                    ("overturned", "Ban overturned"),
                                    ("dismissed", "Dismissed (late or inadmissible)"),
                                ],
                                max_length=20,
                                verbose_name="outcome",
                            ),
                        ),
                        (
                            "appeal_decided_on",
                            models.DateField(blank=True, null=True, verbose_name="rectification decided on"),
                        ),
                        ("ended_early_on", models.DateField(blank=True, null=True, verbose_name="ended early on")),
                        (
                            "cancellation_reason",
                            models.CharField(blank=True, max_length=300, verbose_name="reason for cancelling"),
                        ),
                        ("archived_at", models.DateTimeField(blank=True, null=True, verbose_name="archived")),
                        (
                            "retain_until",
                            models.DateField(blank=True, null=True, verbose_name="kept in the decision archive until"),
                        ),
                        (
                            "library",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="bans",
                                to="staff.library",
                                verbose_name="library",
                            ),
                        ),
                        (
                            "notes",
                            models.ManyToManyField(
                                db_table="patrons_ban_notes",
                                related_name="bans",
                                to="patrons.note",
                                verbose_name="behaviour notes cited",
                            ),
                        ),
                        (
                            "patron",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="bans",
                                to="patrons.patron",
                                verbose_name="patron",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "library-use ban",
                        "verbose_name_plural": "library-use bans",
                        "db_table": "patrons_ban",
                        "ordering": ["-starts_on", "-id"],
                        "permissions": [
                            ("prepare_ban", "Can propose a library-use ban and record its hearing and notification"),
                            ("decide_ban", "Can decide a library-use ban and its rectification request"),
                            ("view_ban_archive", "Can read the archive of ban decisions"),
                        ],
                        "default_permissions": [],
                        "indexes": [models.Index(fields=["patron", "ends_on"], name="ban_patron_idx")],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("decision_number", ""), _negated=True),
                                fields=("library", "decision_number"),
                                name="ban_unique_decision_number",
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types("patrons", "bans"), move_content_types("bans", "patrons")),
    ]
