from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SotuSiloConfig(AppConfig):
    name = "sotu_silo"
    verbose_name = _("Identity codes (sotu-silo)")

    def ready(self) -> None:
        from sotu_silo import checks  # noqa: F401  (registers the key checks)
