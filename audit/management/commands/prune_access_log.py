"""`manage.py prune_access_log [--before DATE] [--dry-run]`: remove access events whose retention is over.

The privileged path of audit/prune.py: run it with the database owner's credentials (the role that
runs migrations). The runtime role cannot delete events; the database refuses it and this command
says so. Without --before, events older than ACCESS_LOG_RETENTION_MONTHS go; an earlier --before keeps
more, a later one is refused.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.prune import PruneWithinRetention, access_log_cutoff, access_log_prune, check_cutoff, events_to_prune
from core.command_args import parse_date
from core.dates import shown_date, start_of_day, today
from core.progress import progress_write

# PostgreSQL's insufficient_privilege: no DELETE grant, or the append-only trigger refusing.
INSUFFICIENT_PRIVILEGE = "42501"


class Command(BaseCommand):
    help = (
        "Remove the access events older than a cutoff (default ACCESS_LOG_RETENTION_MONTHS) and record the "
        "prune so the chain still verifies. Run with the database owner's credentials."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--before",
            help="Remove events before this day (start of day, local time), e.g. 2024-11-23; at the latest the "
            "day ACCESS_LOG_RETENTION_MONTHS ago.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count the events that would go; remove nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        before = options["before"]
        cutoff = start_of_day(parse_date(before)) if before else access_log_cutoff(day=today())
        values: dict[str, object] = {"cutoff": shown_date(cutoff)}
        try:
            check_cutoff(cutoff)
        except PruneWithinRetention as error:
            raise CommandError(
                _(
                    "A prune of the events before %(cutoff)s would reach into the access log's retention "
                    "(ACCESS_LOG_RETENTION_MONTHS): it may remove only events before %(latest)s."
                )
                % {"cutoff": values["cutoff"], "latest": shown_date(timezone.localtime(error.latest))}
            ) from error
        if options["dry_run"]:
            due = values["count"] = events_to_prune(before=cutoff).count()
            self.stdout.write(
                ngettext(
                    "Dry run: %(count)d access event before %(cutoff)s would be removed.",
                    "Dry run: %(count)d access events before %(cutoff)s would be removed.",
                    due,
                )
                % values
            )
            return
        verbose = options["verbosity"] > 0

        def progress(done: int, total: int) -> None:
            if verbose:
                progress_write(self.stderr, done, total)

        try:
            prune = access_log_prune(before=cutoff, progress=progress)
        except DatabaseError as error:
            if getattr(error.__cause__, "pgcode", None) != INSUFFICIENT_PRIVILEGE:
                raise
            raise CommandError(
                _(
                    "The database refused to delete access events (%(error)s). Only the owner of the access "
                    "log's tables may prune it: run this command with the owner's credentials (the "
                    "DATABASE_URL that runs migrations), never as the runtime role (DATABASE_APP_ROLE)."
                )
                % {"error": str(error).splitlines()[0]}
            ) from error
        if prune is None:
            self.stdout.write(_("No access events before %(cutoff)s; nothing was removed.") % values)
            return
        values.update(count=prune.removed_events, first=prune.first_kept_event_id)
        self.stdout.write(
            self.style.SUCCESS(
                ngettext(
                    "Removed %(count)d access event before %(cutoff)s; the log now starts at event %(first)d.",
                    "Removed %(count)d access events before %(cutoff)s; the log now starts at event %(first)d.",
                    prune.removed_events,
                )
                % values
            )
        )
