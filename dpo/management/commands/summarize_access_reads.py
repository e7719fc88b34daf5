"""`manage.py summarize_access_reads [--days N]`: the daily summary of staff patron reads (dpo/read_summary.py).

Summarises every completed local day of the last `--days` (default 30: what the access reviews of today
and yesterday look back on) that is not summarised yet, one aggregate query a day, and removes the
summaries of days before the access log's retention (ACCESS_LOG_RETENTION_MONTHS). Idempotent: run it
daily after midnight (docs/dpo.md gives the cron line), and once with a larger --days after an upgrade.
"""

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from core.dates import today
from dpo.read_summary import SUMMARY_DAYS, read_summaries_make, read_summary_prune, retention_start_day


class Command(BaseCommand):
    help = (
        "Summarise the staff patron reads of each completed day of the last --days for the daily access "
        "review, and remove the summaries older than the access log's retention."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=SUMMARY_DAYS, help=f"Days back (default {SUMMARY_DAYS}).")

    def handle(self, *args: Any, **options: Any) -> None:
        first = max(today() - datetime.timedelta(days=options["days"]), retention_start_day())
        days = [first + datetime.timedelta(days=n) for n in range((today() - first).days + 1)]
        made = read_summaries_make(days=days)
        removed = read_summary_prune(before=retention_start_day())
        self.stdout.write(
            _("Days summarised: %(made)s; removed as older than %(day)s: %(removed)s.")
            % {"made": made, "removed": removed, "day": retention_start_day().isoformat()}
        )
