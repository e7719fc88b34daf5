"""`manage.py verify_access_log`: the access log's chain, then the chain against the signed checkpoints.

Exit codes: 0 intact (notes such as unkeyed old events or events not yet in a checkpoint are printed),
1 tampering found (each finding named on stderr, audit/verifier.py lists the kinds) or events unsealed
longer than ACCESS_LOG_SEAL_ALARM_SECONDS (audit/sealing.py), 2 cannot verify
(a key or public-key file that cannot be used). An auditor with a restored copy of the database runs
it with the chain key, the checkpoint directory and the public keys (docs/access-log.md, "Verifying a copy").
"""

import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.keys import KeyConfigurationError, parse_public_keys
from audit.models import AccessEvent
from audit.sealing import overdue_unsealed
from audit.verifier import report_lines
from audit.verify import verify_access_log

CANNOT_VERIFY = 2


def read_public_keys(path: str) -> dict:
    """A file of `key-id:base64` lines, as `access_log_checkpoint --public-key` prints them."""
    try:
        text = Path(path).read_text()
        return parse_public_keys(",".join(line.strip() for line in text.splitlines() if line.strip()), name=path)
    except (OSError, KeyConfigurationError) as error:
        raise CommandError(
            _("Cannot use the public keys in %(path)s: %(error)s") % {"path": path, "error": error},
            returncode=CANNOT_VERIFY,
        ) from error


class Command(BaseCommand):
    help = (
        "Verify the access log: every event's keyed link, its time and position, then the chain against the "
        "signed checkpoints. Exit 0 intact, 1 tampered with (each finding named), 2 cannot verify."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoints", metavar="DIR", help="The checkpoint directory (default: AUDIT_CHECKPOINT_DIR)."
        )
        parser.add_argument(
            "--public-keys",
            metavar="FILE",
            help="Public keys to check checkpoint signatures with, 'key-id:base64' a line (default: the keys "
            "of the settings).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            metavar="N",
            help="Processes walking the chain's ranges on a large log (default: half the CPUs and at least 2, each "
            "process keeps a database backend busy too; 1: this one only, with a thread reading ahead).",
        )
        parser.add_argument(
            "--all-signatures",
            action="store_true",
            help="Verify every checkpoint's signature, not only the newest (which vouches for the rest).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = options["checkpoints"] or str(settings.AUDIT_CHECKPOINT_DIR)
        public_keys = read_public_keys(options["public_keys"]) if options["public_keys"] else None
        verbose = options["verbosity"] >= 1
        total = AccessEvent.objects.filter(hash__isnull=False).count() if verbose else 0
        started = time.monotonic()

        def progress(checked: int) -> None:
            rate = checked / max(time.monotonic() - started, 1e-6)
            sys.stderr.write(f"\r{checked:,}/{total:,} ({rate:,.0f}/s)")
            sys.stderr.flush()

        try:
            report = verify_access_log(
                checkpoint_dir=Path(directory),
                public_keys=public_keys,
                all_signatures=options["all_signatures"],
                progress=progress if verbose else None,
                workers=options["workers"],
            )
        except KeyConfigurationError as error:
            raise CommandError(str(error), returncode=CANNOT_VERIFY) from error
        if verbose and total:
            sys.stderr.write("\n")
        lines = report_lines(report, directory=directory, translate=_, plural=ngettext)
        # Not in the chain yet, so not verified: an event unsealed too long is an alarm of its own.
        overdue = overdue_unsealed()
        if overdue:
            self.stderr.write(overdue.message)
        if not report.intact:
            findings = len(report.findings) + (1 if report.findings_left_out else 0)
            for line in lines[:findings]:
                self.stderr.write(line)
            for line in lines[findings + 1 :]:
                self.stderr.write(line)
            raise CommandError(lines[findings], returncode=1)
        self.stdout.write(self.style.SUCCESS(lines[0]))
        for line in lines[1:]:
            self.stdout.write(line)
        if overdue:
            raise CommandError(overdue.message, returncode=1)
