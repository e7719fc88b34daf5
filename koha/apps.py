from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class KohaConfig(AppConfig):
    """The connection to each consortium's Koha: patrons and libraries synced from Koha's REST API, identity
    codes moved out of Koha into the silo, Koha's data in the access report and the erasure, and the machine
    API Koha's plugin calls. Stands beside dpo/: it imports patrons, bans, the silo and staff; nothing below
    imports it, and dpo/ reaches it only through its privacy contract."""

    name = "koha"
    verbose_name = _("Koha integration")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from bans.changes import restriction_listener_register
        from koha.findings import koha_code_finding_count
        from koha.models import KohaConnection
        from koha.registration import koha_patron_create
        from koha.restrictions import push_after_commit
        from koha.selectors import koha_staff_patron_url_builder
        from patrons import upstream
        from patrons.koha_link import koha_patron_links_forget, koha_patron_url_register
        from sotu_silo.billing_worklists import Worklist, billing_worklist_register

        upstream.upstream_creator_register(koha_patron_create)
        restriction_listener_register(push_after_commit)
        koha_patron_url_register(koha_staff_patron_url_builder)
        post_save.connect(koha_patron_links_forget, sender=KohaConnection, dispatch_uid="koha-links-saved")
        post_delete.connect(koha_patron_links_forget, sender=KohaConnection, dispatch_uid="koha-links-deleted")
        billing_worklist_register(
            Worklist(url_name="koha-billing:codes", text=_findings_text, count=koha_code_finding_count)
        )


def _findings_text(count: int) -> str:
    return ngettext(
        "%(count)d identity code found in Koha waits for a check",
        "%(count)d identity codes found in Koha wait for a check",
        count,
    ) % {"count": count}
