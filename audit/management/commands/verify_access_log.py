import sys
import time

from django.core.management.base import BaseCommand, CommandError

from audit.models import AccessEvent
from audit.verify import verify_chain


class Command(BaseCommand):
    help = "Verify the access log's hash chain. Exits 0 when whole, 1 naming the first bad event."

    def handle(self, *args, **options):
        total = AccessEvent.objects.count()
        started = time.monotonic()

        def progress(checked: int) -> None:
            rate = checked / max(time.monotonic() - started, 1e-6)
            sys.stderr.write(f"\rchecked {checked:,}/{total:,} events ({rate:,.0f}/s)")
            sys.stderr.flush()

        broken = verify_chain(progress=progress if options["verbosity"] >= 1 else None)
        if total:
            sys.stderr.write("\n")
        if broken is not None:
            raise CommandError(f"Access log chain broken at event {broken.event_id}: {broken.problem}.")
        self.stdout.write(self.style.SUCCESS(f"Access log intact: {total} events verified."))
