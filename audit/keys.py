"""The access log's keys: the chain key (HMAC links) and the checkpoint signing key (Ed25519).

Both come from the environment as `key-id:base64,...` lists, newest first, like the silo's keys, so
they can rotate: the newest key writes, the older ones still verify what they wrote. Neither is ever
in the database, so the database owner, who can rewrite any row, cannot make a rewritten row verify
(docs/deployment.md, "Keys").

- AUDIT_CHAIN_KEY: 32 bytes or more each; every event stores the id of the key its link is under.
- AUDIT_CHECKPOINT_SIGNING_KEY: Ed25519 private keys (the 32-byte seed); the first signs, the public
  halves of all of them verify.
- AUDIT_CHECKPOINT_VERIFY_KEYS: public keys (32 bytes) of retired signing keys whose private half is
  gone, and all an auditor needs (`manage.py access_log_checkpoint --public-key` prints them).
- AUDIT_CHAIN_KEY_PREVIOUS_UNTIL: during a rotation, until when the sealer still accepts the writers'
  content MACs under the chain key before the newest (an ISO 8601 time with its offset; empty: never).

This module imports nothing from Django at load time: settings.py and the offline verifier
(audit/offline_verify.py) use it too.
"""

import base64
import binascii
import datetime
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.chain import hmac_base


class KeyConfigurationError(ValueError):
    """A key list that cannot be used; settings turn it into ImproperlyConfigured."""


def parse_key_list(value: str, *, name: str, size: int | None = None, minimum: int = 32) -> dict[str, bytes]:
    """`key-id:base64,...` -> {key id: key bytes}, in the given order (newest first)."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in (value or "").split(","))):
        key_id, sep, encoded = item.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id:
            raise KeyConfigurationError(f"{name} entries are 'key-id:base64-key'.")
        if not key_id.isascii() or not all(c.isalnum() or c in "-_." for c in key_id) or len(key_id) > 32:
            raise KeyConfigurationError(f"{name} key ids are at most 32 letters, digits, '-', '_' or '.'.")
        if key_id in keys:
            raise KeyConfigurationError(f"{name} has the key id {key_id!r} twice.")
        try:
            raw = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError) as error:
            raise KeyConfigurationError(f"{name} key {key_id!r} is not valid base64.") from error
        if size is not None and len(raw) != size:
            raise KeyConfigurationError(f"{name} key {key_id!r} must be exactly {size} bytes.")
        if len(raw) < minimum:
            raise KeyConfigurationError(f"{name} key {key_id!r} must be at least {minimum} bytes.")
        keys[key_id] = raw
    if len(set(keys.values())) != len(keys):
        raise KeyConfigurationError(f"{name} has the same key under two ids.")
    return keys


def parse_chain_keys(value: str) -> dict[str, bytes]:
    keys = parse_key_list(value, name="AUDIT_CHAIN_KEY")
    if not keys:
        raise KeyConfigurationError("AUDIT_CHAIN_KEY has no keys.")
    return keys


def parse_grace_until(value: str) -> datetime.datetime | None:
    """AUDIT_CHAIN_KEY_PREVIOUS_UNTIL -> an aware time, or None when empty. A time without its offset is
    refused: read in the server's zone, the grace would end hours earlier or later than meant."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        until = datetime.datetime.fromisoformat(value)
    except ValueError as error:
        raise KeyConfigurationError(
            "AUDIT_CHAIN_KEY_PREVIOUS_UNTIL is an ISO 8601 time, e.g. 2026-12-05T12:00:00+02:00."
        ) from error
    if until.utcoffset() is None:
        raise KeyConfigurationError("AUDIT_CHAIN_KEY_PREVIOUS_UNTIL needs its UTC offset (+02:00 or Z).")
    return until


def parse_signing_keys(value: str) -> dict[str, Ed25519PrivateKey]:
    seeds = parse_key_list(value, name="AUDIT_CHECKPOINT_SIGNING_KEY", size=32)
    if not seeds:
        raise KeyConfigurationError("AUDIT_CHECKPOINT_SIGNING_KEY has no keys.")
    return {key_id: Ed25519PrivateKey.from_private_bytes(seed) for key_id, seed in seeds.items()}


def parse_public_keys(value: str, *, name: str = "AUDIT_CHECKPOINT_VERIFY_KEYS") -> dict[str, Ed25519PublicKey]:
    return {
        key_id: Ed25519PublicKey.from_public_bytes(raw)
        for key_id, raw in parse_key_list(value, name=name, size=32).items()
    }


def public_key_text(key_id: str, key: Ed25519PublicKey) -> str:
    return f"{key_id}:{base64.b64encode(key.public_bytes_raw()).decode()}"


def secret_bytes(*values: str) -> list[bytes]:
    """Every other secret as bytes, for the 'all keys differ' rule: the raw strings and, where a value
    is a `key-id:base64` list or plain base64, the decoded keys too. Undecodable parts are skipped
    (their own checks report them)."""
    found: list[bytes] = []
    for value in filter(None, values):
        found.append(value.encode())
        for item in value.split(","):
            for candidate in (item.partition(":")[2], item):
                try:
                    found.append(base64.b64decode(candidate.strip(), validate=True))
                except (binascii.Error, ValueError):
                    continue
    return [raw for raw in found if raw]


def check_distinct(*, chain_keys: str, signing_keys: str, secret_key: str, others: tuple[str, ...]) -> None:
    """Refuse a chain or signing key equal to SECRET_KEY, a silo key or each other."""
    chain = parse_chain_keys(chain_keys)
    signing = parse_key_list(signing_keys, name="AUDIT_CHECKPOINT_SIGNING_KEY", size=32)
    elsewhere = set(secret_bytes(secret_key, *others))
    if elsewhere & set(chain.values()) or chain_keys in (secret_key, *others):
        raise KeyConfigurationError("AUDIT_CHAIN_KEY must differ from SECRET_KEY and the silo's keys.")
    if elsewhere & set(signing.values()) or signing_keys in (secret_key, *others):
        raise KeyConfigurationError("AUDIT_CHECKPOINT_SIGNING_KEY must differ from SECRET_KEY and the silo's keys.")
    if set(chain.values()) & set(signing.values()):
        raise KeyConfigurationError("AUDIT_CHAIN_KEY and AUDIT_CHECKPOINT_SIGNING_KEY must differ.")


# --- The configured keys (Django settings), parsed once per value ------------------------------------


@lru_cache(maxsize=4)
def _chain_keys(value: str) -> dict[str, bytes]:
    return parse_chain_keys(value)


@lru_cache(maxsize=4)
def _chain_link_bases(value: str) -> dict:
    return {key_id: hmac_base(key) for key_id, key in _chain_keys(value).items()}


@lru_cache(maxsize=4)
def _grace_until(value: str) -> datetime.datetime | None:
    return parse_grace_until(value)


@lru_cache(maxsize=4)
def _signing_keys(value: str) -> dict[str, Ed25519PrivateKey]:
    return parse_signing_keys(value)


@lru_cache(maxsize=4)
def _verify_keys(signing: str, retired: str) -> dict[str, Ed25519PublicKey]:
    keys = {key_id: key.public_key() for key_id, key in _signing_keys(signing).items()}
    for key_id, key in parse_public_keys(retired).items():
        keys.setdefault(key_id, key)
    return keys


def chain_keys() -> dict[str, bytes]:
    """The chain keys of the settings, newest first."""
    from django.conf import settings

    return _chain_keys(settings.AUDIT_CHAIN_KEY)


def chain_link_bases() -> dict:
    """{key id: HMAC-SHA256 with that key absorbed}, newest first: `.copy()` one per link."""
    from django.conf import settings

    return _chain_link_bases(settings.AUDIT_CHAIN_KEY)


def writer_bases(*, now: datetime.datetime | None = None) -> dict:
    """The chain keys whose content MACs the sealer accepts from a writer, as `chain_link_bases`: the newest,
    and the one before it until AUDIT_CHAIN_KEY_PREVIOUS_UNTIL.

    A writer signs its event's content under the newest key it holds. In a rolling restart after a rotation,
    workers not yet restarted still sign under the previous key, and their events must seal. Beyond that
    grace a retired key only verifies what it wrote: the runtime role may insert rows, so a retired key that
    leaked would otherwise get rows of the attacker's choosing sealed under the new key by the sealer itself
    (docs/access-log.md, "What the guards leave open")."""
    from django.conf import settings

    bases = chain_link_bases()
    items = iter(bases.items())
    accepted = dict([next(items)])
    until = _grace_until(settings.AUDIT_CHAIN_KEY_PREVIOUS_UNTIL)
    if until is not None and (now or datetime.datetime.now(datetime.UTC)) < until:
        previous = next(items, None)
        if previous is not None:
            accepted[previous[0]] = previous[1]
    return accepted


def signing_key() -> tuple[str, Ed25519PrivateKey]:
    """The key that signs new checkpoints: the first of AUDIT_CHECKPOINT_SIGNING_KEY."""
    from django.conf import settings

    return next(iter(_signing_keys(settings.AUDIT_CHECKPOINT_SIGNING_KEY).items()))


def verify_keys() -> dict[str, Ed25519PublicKey]:
    """Every public key that verifies checkpoints: the signing keys' and the retired ones."""
    from django.conf import settings

    return _verify_keys(settings.AUDIT_CHECKPOINT_SIGNING_KEY, settings.AUDIT_CHECKPOINT_VERIFY_KEYS)
