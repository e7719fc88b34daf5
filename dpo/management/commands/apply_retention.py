"""`manage.py apply_retention [--dry-run] [--day YYYY-MM-DD]`: remove what each register keeps no longer.

The rules are the installed apps' (dpo/retention.py). A progress bar per rule goes to stderr, the report to stdout. It
never ends patronage, and it never deletes access events: it counts the ones past
ACCESS_LOG_RETENTION_MONTHS and tells the operator to run `prune_access_log` as the owner.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.command_args import parse_date
from core.dates import shown_date, today
from core.privacy_contract import RetentionRule
from core.progress import progress_write
from dpo.services.retention import RetentionReport, retention_apply


class Command(BaseCommand):
    help = (
        "Apply each register's retention: remove the rows whose keeping time is over, with a progress bar "
        "and a report. Never removes patrons or access events."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what is due; remove nothing.")
        parser.add_argument("--day", help="Apply the rules as on this day (default today), e.g. 2026-11-23.")

    def handle(self, *args: Any, **options: Any) -> None:
        day = parse_date(options["day"]) if options["day"] else today()
        verbose = options["verbosity"] > 0

        def progress(rule: RetentionRule, done: int, total: int) -> None:
            if verbose:
                progress_write(self.stderr, done, total, label=f"{rule.name:<22} ")

        report = retention_apply(day=day, dry_run=options["dry_run"], progress=progress)
        self.write_report(report)

    def write_report(self, report: RetentionReport) -> None:
        if report.dry_run:
            heading = _("Dry run: retention as on %(day)s; nothing was removed.")
        else:
            heading = _("Retention applied as on %(day)s.")
        self.stdout.write(heading % {"day": shown_date(report.day)})
        header = (_("rule"), _("register"), _("due"), _("removed"))
        rows = [
            (o.rule.name, o.rule.register_label, str(o.due), "-" if report.dry_run else str(o.removed))
            for o in report.outcomes
        ]
        rows += [(item.name, item.register_label, "-", "-") for item in report.not_applied_here]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, tuple("-" * width for width in widths), *rows]:
            names, counts = zip(row[:2], widths[:2], strict=True), zip(row[2:], widths[2:], strict=True)
            cells = [cell.ljust(width) for cell, width in names] + [cell.rjust(width) for cell, width in counts]
            self.stdout.write("  ".join(cells))
        self.stdout.write("")
        for outcome in report.outcomes:
            self.stdout.write(f"{outcome.rule.name}: {outcome.rule.description}")
        for item in report.not_applied_here:
            self.stdout.write(f"{item.name}: {item.description}")
            for retention in report.retention_elsewhere.get(item.register, []):
                days = (
                    ngettext("%(days)d day", "%(days)d days", retention.retention_days)
                    % {"days": retention.retention_days}
                    if retention.retention_days is not None
                    else _("not set in a register description")
                )
                text = " ".join(retention.retention_text.split())
                self.stdout.write(f"  {retention.consortium}: {days}" + (f" ({text})" if text else ""))
        self.stdout.write(
            _(
                "Access log: %(count)d events are older than %(months)d months (before %(cutoff)s). The runtime "
                "role never deletes events: remove them with `python manage.py prune_access_log`, run with the "
                "database owner's credentials."
            )
            % {
                "count": report.access_events_due,
                "months": settings.ACCESS_LOG_RETENTION_MONTHS,
                "cutoff": shown_date(report.access_log_cutoff),
            }
        )
