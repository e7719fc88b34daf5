from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Access log")

    def ready(self) -> None:
        from audit import checks  # noqa: F401  (registers the checkpoint directory check)
        from audit.grants import grant_runtime_role

        post_migrate.connect(grant_runtime_role, sender=self, dispatch_uid="audit-grant-runtime-role")
