"""`manage.py access_log_checkpoint`: sign a checkpoint of the access log's head now, or keep doing it.

- no option: write one now (even without new events: "the head is still this").
- `--every SECONDS`: a service (systemd unit) that writes one each period when there are new events,
  so the last events before a quiet spell are covered within the period too.
- `--public-key`: print the public keys that verify checkpoints, for an auditor.

Exit codes: 0 done, 1 refused (the previous checkpoint's head is gone or changed: the CRITICAL log
line says which; nothing was signed), 2 the keys cannot be used.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.checkpoints import CheckpointRefused, access_log_checkpoint_write, checkpoints_every
from audit.keys import KeyConfigurationError, public_key_text, verify_keys


class Command(BaseCommand):
    help = (
        "Sign a checkpoint of the access log's head into AUDIT_CHECKPOINT_DIR (and the log); with --every, keep "
        "signing one each period when there are new events; with --public-key, print the verifying keys."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=float,
            metavar="SECONDS",
            help="Run as a service: each period, sign a checkpoint when there are new events.",
        )
        parser.add_argument("--rounds", type=int, help="With --every: stop after this many periods.")
        parser.add_argument(
            "--public-key",
            action="store_true",
            help="Print the public keys that verify checkpoints ('key-id:base64' a line) and exit.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["public_key"]:
                for key_id, key in verify_keys().items():
                    self.stdout.write(public_key_text(key_id, key))
                return
            if options["every"] is not None:
                if options["every"] <= 0:
                    raise CommandError(_("--every needs a positive number of seconds."), returncode=2)
                written = checkpoints_every(seconds=options["every"], rounds=options["rounds"])
                self.stdout.write(
                    ngettext("%(count)d checkpoint written.", "%(count)d checkpoints written.", written)
                    % {"count": written}
                )
                return
            try:
                checkpoint = access_log_checkpoint_write(force=True).checkpoint
            except CheckpointRefused as error:
                raise CommandError(
                    _("Checkpoint refused, nothing was signed: %(problem)s.") % {"problem": error}, returncode=1
                ) from error
        except KeyConfigurationError as error:
            raise CommandError(str(error), returncode=2) from error
        if checkpoint is None:
            self.stdout.write(_("The access log is empty: no checkpoint to write."))
            return
        self.stdout.write(
            self.style.SUCCESS(
                _("Checkpoint written to %(directory)s: event %(head)s, number %(count)s of the chain.")
                % {"directory": settings.AUDIT_CHECKPOINT_DIR, "head": checkpoint.last_id, "count": checkpoint.count}
            )
        )
