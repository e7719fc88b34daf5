"""Verify an export of the access log offline, without Django or a database: what an auditor runs.

    python -m audit.offline_verify access-log.jsonl --checkpoints DIR --public-keys public-keys.txt \\
        --chain-keys chain-keys.txt

The export comes from `manage.py export_access_log`; the checkpoint directory is a copy of
AUDIT_CHECKPOINT_DIR; the public keys are what `manage.py access_log_checkpoint --public-key` prints;
the chain keys file holds the AUDIT_CHAIN_KEY value (or set AUDIT_CHAIN_KEY in the environment; never
on the command line, where other users of the machine can read it). It runs the same engine as
`manage.py verify_access_log` (audit/verifier.py) and needs only Python and `cryptography`. It
verifies as of the export's time (so it says what `verify_access_log` said then), with the retention
of `--retention-months` (ACCESS_LOG_RETENTION_MONTHS, 24 unless the register description says
otherwise) and the clock allowance of `--max-clock-step-back` (AUDIT_MAX_CLOCK_STEP_BACK_SECONDS).

Exit codes: 0 intact, 1 tampered with (each finding named), 2 cannot verify (unreadable export or keys).
"""

import argparse
import datetime
import json
import os
import sys
from collections.abc import Iterator
from itertools import chain, islice
from pathlib import Path

from audit.checkpoint_files import read_checkpoints
from audit.keys import KeyConfigurationError, parse_chain_keys, parse_public_keys
from audit.verifier import ROW_COLUMNS, chain_start, checked_checkpoints, report_lines, verify_rows

EXPORT_FORMAT = "access-log-export/v1"
BATCH = 10_000
CANNOT_VERIFY = 2


class UnreadableExport(ValueError):
    pass


def read_export(lines: Iterator[str]) -> tuple[dict, list[tuple[int, int, str, str]], Iterator[tuple]]:
    """(header, prune records, rows) of an export: a header line, a prunes line, then one JSON array per event."""
    try:
        header = json.loads(next(lines))
        prunes = json.loads(next(lines))["prunes"]
    except (StopIteration, ValueError, KeyError, TypeError) as error:
        raise UnreadableExport("not an access log export (header or prunes line missing)") from error
    if (
        not isinstance(header, dict)
        or header.get("format") != EXPORT_FORMAT
        or header.get("columns") != list(ROW_COLUMNS)
    ):
        raise UnreadableExport(f"not an {EXPORT_FORMAT} export")

    def rows() -> Iterator[tuple]:
        for number, text in enumerate(lines, start=3):
            try:
                row = json.loads(text)
            except ValueError as error:
                raise UnreadableExport(f"line {number} is not JSON") from error
            if not isinstance(row, list) or len(row) != len(ROW_COLUMNS):
                raise UnreadableExport(f"line {number} is not an event row")
            yield tuple(row)

    return header, [tuple(p) for p in prunes], rows()


def export_time(header: dict) -> datetime.datetime:
    """When the export was made, which the verification is as of: what `verify_access_log` would have
    said then. Never later than now; an export without a readable time is verified as of now."""
    now = datetime.datetime.now(datetime.UTC)
    try:
        exported = datetime.datetime.fromisoformat(header["exported_at"])
    except (KeyError, TypeError, ValueError):
        return now
    return min(exported, now) if exported.tzinfo is not None else now


def _batches(rows: Iterator[tuple]) -> Iterator[list[tuple]]:
    while batch := list(islice(rows, BATCH)):
        yield batch


def _key_file(path: str) -> str:
    return ",".join(line.strip() for line in Path(path).read_text().splitlines() if line.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit.offline_verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("export", help="the file from `manage.py export_access_log` ('-' for standard input)")
    parser.add_argument("--checkpoints", required=True, metavar="DIR", help="a copy of AUDIT_CHECKPOINT_DIR")
    parser.add_argument("--public-keys", required=True, metavar="FILE", help="'key-id:base64' a line")
    parser.add_argument("--chain-keys", metavar="FILE", help="the AUDIT_CHAIN_KEY value (default: $AUDIT_CHAIN_KEY)")
    parser.add_argument(
        "--max-clock-step-back", type=int, default=60, metavar="SECONDS", help="AUDIT_MAX_CLOCK_STEP_BACK_SECONDS"
    )
    parser.add_argument(
        "--retention-months", type=int, default=24, metavar="MONTHS", help="ACCESS_LOG_RETENTION_MONTHS"
    )
    parser.add_argument("--all-signatures", action="store_true", help="verify every checkpoint's signature")
    options = parser.parse_args(argv)
    try:
        chain_keys = parse_chain_keys(
            _key_file(options.chain_keys) if options.chain_keys else os.environ.get("AUDIT_CHAIN_KEY", "")
        )
        public_keys = parse_public_keys(_key_file(options.public_keys), name=options.public_keys)
        handle = sys.stdin if options.export == "-" else open(options.export, encoding="utf-8")  # noqa: SIM115
        with handle:
            header, prunes, rows = read_export(iter(handle))
            first = next(rows, None)
            checkpoints, findings = checked_checkpoints(
                read_checkpoints(Path(options.checkpoints)), public_keys, all_signatures=options.all_signatures
            )
            report = verify_rows(
                _batches(chain([first], rows) if first is not None else iter(())),
                chain_keys=chain_keys,
                max_step_back_seconds=options.max_clock_step_back,
                start=chain_start(first_id=first[0] if first else None, prunes=prunes),
                checkpoints=checkpoints,
                verified_at=export_time(header),
                retention_months=options.retention_months,
                checkpoint_findings=findings,
            )
    except (OSError, KeyConfigurationError, UnreadableExport) as error:
        print(f"Cannot verify: {error}", file=sys.stderr)
        return CANNOT_VERIFY
    lines = report_lines(report, directory=options.checkpoints)
    print("\n".join(lines), file=sys.stdout if report.intact else sys.stderr)
    return 0 if report.intact else 1


if __name__ == "__main__":
    sys.exit(main())
