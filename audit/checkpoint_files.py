"""Signed checkpoints of the access log's head, as files: the format, signing, reading and appending.

A checkpoint says "at this time the chain's head was event `last_id` with link `last_hash`, the
`count`-th event of the chain (pruned ones included), written at `head_at`", names the checkpoint
before it by its digest, and is signed with Ed25519 (audit/keys.py). One JSON object a line, in one
file a day (UTC): `checkpoints-YYYY-MM-DD.jsonl` in AUDIT_CHECKPOINT_DIR, a directory the database
cannot reach.

    {"at": "2026-05-01T12:00:00.123456Z", "count": 812, "format": "access-log-checkpoint/v2",
     "head_at": "2026-05-01T11:59:58.654321Z", "key_id": "k1", "last_hash": "…", "last_id": 815,
     "previous": "<digest>", "signature": "<base64>"}

The head's own time is signed so that a prune can be judged by what the database cannot forge: a
pruned head must be older than the retention (audit/verifier.py). Checkpoints written before it
(format `access-log-checkpoint/v1`) have no `head_at`; they still verify, and the verifier judges
them by their signing time, which is no earlier than their head's.

The signature is over the line's other fields as compact JSON with sorted keys (the "payload"); the
digest of a checkpoint is the SHA-256 of its payload. Because each payload holds the digest of the
one before, the newest signature vouches for every checkpoint before it: a changed or removed
checkpoint in between breaks the sequence.

This module imports nothing from Django: the offline verifier uses it.
"""

import base64
import binascii
import contextlib
import dataclasses
import datetime
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "access-log-checkpoint/v2"
# Without the head's time: what the writer signed before v2.
FORMAT_V1 = "access-log-checkpoint/v1"
FILE_GLOB = "checkpoints-*.jsonl"
LOCK_FILE = ".lock"
FIELDS = ("at", "count", "format", "head_at", "key_id", "last_hash", "last_id", "previous")


class UnreadableCheckpoint(ValueError):
    """A line that is no checkpoint: not JSON, fields missing or of the wrong type."""


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    at: str
    last_id: int
    last_hash: str
    count: int
    previous: str | None
    key_id: str
    signature: str
    # The head event's time (v2); None in a v1 checkpoint.
    head_at: str | None = None
    source: str = ""  # "file:line", where it was read

    def payload(self) -> bytes:
        fields = {
            "at": self.at,
            "count": self.count,
            "format": FORMAT_V1 if self.head_at is None else FORMAT,
            "key_id": self.key_id,
            "last_hash": self.last_hash,
            "last_id": self.last_id,
            "previous": self.previous,
        }
        if self.head_at is not None:
            fields["head_at"] = self.head_at
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.payload()).hexdigest()

    @property
    def moment(self) -> datetime.datetime:
        return datetime.datetime.fromisoformat(self.at)

    @property
    def head_moment(self) -> datetime.datetime | None:
        return None if self.head_at is None else datetime.datetime.fromisoformat(self.head_at)

    def line(self) -> str:
        fields = json.loads(self.payload())
        fields["signature"] = self.signature
        return json.dumps(fields, sort_keys=True, separators=(",", ":"))

    def signature_valid(self, public_keys: dict[str, Ed25519PublicKey]) -> bool | None:
        """True or False, or None when no known public key has this checkpoint's key id."""
        key = public_keys.get(self.key_id)
        if key is None:
            return None
        try:
            key.verify(base64.b64decode(self.signature, validate=True), self.payload())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


def utc_text(moment: datetime.datetime) -> str:
    """An aware time as the checkpoints write it: UTC, microseconds, "Z"."""
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def signed(
    *,
    at: datetime.datetime,
    head_at: datetime.datetime,
    last_id: int,
    last_hash: str,
    count: int,
    previous: str | None,
    key_id: str,
    key: Ed25519PrivateKey,
) -> Checkpoint:
    unsigned = Checkpoint(
        at=utc_text(at),
        last_id=last_id,
        last_hash=last_hash,
        count=count,
        previous=previous,
        key_id=key_id,
        signature="",
        head_at=utc_text(head_at),
    )
    signature = base64.b64encode(key.sign(unsigned.payload())).decode()
    return dataclasses.replace(unsigned, signature=signature)


def parse_line(text: str, *, source: str = "") -> Checkpoint:
    try:
        fields = json.loads(text)
    except ValueError as error:
        raise UnreadableCheckpoint(f"{source}: not JSON") from error
    if not isinstance(fields, dict) or fields.get("format") not in (FORMAT, FORMAT_V1):
        raise UnreadableCheckpoint(f"{source}: not a {FORMAT} line")
    types = {"at": str, "count": int, "key_id": str, "last_hash": str, "last_id": int, "signature": str}
    if fields["format"] == FORMAT:
        types["head_at"] = str
    elif "head_at" in fields:
        raise UnreadableCheckpoint(f"{source}: head_at in a {FORMAT_V1} line")
    for name, kind in types.items():
        if not isinstance(fields.get(name), kind) or isinstance(fields.get(name), bool):
            raise UnreadableCheckpoint(f"{source}: {name} missing or not a {kind.__name__}")
    if fields.get("previous") is not None and not isinstance(fields["previous"], str):
        raise UnreadableCheckpoint(f"{source}: previous is not a digest")
    if set(fields) - {*FIELDS, "signature"}:
        raise UnreadableCheckpoint(f"{source}: unknown fields")
    for name in ("at", "head_at"):
        try:
            if name in fields and datetime.datetime.fromisoformat(fields[name]).tzinfo is None:
                raise ValueError(name)
        except ValueError as error:
            raise UnreadableCheckpoint(f"{source}: {name} is not a time in UTC") from error
    return Checkpoint(
        at=fields["at"],
        last_id=fields["last_id"],
        last_hash=fields["last_hash"],
        count=fields["count"],
        previous=fields.get("previous"),
        key_id=fields["key_id"],
        signature=fields["signature"],
        head_at=fields.get("head_at"),
        source=source,
    )


def checkpoint_files(directory: Path) -> list[Path]:
    """The day files in order (the names sort by day)."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob(FILE_GLOB))


def read_checkpoints(directory: Path) -> Iterator[Checkpoint | UnreadableCheckpoint]:
    """Every checkpoint in the directory, oldest first; a bad line comes as its error, in its place."""
    for path in checkpoint_files(directory):
        with path.open(encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    yield parse_line(text, source=f"{path.name}:{number}")
                except UnreadableCheckpoint as error:
                    yield error


def newest_checkpoint(directory: Path) -> Checkpoint | None:
    """The last line of the newest day file (read from the end: the files grow all day)."""
    for path in reversed(checkpoint_files(directory)):
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            lines = [line for line in handle.read().splitlines() if line.strip()]
        if lines:
            return parse_line(lines[-1].decode("utf-8", errors="replace"), source=f"{path.name}:last")
    return None


def append(directory: Path, checkpoint: Checkpoint) -> Path:
    """Append the line to its day's file and force it to disk (and the directory entry of a new file)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"checkpoints-{checkpoint.at[:10]}.jsonl"
    new = not path.exists()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, (checkpoint.line() + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    if new:
        directory_descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(directory_descriptor)
        finally:
            os.close(directory_descriptor)
    return path


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """One checkpoint writer at a time across processes (an exclusive lock on the directory's lock file)."""
    directory.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
