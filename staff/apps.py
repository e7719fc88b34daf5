from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    """Tenancy and access: consortia, municipalities, libraries, networks and staff profiles; the actor of a
    request, its client address, the IP allow-list and the permission checks. Imports only core and audit."""

    name = "staff"
    verbose_name = _("Libraries and staff")
