"""Encryption and the blind index for identity codes.

Each code is encrypted with AES-256-GCM under the newest key of
SOTU_ENCRYPTION_KEYS; the key id is stored beside the ciphertext so keys can
rotate, and the associated data binds the ciphertext to its row (patron,
consortium, country, key), so a ciphertext moved to another row fails to
decrypt. Exact lookup uses an HMAC-SHA256 blind index under SOTU_INDEX_KEY.
Neither key is SECRET_KEY. A conflict entry's code (IdentityCodeConflict) is
encrypted the same way; its associated data names the entry and is marked as
a conflict's, so neither kind of ciphertext opens as the other.
"""

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables

NONCE_BYTES = 12


class IdentityCodeUnreadable(Exception):
    """The stored ciphertext failed authentication (tampered, moved, or the key is gone)."""


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes] = field(repr=False)  # key id -> 32-byte key, newest first
    index_key: bytes = field(repr=False)

    @property
    def newest_id(self) -> str:
        return next(iter(self.keys))

    @property
    def older_ids(self) -> list[str]:
        return list(self.keys)[1:]


def _decode(value: str, what: str, minimum: int) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except ValueError as error:
        raise ImproperlyConfigured(f"{what} is not valid base64.") from error
    if len(raw) < minimum:
        raise ImproperlyConfigured(f"{what} must be at least {minimum} bytes.")
    return raw


@lru_cache(maxsize=4)
def _parse(encryption_keys: str, index_key: str) -> Keyring:
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in encryption_keys.split(","))):
        key_id, sep, value = item.partition(":")
        if not sep or not key_id:
            raise ImproperlyConfigured("SOTU_ENCRYPTION_KEYS entries are 'key-id:base64-key'.")
        if key_id in keys:
            raise ImproperlyConfigured("SOTU_ENCRYPTION_KEYS has a key id twice.")
        key = _decode(value, f"SOTU_ENCRYPTION_KEYS key {key_id!r}", 32)
        if len(key) != 32:
            raise ImproperlyConfigured("SOTU_ENCRYPTION_KEYS keys must be exactly 32 bytes (AES-256).")
        keys[key_id] = key
    if not keys:
        raise ImproperlyConfigured("SOTU_ENCRYPTION_KEYS has no keys.")
    index = _decode(index_key, "SOTU_INDEX_KEY", 32)
    if index in keys.values():
        raise ImproperlyConfigured("SOTU_INDEX_KEY must not be one of the encryption keys.")
    return Keyring(keys, index)


def keyring() -> Keyring:
    return _parse(settings.SOTU_ENCRYPTION_KEYS, settings.SOTU_INDEX_KEY)


def associated_data(*, patron_id: int, consortium_id: int, country: str, key_id: str, blind_index: str) -> bytes:
    """The row a ciphertext belongs to, including its blind index, so neither can be swapped."""
    return (
        f"sotu-silo/v1|patron={patron_id}|consortium={consortium_id}|country={country}|key={key_id}|index={blind_index}"
    ).encode()


def conflict_associated_data(
    *, entry: str, patron_id: int, consortium_id: int, country: str, key_id: str, blind_index: str
) -> bytes:
    """The conflict entry a ciphertext belongs to: it opens neither as another entry nor as a stored code."""
    return (
        f"sotu-silo/conflict/v1|entry={entry}|patron={patron_id}|consortium={consortium_id}|country={country}"
        f"|key={key_id}|index={blind_index}"
    ).encode()


@sensitive_variables("plaintext")
def _seal(plaintext: str, aad_for_key: Callable[[str], bytes]) -> tuple[str, bytes, bytes]:
    ring = keyring()
    key_id = ring.newest_id
    nonce = os.urandom(NONCE_BYTES)
    return key_id, nonce, AESGCM(ring.keys[key_id]).encrypt(nonce, plaintext.encode(), aad_for_key(key_id))


@sensitive_variables("plaintext")
def encrypt(
    plaintext: str, *, patron_id: int, consortium_id: int, country: str, blind_index: str
) -> tuple[str, bytes, bytes]:
    """(key id, nonce, ciphertext) under the newest key."""
    return _seal(
        plaintext,
        lambda key_id: associated_data(
            patron_id=patron_id, consortium_id=consortium_id, country=country, key_id=key_id, blind_index=blind_index
        ),
    )


@sensitive_variables("plaintext")
def encrypt_conflict(
    plaintext: str, *, entry: str, patron_id: int, consortium_id: int, country: str, blind_index: str
) -> tuple[str, bytes, bytes]:
    """(key id, nonce, ciphertext) of a conflict entry's code under the newest key."""
    return _seal(
        plaintext,
        lambda key_id: conflict_associated_data(
            entry=entry,
            patron_id=patron_id,
            consortium_id=consortium_id,
            country=country,
            key_id=key_id,
            blind_index=blind_index,
        ),
    )


@sensitive_variables("key", "ciphertext")
def decrypt(
    *,
    key_id: str,
    nonce: bytes,
    ciphertext: bytes,
    patron_id: int,
    consortium_id: int,
    country: str,
    blind_index: str,
) -> str:
    aad = associated_data(
        patron_id=patron_id, consortium_id=consortium_id, country=country, key_id=key_id, blind_index=blind_index
    )
    return _open(key_id, nonce, ciphertext, aad)


@sensitive_variables("key", "ciphertext")
def _open(key_id: str, nonce: bytes, ciphertext: bytes, aad: bytes) -> str:
    key = keyring().keys.get(key_id)
    if key is None:
        raise IdentityCodeUnreadable("unknown key id")
    try:
        return AESGCM(key).decrypt(bytes(nonce), bytes(ciphertext), aad).decode()
    except InvalidTag as error:
        raise IdentityCodeUnreadable("authentication failed") from error


def decrypt_row(row) -> str:
    """The plaintext of a stored IdentityCode row (its own fields are the associated data)."""
    return decrypt(
        key_id=row.key_id,
        nonce=row.nonce,
        ciphertext=row.ciphertext,
        patron_id=row.patron_id,
        consortium_id=row.consortium_id,
        country=row.country,
        blind_index=row.blind_index,
    )


def decrypt_conflict_row(row) -> str:
    """The plaintext of a pending IdentityCodeConflict row (its own fields are the associated data)."""
    aad = conflict_associated_data(
        entry=str(row.entry),
        patron_id=row.patron_id,
        consortium_id=row.consortium_id,
        country=row.country,
        key_id=row.key_id,
        blind_index=row.blind_index,
    )
    return _open(row.key_id, row.nonce, row.ciphertext, aad)


@sensitive_variables("normalized", "message")
def blind_index(normalized: str, *, country: str) -> str:
    """A keyed hash of the normalised code for exact lookup; without the key it reveals nothing."""
    message = f"{country}:{normalized}".encode()
    return hmac.new(keyring().index_key, message, hashlib.sha256).hexdigest()
