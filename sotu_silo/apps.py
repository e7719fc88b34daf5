from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class SotuSiloConfig(AppConfig):
    name = "sotu_silo"
    verbose_name = _("Identity codes (sotu-silo)")

    def ready(self) -> None:
        from patrons.page import patron_page_context_register
        from sotu_silo import checks  # noqa: F401  (registers the key checks)
        from sotu_silo.schema import ensure_silo_schema
        from sotu_silo.services import identity_code_stored_context

        connection_created.connect(ensure_silo_schema, dispatch_uid="sotu-silo-schema")
        patron_page_context_register(identity_code_stored_context)
