"""`manage.py reapply_erasures [--dry-run]`: erase again the patrons whose records a backup restore brought back.

Run it after every restore of either database. The erasure ledger (ErasureTombstone) holds the ids of
erased patrons and when they were erased; see dpo.services.erasure.erasures_reapply.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dpo.services.erasure import erasures_reapply


class Command(BaseCommand):
    help = (
        "Erase again every erased patron whose record or identity code is back after a backup restore. "
        "One summary event goes to the access log; a second run erases nothing."
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

        count = erasures_reapply(dry_run=options["dry_run"], progress=progress)
        if options["dry_run"]:
            message = ngettext(
                "Dry run: %(count)d erased patron is back and would be erased again; nothing was changed.",
                "Dry run: %(count)d erased patrons are back and would be erased again; nothing was changed.",
                count,
            )
        else:
            message = ngettext("Erased %(count)d patron again.", "Erased %(count)d patrons again.", count)
        self.stdout.write(message % {"count": count})
