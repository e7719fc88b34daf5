"""Development keys for the sotu-silo, generated once into an ignored file.

Production never uses this: PRIVACY_SERVICE_ENV=production requires the keys
in the environment.
"""

import base64
import json
import os
import secrets
from pathlib import Path


def development_sotu_keys(path: Path) -> dict[str, str]:
    if path.exists():
        return json.loads(path.read_text())
    keys = {
        "encryption_keys": "dev1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "index_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created private, and never replaced once written: a new key would orphan stored codes.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return json.loads(path.read_text())
    with os.fdopen(descriptor, "w") as handle:
        json.dump(keys, handle)
    return keys
