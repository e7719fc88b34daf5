from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KohaConfig(AppConfig):
    """The connection to each consortium's Koha: patrons and libraries synced from Koha's REST API, identity
    codes moved out of Koha into the silo, Koha's data in the access report and the erasure, and the machine
    API Koha's plugin calls. Stands beside dpo/: it imports patrons, bans, the silo and staff; nothing below
    imports it, and dpo/ reaches it only through its privacy contract."""

    name = "koha"
    verbose_name = _("Koha integration")

    def ready(self) -> None:
        from koha.registration import koha_patron_create
        from patrons import upstream

        upstream.upstream_creator_register(koha_patron_create)
