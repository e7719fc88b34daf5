"""`manage.py koha_import_identity_codes <consortium> [--dry-run] [--attribute SSN]`: codes out of Koha.

Reads Koha's identity-code attribute, stores each code in the silo and replaces it in Koha with an opaque
key (koha.identity_import). A progress bar goes to stderr, a count table to stdout; codes never appear in
either. Resumable: run it again after a stop; a run with nothing left to do changes nothing.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from core.progress import progress_write
from koha import errors
from koha.identity_import import DEFAULT_ATTRIBUTE, ImportCounts, ImportStopped, identity_codes_import
from staff.models import Consortium

NOT_SYNCED_LISTED = 50


class Command(BaseCommand):
    help = (
        "Move identity codes out of Koha's identity-code attribute into the silo, putting an opaque key in "
        "their place. Invalid and conflicting codes are listed for billing, never printed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("consortium", help="the consortium's short name (slug), e.g. lapin-kirjastot")
        parser.add_argument("--dry-run", action="store_true", help="Read and count; store and change nothing.")
        parser.add_argument(
            "--attribute",
            default=DEFAULT_ATTRIBUTE,
            help="the code of Koha's patron attribute type holding the codes (default SSN, Koha-Suomi's)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        consortium = Consortium.objects.filter(slug=options["consortium"]).first()
        if consortium is None:
            raise CommandError(_("No consortium has the short name “%(slug)s”.") % {"slug": options["consortium"]})
        verbose = options["verbosity"] > 0

        def progress(done: int, total: int) -> None:
            if verbose:
                progress_write(self.stderr, done, total, label=_("Koha patrons") + " ")

        try:
            counts = identity_codes_import(
                consortium=consortium, attribute=options["attribute"], dry_run=options["dry_run"], progress=progress
            )
        except ImportStopped as stopped:
            self.write_counts(stopped.counts, dry_run=options["dry_run"])
            raise CommandError(
                _("Stopped: %(error)s What was done is kept; run the command again to go on.")
                % {"error": stopped.error.message}
            ) from None
        except errors.KohaError as error:
            raise CommandError(str(error.message)) from None
        self.write_counts(counts, dry_run=options["dry_run"])

    def write_counts(self, counts: ImportCounts, *, dry_run: bool) -> None:
        if dry_run:
            self.stdout.write(_("Dry run: nothing was stored and Koha was not changed."))
        rows = [
            (_("values read"), counts.read),
            (_("stored in the silo"), counts.stored),
            (_("stored by an earlier run, replaced in Koha now"), counts.resumed),
            (_("already keys, left alone"), counts.already_keys),
            (_("held by another patron: conflicts for billing"), counts.conflicts),
            (_("invalid: listed for billing"), counts.invalid),
            (_("another code stored here, kept: listed for billing"), counts.differs),
            (_("patron not synced here, left in Koha"), counts.not_synced),
            (_("Koha refused the replacement"), counts.koha_refused),
            (_("replaced in Koha by a key"), counts.replaced_in_koha),
        ]
        width = max(len(name) for name, _count in rows)
        digits = max(len(str(count)) for _name, count in rows)
        for name, count in rows:
            self.stdout.write(f"{name.ljust(width)}  {str(count).rjust(digits)}")
        if counts.not_synced_ids:
            listed = ", ".join(str(koha_id) for koha_id in counts.not_synced_ids[:NOT_SYNCED_LISTED])
            more = len(counts.not_synced_ids) - NOT_SYNCED_LISTED
            self.stdout.write(
                _("Koha patron ids not synced here (sync them, then run again): %(ids)s") % {"ids": listed}
                + (_(" and %(count)d more") % {"count": more} if more > 0 else "")
            )
        if counts.koha_refused_ids:
            listed = ", ".join(str(koha_id) for koha_id in counts.koha_refused_ids[:NOT_SYNCED_LISTED])
            more = len(counts.koha_refused_ids) - NOT_SYNCED_LISTED
            self.stdout.write(
                _("Koha patron ids whose code Koha would not replace (still in Koha: run again): %(ids)s")
                % {"ids": listed}
                + (_(" and %(count)d more") % {"count": more} if more > 0 else "")
            )
        if counts.conflicts or counts.invalid or counts.differs:
            self.stdout.write(
                _("Billing clerks see the conflicts at /billing/conflicts/, the other codes at /billing/koha-codes/.")
            )
