"""`manage.py reapply_erasures [--dry-run]`: erase again the patrons whose records a backup restore brought back.

Run it after every restore of either database. Two erasure ledgers hold the ids of erased patrons and
when they were erased: ErasureTombstone in the main database and ErasedPatron in the silo database. The
command first writes back to each ledger what the other has and it lacks, then erases again; see
dpo.services.erasure.erasures_reapply. Restoring both databases from backups older than an erasure
loses it: never restore both from before an erasure without keeping one ledger.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dpo.services.erasure import ReapplyResult, erasures_reapply


class Command(BaseCommand):
    help = (
        "Erase again every erased patron whose record or identity code is back after a backup restore. "
        "The erasure ledgers in the main and the silo database are first repaired from each other, so a "
        "restore of either database alone is undone. Restoring BOTH databases from backups older than an "
        "erasure loses it: restore at most one of them from before an erasure, or keep one ledger's rows "
        "and put them back first. One summary event goes to the access log; a second run does nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the patrons that would be erased again; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbose = options["verbosity"] > 0

        def progress(done: int, total: int) -> None:
            if verbose:
                self.stderr.write(_("%(done)d/%(total)d erasures checked") % {"done": done, "total": total})

        dry_run = options["dry_run"]
        result = erasures_reapply(dry_run=dry_run, progress=progress)
        for line in _written_back_lines(result, dry_run=dry_run):
            self.stdout.write(line)
        count = result.erased_again
        if dry_run:
            message = ngettext(
                "Dry run: %(count)d erased patron is back and would be erased again; nothing was changed.",
                "Dry run: %(count)d erased patrons are back and would be erased again; nothing was changed.",
                count,
            )
        else:
            message = ngettext("Erased %(count)d patron again.", "Erased %(count)d patrons again.", count)
        self.stdout.write(message % {"count": count})


def _written_back_lines(result: ReapplyResult, *, dry_run: bool) -> list[str]:
    """What a restore of one database had lost from its ledger, found in the other's."""
    lines = []
    if count := result.tombstones_written_back:
        if dry_run:
            text = ngettext(
                "%(count)d erasure is missing from the main database's ledger and would be written back from "
                "the silo's.",
                "%(count)d erasures are missing from the main database's ledger and would be written back from "
                "the silo's.",
                count,
            )
        else:
            text = ngettext(
                "%(count)d erasure missing from the main database's ledger was written back from the silo's.",
                "%(count)d erasures missing from the main database's ledger were written back from the silo's.",
                count,
            )
        lines.append(text % {"count": count})
    if count := result.silo_entries_written_back:
        if dry_run:
            text = ngettext(
                "%(count)d erasure is missing from the silo's ledger and would be written back from the main "
                "database's.",
                "%(count)d erasures are missing from the silo's ledger and would be written back from the main "
                "database's.",
                count,
            )
        else:
            text = ngettext(
                "%(count)d erasure missing from the silo's ledger was written back from the main database's.",
                "%(count)d erasures missing from the silo's ledger were written back from the main database's.",
                count,
            )
        lines.append(text % {"count": count})
    return lines
