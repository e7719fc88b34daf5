"""What an auditor runs on a copy of the log: an export, the checkpoints, the keys, and no database."""

import datetime
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from audit.checkpoints import access_log_checkpoint_write
from audit.offline_verify import main
from tests.audit.test_tampering import record

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def handed_over(tmp_path) -> dict[str, Path]:
    """What the auditor receives: the export, a copy of the checkpoints, the public and the chain keys."""
    record(3)
    access_log_checkpoint_write(force=True)
    record(2)
    access_log_checkpoint_write(force=True)
    return handed_over_files(tmp_path)


def handed_over_files(tmp_path) -> dict[str, Path]:
    files = {"export": tmp_path / "access-log.jsonl", "public": tmp_path / "public.txt", "chain": tmp_path / "chain"}
    call_command("export_access_log", "--output", str(files["export"]), stderr=StringIO())
    out = StringIO()
    call_command("access_log_checkpoint", "--public-key", stdout=out)
    files["public"].write_text(out.getvalue())
    files["chain"].write_text(settings.AUDIT_CHAIN_KEY)
    files["checkpoints"] = Path(settings.AUDIT_CHECKPOINT_DIR)
    return files


def arguments(files: dict[str, Path]) -> list[str]:
    return [
        str(files["export"]),
        "--checkpoints",
        str(files["checkpoints"]),
        "--public-keys",
        str(files["public"]),
        "--chain-keys",
        str(files["chain"]),
    ]


def test_the_offline_verifier_runs_without_django_and_finds_the_copy_intact(handed_over):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE", "AUDIT"))}
    standalone = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, audit.offline_verify; "
            "sys.exit(1 if any(m.split('.')[0] == 'django' for m in sys.modules) else 0)",
        ],
        cwd=ROOT,
        env=environment,
        check=False,
    )
    assert standalone.returncode == 0, "the offline verifier must not need Django"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "audit.offline_verify", *arguments(handed_over)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Access log intact" in result.stdout and "Checked against 2 checkpoints;" in result.stdout


def edit_rows(path: Path, change) -> None:
    header, prunes, *rows = path.read_text().splitlines()
    path.write_text("\n".join([header, prunes, *change([json.loads(row) for row in rows])]) + "\n")


def test_a_changed_row_in_the_copy_is_named(handed_over, capsys):
    def rewrite(rows):
        rows[-2][4] = "innocent"  # actor_username
        return [json.dumps(row) for row in rows]

    edit_rows(handed_over["export"], rewrite)
    assert main(arguments(handed_over)) == 1
    assert "does not match its link" in capsys.readouterr().err


def test_a_copy_without_its_newest_events_is_named(handed_over, capsys):
    edit_rows(handed_over["export"], lambda rows: [json.dumps(row) for row in rows[:-2]])
    assert main(arguments(handed_over)) == 1
    assert "the newest events were deleted" in capsys.readouterr().err


def test_the_offline_verifier_names_a_fake_prune_and_a_forward_dated_event_as_the_database_verifier_does(
    tmp_path, capsys
):
    """Both of the second reader's attacks on one log: the two verifiers agree, line for line."""
    from django.utils import timezone, translation

    from audit.verifier import report_lines
    from audit.verify import verify_access_log
    from tests.audit.test_access_log import Tampering
    from tests.audit.test_tampering import fake_prune, record_at

    record(2)
    access_log_checkpoint_write(force=True)
    kept, _ = record(2)
    access_log_checkpoint_write(force=True)
    record_at(timezone.now() + datetime.timedelta(days=365), 1)
    record(1)
    access_log_checkpoint_write(force=True)
    with Tampering():
        fake_prune(kept)
    files = handed_over_files(tmp_path)
    with translation.override("en"):
        expected = report_lines(verify_access_log(), directory=str(files["checkpoints"]))
    assert [line.split(" ")[0] for line in expected[:2]] == ["Events", "Event"]
    assert main(arguments(files)) == 1
    offline = capsys.readouterr().err.splitlines()
    assert offline[:3] == expected[:3], "the findings and the verdict"


def test_an_auditor_holds_the_copy_to_the_retention_and_the_time_of_the_export(tmp_path, capsys):
    """Verified later, the copy is judged as of its export; a shorter --retention-months passes it."""
    from django.utils import timezone

    from tests.audit.test_access_log import Tampering
    from tests.audit.test_tampering import fake_prune

    record(2)
    access_log_checkpoint_write(force=True)
    kept, _ = record(2)
    access_log_checkpoint_write(force=True)
    with Tampering():
        fake_prune(kept)
    files = handed_over_files(tmp_path)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=800)):
        assert main(arguments(files)) == 1, "24 months after the export the events would have been due"
        assert "within the retention of 24 months" in capsys.readouterr().err
    assert main([*arguments(files), "--retention-months", "0"]) == 0


def test_without_the_right_chain_key_or_a_readable_copy_nothing_verifies(handed_over, capsys):
    handed_over["chain"].write_text("dev1:" + "A" * 43 + "=")
    assert main(arguments(handed_over)) == 1
    handed_over["export"].write_text("not an export\n")
    assert main(arguments(handed_over)) == 2
    assert "Cannot verify" in capsys.readouterr().err
