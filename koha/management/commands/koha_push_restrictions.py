"""`manage.py koha_push_restrictions [--consortium SLUG] [--all]`: bans and access prohibitions in force, into Koha.

The work is koha.restrictions.koha_restrictions_push, per consortium with a Koha connection; this command
shows a progress bar on stderr and a summary per consortium on stdout, and exits non-zero when any call to
Koha failed (the failures are recorded and retried by the next run, after their back-off). Cron: every
15 minutes, and `--all` nightly just after midnight, when bans start and end by the calendar.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.progress import progress_write
from koha.models import KohaConnection
from koha.restrictions import koha_restrictions_push
from staff.models import Consortium


class Command(BaseCommand):
    help = (
        "Put the bans and access prohibitions in force today into each connected Koha as patron restrictions, and "
        "remove those no longer in force. --all puts every one in force again and ignores the back-off."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--consortium", help="only this consortium (its short name, e.g. lapin-kirjastot)")
        parser.add_argument(
            "--all", action="store_true", dest="everything", help="Re-assert every one in force; no back-off."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        consortia = Consortium.objects.filter(
            pk__in=KohaConnection.objects.filter(enabled=True).values("consortium_id")
        ).order_by("slug")
        if options["consortium"]:
            if not Consortium.objects.filter(slug=options["consortium"]).exists():
                raise CommandError(_("No consortium has the short name “%(slug)s”.") % {"slug": options["consortium"]})
            consortia = consortia.filter(slug=options["consortium"])
        verbose = options["verbosity"] > 0
        failed = 0
        for consortium in consortia:

            def progress(done: int, total: int, slug: str = consortium.slug) -> None:
                if verbose:
                    progress_write(self.stderr, done, total, label=f"{slug} ")

            report = koha_restrictions_push(consortium=consortium, everything=options["everything"], progress=progress)
            failed += report.failed
            self.stdout.write(
                _(
                    "%(slug)s: put %(put)d, removed %(deleted)d, unchanged %(unchanged)d, failed %(failed)d, "
                    "waiting to retry %(waiting)d"
                )
                % {
                    "slug": consortium.slug,
                    "put": report.put,
                    "deleted": report.deleted,
                    "unchanged": report.unchanged,
                    "failed": report.failed,
                    "waiting": report.waiting,
                }
            )
            if report.failed_refs:
                self.stdout.write(_("  failed: %(refs)s") % {"refs": ", ".join(report.failed_refs[:50])})
        if failed:
            raise CommandError(
                ngettext(
                    "%(count)d push to Koha failed; it is recorded and the next run retries it.",
                    "%(count)d pushes to Koha failed; they are recorded and the next run retries them.",
                    failed,
                )
                % {"count": failed}
            )
