"""`manage.py koha_sync <consortium-slug> [--full] [--dry-run] [--per-page N]`: patrons and libraries from Koha.

The work is koha.sync.koha_sync_run; this command shows a progress bar on stderr and the summary table on
stdout, and exits non-zero with Koha's error (translated, no personal data) when Koha fails. Run nightly from
cron; a run that stopped is resumed by the next one.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from core.progress import progress_write
from koha.errors import KohaError
from koha.models import SyncRun
from koha.sync import PER_PAGE, SyncAlreadyRunning, SyncReport, koha_sync_run
from staff.models import Consortium


class Command(BaseCommand):
    help = (
        "Sync a consortium's libraries and patrons from its Koha: the changes since the last completed sync, "
        "or everything with --full (which also finds patrons gone from Koha). Resumes an interrupted run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("consortium", help="the consortium's short name (slug), e.g. lapin-kirjastot")
        parser.add_argument("--full", action="store_true", help="Read every patron and reconcile the gone ones.")
        parser.add_argument("--dry-run", action="store_true", help="Read and count; write nothing.")
        parser.add_argument("--per-page", type=int, default=PER_PAGE, help="patrons per request to Koha")

    def handle(self, *args: Any, **options: Any) -> None:
        consortium = Consortium.objects.filter(slug=options["consortium"]).first()
        if consortium is None:
            raise CommandError(_("No consortium has the short name “%(slug)s”.") % {"slug": options["consortium"]})
        verbose = options["verbosity"] > 0

        def progress(run: SyncRun, done: int, total: int) -> None:
            if verbose:
                progress_write(self.stderr, done, total, label=_("patrons") + " ")

        try:
            report = koha_sync_run(
                consortium=consortium,
                full=options["full"],
                dry_run=options["dry_run"],
                per_page=options["per_page"],
                progress=progress,
            )
        except SyncAlreadyRunning as running:
            raise CommandError(str(running)) from None
        except KohaError as error:
            raise CommandError(
                _("Koha sync stopped: %(error)s The next run resumes where this one stopped.") % {"error": error}
            ) from None
        self.write_report(report)

    def write_report(self, report: SyncReport) -> None:
        run = report.run
        if report.dry_run:
            heading = _("Dry run of a %(kind)s Koha sync: nothing was written.")
        elif report.resumed:
            heading = _("Koha sync (%(kind)s) resumed and completed.")
        else:
            heading = _("Koha sync (%(kind)s) completed.")
        self.stdout.write(heading % {"kind": run.get_kind_display().lower()})
        counts = report.counts
        rows = [
            (_("libraries matched"), counts["libraries_matched"]),
            (_("libraries unmatched"), counts["libraries_unmatched"]),
            (_("patrons created"), counts["created"]),
            (_("patrons updated"), counts["updated"]),
            (_("patrons unchanged"), counts["unchanged"]),
            (_("patrons restricted (GDPR Art. 18), not overwritten"), counts["restricted"]),
            (_("patrons refused"), counts["refused"]),
            (_("patrons erased here, not brought back"), counts["erased_here"]),
            (_("patrons gone from Koha, flagged"), counts["flagged"]),
            (_("patrons gone from Koha, marked removed"), counts["marked_removed"]),
            (_("pages"), report.pages),
        ]
        texts = [(label, str(value)) for label, value in rows] + [(_("seconds"), f"{report.seconds:.1f}")]
        width = max(len(label) for label, _value in texts)
        for label, value in texts:
            self.stdout.write(f"{label.ljust(width)}  {value.rjust(8)}")
        if report.unmatched_libraries:
            self.stdout.write(
                _("Koha libraries with no library here (add them in the admin): %(ids)s")
                % {"ids": ", ".join(report.unmatched_libraries)}
            )
        if report.refused_ids:
            self.stdout.write(
                _("Refused Koha patron ids (fix them in Koha): %(ids)s")
                % {"ids": ", ".join(map(str, sorted(report.refused_ids)))}
            )
        for patron_id, matters in sorted(report.flagged.items()):
            self.stdout.write(
                _("Patron %(id)s is gone from Koha but has open matters here: %(matters)s")
                % {"id": patron_id, "matters": ", ".join(matters)}
            )
