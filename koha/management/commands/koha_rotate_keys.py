"""`manage.py koha_rotate_keys [--dry-run]`: re-encrypt the Koha secrets under KOHA_CREDENTIAL_KEYS' newest key.

Put the new key first in KOHA_CREDENTIAL_KEYS, run this, then drop the old key. Resumable: a rerun does
only what is left.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from koha import crypto
from koha.services import koha_secrets_rotate


class Command(BaseCommand):
    help = "Re-encrypt every Koha connection's secret under the newest key of KOHA_CREDENTIAL_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only count the secrets under older keys.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = koha_secrets_rotate(dry_run=options["dry_run"])
        except crypto.SecretUnreadable:
            raise CommandError(
                _("A stored Koha secret failed its integrity check or its key is gone; rotation stopped.")
            ) from None
        values = {"count": result.to_rotate, "rotated": result.rotated, "key": crypto.newest_key_id()}
        if options["dry_run"]:
            self.stdout.write(
                ngettext(
                    "%(count)d Koha secret is under an older key than %(key)s (dry run).",
                    "%(count)d Koha secrets are under older keys than %(key)s (dry run).",
                    result.to_rotate,
                )
                % values
            )
        else:
            rotated = ngettext(
                "%(rotated)d Koha secret re-encrypted under %(key)s.",
                "%(rotated)d Koha secrets re-encrypted under %(key)s.",
                result.rotated,
            )
            self.stdout.write(self.style.SUCCESS(rotated % values))
