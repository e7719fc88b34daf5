"""`manage.py seal_access_log [--follow SECONDS]`: seal the access events no writer sealed after its commit.

Writers seal after their commits (audit/sealing.py); this catches what they leave behind (an event that
committed while another process was finishing its sealing) and seals everything in quiet spells. Run it
with `--follow 2` as a service (or from cron without it, every minute: then an event may wait that long).
Exits 1 when events are unsealed longer than ACCESS_LOG_SEAL_ALARM_SECONDS after the run: an alarm; with
`--follow` the alarm is logged at CRITICAL each round while it holds. With `--follow` a database error (a
restart of PostgreSQL) ends only the round: it is logged and the next round opens a new connection.
"""

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.utils.translation import gettext as _

from audit.sealing import access_log_seal, overdue_unsealed

logger = logging.getLogger("audit.sealing")


def _alarm_if_overdue() -> None:
    """A following sealer says, each round while it holds, that events stay unsealed past the alarm: a row it
    refuses, or a lock held elsewhere (counts only: an event's content may be personal data)."""
    overdue = overdue_unsealed()
    if overdue:
        logger.critical(
            "%d access events are still unsealed more than %d s after their time (or dated ahead)",
            overdue.count,
            overdue.seconds,
        )


class Command(BaseCommand):
    help = "Seal the access events not sealed yet (their position and link in the chain); --follow to keep at it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--follow",
            type=float,
            metavar="SECONDS",
            help="Keep sealing, pausing this long between rounds, until stopped.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        pause = options["follow"]
        while True:
            if not connection.in_atomic_block:  # never under a caller's transaction
                close_old_connections()  # a long-running service: no connection outlives a restart of the database
            try:
                sealed = access_log_seal(wait=True, max_batches=None)
                if pause is not None:
                    _alarm_if_overdue()
            except (OperationalError, InterfaceError) as error:
                if pause is None:
                    raise
                # The database restarted or is unreachable: a following sealer waits and goes on (the round's
                # transaction was rolled back, so nothing is half-sealed), with a fresh connection next round.
                logger.error("sealing round failed (%s); trying again in %s s", type(error).__name__, pause)
                if not connection.in_atomic_block:  # never under a caller's transaction
                    connection.close()
                time.sleep(pause)
                continue
            if sealed and options["verbosity"] >= 1:
                self.stdout.write(_("%(count)d access events sealed.") % {"count": sealed})
            if pause is None:
                break
            time.sleep(pause)
        overdue = overdue_unsealed()
        if overdue:
            raise CommandError(overdue.message, returncode=1)
