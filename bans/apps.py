from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BansConfig(AppConfig):
    """The whole life of a library-use ban (Finland) and of an access prohibition (Sweden): state, next step,
    deadlines, decision documents, archive. Stands above patrons: it imports patrons, never the other way."""

    name = "bans"
    verbose_name = _("Library-use bans and access prohibitions")

    def ready(self) -> None:
        from bans.privacy import notes_cited_by_kept_decisions
        from bans.selectors import (
            BANS_PRESENT,
            PROHIBITIONS_PRESENT,
            bans_presence,
            patron_bans,
            prohibitions_presence,
        )
        from bans.services import note_cited_check
        from patrons import restrictions

        restrictions.restriction_provider_register(patron_bans)
        restrictions.restriction_presence_register(BANS_PRESENT, bans_presence)
        restrictions.restriction_presence_register(PROHIBITIONS_PRESENT, prohibitions_presence)
        restrictions.note_removal_guard_register(note_cited_check)
        restrictions.removed_note_keeper_register(notes_cited_by_kept_decisions)
