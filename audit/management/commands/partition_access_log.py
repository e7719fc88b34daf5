"""`manage.py partition_access_log [--months-ahead N]`: make the access log's monthly partitions ahead.

PostgreSQL only (audit/partitions.py; on SQLite it says so and does nothing). Run it daily from cron with
the database owner's credentials (the role that runs migrations): the runtime role cannot make a
partition. Exits 1 when events have landed in the DEFAULT partition (their month had no partition): an
alarm, and that month's partition cannot be made until the owner moves them (docs).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.partitions import PARTITION_MONTHS_AHEAD, default_partition_rows, is_partitioned, partitions_ensure


class Command(BaseCommand):
    help = (
        "Make the access log's monthly partitions (PostgreSQL) up to N months ahead; exit 1 when events are in "
        "the DEFAULT partition. Run daily with the database owner's credentials."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--months-ahead",
            type=int,
            default=PARTITION_MONTHS_AHEAD,
            help=f"Make the partitions up to this many months after this one (default {PARTITION_MONTHS_AHEAD}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not is_partitioned():
            self.stdout.write(_("The access log is not partitioned on this database (PostgreSQL only): nothing to do."))
            return
        made = partitions_ensure(months_ahead=max(options["months_ahead"], 0))
        if options["verbosity"] >= 1:
            for name in made:
                self.stdout.write(_("Partition %(name)s made.") % {"name": name})
        stray = default_partition_rows()
        if stray:
            raise CommandError(
                ngettext(
                    "%(count)d access event is in the DEFAULT partition: its month had no partition. Move it "
                    "into its month's partition (docs: access-log.md, partitions) and run partition_access_log "
                    "daily.",
                    "%(count)d access events are in the DEFAULT partition: their month had no partition. Move "
                    "them into their month's partition (docs: access-log.md, partitions) and run "
                    "partition_access_log daily.",
                    stray,
                )
                % {"count": stray},
                returncode=1,
            )
