"""`manage.py extend_expired_cards --consortium <slug> --until <date> [--dry-run]` (Lapland 2020).

While libraries are closed, expired cards are extended to a set date (30.9.2020 in spring 2020) so
patrons keep using e-services: cards that expire during the closure, and those that expired at most
CARD_EXTENSION_EXPIRED_SINCE_DAYS (365) days before it began; older ones are dormant and stay expired.
The closure is the consortium's closure period in force today, or the one that ended last; see
patrons.services.closures.cards_extend.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.command_args import parse_date
from core.dates import shown_date
from core.errors import RuleBroken
from patrons.closures import closures_for_card_extension
from patrons.services.closures import cards_extend, expired_since
from staff.models import Consortium


class Command(BaseCommand):
    help = (
        "Extend the cards of a consortium that expired before its closure period (at most "
        "CARD_EXTENSION_EXPIRED_SINCE_DAYS days before it began) or expire during it to the given date; "
        "expired patrons become active again. One summary event goes to the access log."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--consortium", required=True, help="The consortium's short name (slug).")
        parser.add_argument("--until", required=True, help="The new expiry date, e.g. 2020-09-30 or 30.9.2020.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the cards that would be extended; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        consortium = Consortium.objects.filter(slug=options["consortium"]).first()
        if consortium is None:
            slugs = ", ".join(Consortium.objects.order_by("slug").values_list("slug", flat=True)) or "-"
            raise CommandError(
                _("No consortium “%(slug)s”. Consortia: %(slugs)s.") % {"slug": options["consortium"], "slugs": slugs}
            )
        until = parse_date(options["until"])
        verbose = options["verbosity"] > 0

        def progress(done: int, total: int) -> None:
            if verbose:
                self.stderr.write(_("%(done)d/%(total)d cards extended") % {"done": done, "total": total})

        closures = closures_for_card_extension(consortium_id=consortium.pk)
        if verbose and closures:
            periods = ", ".join(f"{shown_date(c.starts_on)}-{shown_date(c.ends_on)}" for c in closures)
            self.stderr.write(_("Closure period: %(periods)s") % {"periods": periods})
        try:
            result = cards_extend(consortium=consortium, until=until, dry_run=options["dry_run"], progress=progress)
        except RuleBroken as error:
            raise CommandError(" ".join(error.messages)) from error
        values = {
            "count": result.count,
            "until": shown_date(until),
            "consortium": consortium.name,
            "since": shown_date(min(expired_since(c) for c in result.closures)),
        }
        if result.dry_run:
            message = ngettext(
                "Dry run: %(count)d card of %(consortium)s expiring from %(since)s on would be extended until "
                "%(until)s; nothing was changed.",
                "Dry run: %(count)d cards of %(consortium)s expiring from %(since)s on would be extended until "
                "%(until)s; nothing was changed.",
                result.count,
            )
        else:
            message = ngettext(
                "Extended %(count)d card of %(consortium)s expiring from %(since)s on until %(until)s.",
                "Extended %(count)d cards of %(consortium)s expiring from %(since)s on until %(until)s.",
                result.count,
            )
        self.stdout.write(message % values)
