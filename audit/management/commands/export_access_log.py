"""`manage.py export_access_log [--output FILE]`: the access log as a file an auditor verifies offline.

JSON lines: a header (format, columns, time of export, number of events), the prune records, then
one array per sealed event in the chain's order (events not sealed yet are not in the chain) with the
columns the links cover, as the database holds them (the rows
audit/verifier.py checks). `python -m audit.offline_verify` verifies it with the checkpoints and the
keys, without Django or a database (docs/access-log.md, "Verifying a copy of the log"). It holds no personal data
beyond the access log's own (opaque patron ids, usernames, addresses): hand it over like the log.
"""

import json
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.translation import ngettext

from audit.models import AccessEvent
from audit.offline_verify import EXPORT_FORMAT
from audit.verifier import ROW_COLUMNS
from audit.verify import event_rows, prune_records


def export(write: Callable[[str], Any]) -> int:
    """Write the export through `write`; the number of events written."""
    header = {
        "format": EXPORT_FORMAT,
        "columns": list(ROW_COLUMNS),
        "exported_at": timezone.now().isoformat(),
        "events": AccessEvent.objects.filter(hash__isnull=False).count(),
    }
    write(json.dumps(header) + "\n")
    write(json.dumps({"prunes": [list(prune) for prune in prune_records()]}) + "\n")
    written = 0
    for batch in event_rows():
        write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in batch))
        written += len(batch)
    return written


class Command(BaseCommand):
    help = "Export the access log (events and prune records) for `python -m audit.offline_verify`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", default="-", metavar="FILE", help="Where to write ('-': standard output).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["output"] == "-":
            export(lambda text: self.stdout.write(text, ending=""))
            return
        with open(options["output"], "w", encoding="utf-8") as handle:
            written = export(handle.write)
        self.stderr.write(
            ngettext(
                "%(count)d access event exported to %(file)s.", "%(count)d access events exported to %(file)s.", written
            )
            % {"count": written, "file": options["output"]}
        )
