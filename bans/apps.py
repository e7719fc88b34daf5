from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BansConfig(AppConfig):
    """The whole life of a library-use ban (Finland) and of an access prohibition (Sweden): state, next step,
    deadlines, decision documents, archive. Stands above patrons: it imports patrons, never the other way."""

    name = "bans"
    verbose_name = _("Library-use bans and access prohibitions")
