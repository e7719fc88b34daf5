from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    """Tenancy and access: consortia, municipalities, libraries, networks and staff profiles; the actor of a
    request, its client address, the IP allow-list and the permission checks. Imports only core and audit."""

    name = "staff"
    verbose_name = _("Libraries and staff")

    def ready(self) -> None:
        from staff.ip_allowlist import invalidate_allow_list
        from staff.models import AllowedNetwork, Library, Municipality, StaffProfile

        # Anything that changes who may work from where recompiles the allow-list.
        for model in (AllowedNetwork, Municipality, StaffProfile, Library):
            post_save.connect(invalidate_allow_list, sender=model, dispatch_uid=f"allowlist-save-{model.__name__}")
            post_delete.connect(invalidate_allow_list, sender=model, dispatch_uid=f"allowlist-delete-{model.__name__}")
