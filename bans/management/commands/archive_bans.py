"""`manage.py archive_bans [--dry-run]`: the nightly stamp on bans and prohibitions that have ended.

Nothing depends on this for hiding an ended ban: every staff view computes from the dates whether a ban
is still in force. This command records when a ban left the staff's view and until when its decision is
kept in the decision archive (settings.BAN_DECISION_RETENTION_YEARS after it ended).
"""

from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bans.models import AccessProhibition, Ban
from bans.state import CLOSED, STAFF_VISIBLE_BAN_STEPS, waiting_to_become_final
from core import dates


class Command(BaseCommand):
    help = "Archive bans and access prohibitions that have ended, and set until when their decisions are kept."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would be archived; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        today = dates.today()
        keep = relativedelta(years=settings.BAN_DECISION_RETENTION_YEARS)
        ended_bans = Ban.objects.filter(archived_at__isnull=True).filter(
            Q(status__in=CLOSED) | Q(status__in=STAFF_VISIBLE_BAN_STEPS, ends_on__lt=today) & ~waiting_to_become_final()
        )
        ended_prohibitions = AccessProhibition.objects.ended(today).filter(archived_at__isnull=True)
        counts = {"bans": ended_bans.count(), "access prohibitions": ended_prohibitions.count()}
        if not options["dry_run"]:
            now = timezone.now()
            with transaction.atomic():
                for ban in ended_bans.select_for_update():
                    ended_on = min(ban.ended_early_on or ban.ends_on, ban.ends_on)
                    ban.archived_at, ban.retain_until = now, ended_on + keep
                    ban.save(update_fields=["archived_at", "retain_until"])
                for prohibition in ended_prohibitions.select_for_update():
                    prohibition.archived_at, prohibition.retain_until = now, prohibition.last_day + keep
                    prohibition.save(update_fields=["archived_at", "retain_until"])
        verb = "Would archive" if options["dry_run"] else "Archived"
        self.stdout.write(f"{verb} {counts['bans']} bans and {counts['access prohibitions']} access prohibitions.")
