"""The registers the controller keeps, as the Mikkeli notice lists them, each with its own description (GDPR Art. 30).

Below every app, so that an app names the register its data belongs to (its retention rules,
core.privacy_contract) without importing dpo/, where each register's description is kept.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Register(models.TextChoices):
    LIBRARY_SYSTEM = "library_system", _("Library system (patron register)")
    INTERLIBRARY_LOANS = "interlibrary_loans", _("Interlibrary loans")
    NEWSLETTER = "newsletter", _("Newsletter")
    HOME_SERVICE = "home_service", _("Home service")
    CCTV = "cctv", _("CCTV recordings")
