"""Development keys for the sotu-silo, the access log and the Koha secrets, generated once into ignored files.

Production never uses this: PRIVACY_SERVICE_ENV=production requires the keys
in the environment.
"""

import base64
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _generated_once(path: Path, make: Callable[[], dict[str, str]]) -> dict[str, str]:
    if path.exists():
        return json.loads(path.read_text())
    keys = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created private, and never replaced once written: a new key would orphan what the old one wrote.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return json.loads(path.read_text())
    with os.fdopen(descriptor, "w") as handle:
        json.dump(keys, handle)
    return keys


def development_sotu_keys(path: Path) -> dict[str, str]:
    return _generated_once(
        path,
        lambda: {
            "encryption_keys": "dev1:" + _b64(secrets.token_bytes(32)),
            "index_key": _b64(secrets.token_bytes(32)),
        },
    )


def development_audit_keys(path: Path) -> dict[str, str]:
    """The access log's chain key and checkpoint signing key (audit/keys.py)."""
    return _generated_once(
        path,
        lambda: {
            "chain_key": "dev1:" + _b64(secrets.token_bytes(32)),
            "checkpoint_signing_key": "dev1:" + _b64(Ed25519PrivateKey.generate().private_bytes_raw()),
        },
    )


def development_koha_keys(path: Path) -> str:
    """KOHA_CREDENTIAL_KEYS: the key of the consortia's Koha client secrets (koha/crypto.py)."""
    return _generated_once(path, lambda: {"credential_keys": "dev1:" + _b64(secrets.token_bytes(32))})[
        "credential_keys"
    ]
