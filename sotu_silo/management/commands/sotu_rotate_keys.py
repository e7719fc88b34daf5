import sys
import time

from django.core.management.base import BaseCommand, CommandError

from sotu_silo import crypto
from sotu_silo.rotation import RotationResult, identity_codes_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every identity code under the newest key in SOTU_ENCRYPTION_KEYS. "
        "Resumable: run it again after an interruption. Keep the old keys listed until it has finished."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only count the codes under older keys")
        parser.add_argument("--batch-size", type=int, default=1000, help="codes per transaction (at least 1)")

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        started = time.monotonic()

        def progress(result: RotationResult) -> None:
            rate = result.rotated / max(time.monotonic() - started, 1e-6)
            sys.stderr.write(f"\rre-encrypted {result.rotated:,}/{result.to_rotate:,} codes ({rate:,.0f}/s)")
            sys.stderr.flush()

        try:
            result = identity_codes_rotate(
                batch_size=options["batch_size"],
                dry_run=options["dry_run"],
                progress=progress if options["verbosity"] >= 1 else None,
            )
        except crypto.IdentityCodeUnreadable as error:
            raise CommandError(
                "A stored code failed its integrity check; rotation stopped, nothing of that batch was changed."
            ) from error
        if result.rotated:
            sys.stderr.write("\n")
        newest = crypto.keyring().newest_id
        if result.unknown_keys:
            self.stderr.write(
                f"{result.unknown_keys} codes are under a key id not in SOTU_ENCRYPTION_KEYS; they were left alone."
            )
        if options["dry_run"]:
            self.stdout.write(f"{result.to_rotate} codes are under older keys than {newest!r} (dry run).")
        else:
            seconds = time.monotonic() - started
            self.stdout.write(
                self.style.SUCCESS(f"{result.rotated} codes re-encrypted under {newest!r} in {seconds:.1f} s.")
            )
