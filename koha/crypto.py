"""Encryption of each consortium's Koha client secret (OAuth2 client secret or Basic password).

AES-256-GCM under the newest key of KOHA_CREDENTIAL_KEYS (never SECRET_KEY nor a silo key: settings
refuse that); the key id is stored beside the ciphertext so keys can rotate (`manage.py koha_rotate_keys`),
and the associated data binds the ciphertext to its connection and consortium, so a ciphertext copied to
another consortium's row fails to decrypt instead of logging that consortium into someone else's Koha.
"""

import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables

from audit.keys import KeyConfigurationError, parse_key_list

NONCE_BYTES = 12


class SecretUnreadable(Exception):
    """The stored secret failed authentication (tampered, moved to another row, or its key is gone)."""


@lru_cache(maxsize=4)
def _parse(value: str) -> dict[str, bytes]:
    try:
        keys = parse_key_list(value, name="KOHA_CREDENTIAL_KEYS", size=32)
    except KeyConfigurationError as error:
        raise ImproperlyConfigured(str(error)) from error
    if not keys:
        raise ImproperlyConfigured("KOHA_CREDENTIAL_KEYS has no keys.")
    return keys


def credential_keys() -> dict[str, bytes]:
    """{key id: 32-byte key}, newest first."""
    return _parse(settings.KOHA_CREDENTIAL_KEYS)


def newest_key_id() -> str:
    return next(iter(credential_keys()))


def associated_data(*, consortium_id: int, key_id: str) -> bytes:
    return f"koha-connection/v1|consortium={consortium_id}|key={key_id}".encode()


@sensitive_variables("secret")
def secret_encrypt(secret: str, *, consortium_id: int) -> tuple[str, bytes, bytes]:
    """(key id, nonce, ciphertext) of `secret` under the newest key."""
    key_id = newest_key_id()
    nonce = os.urandom(NONCE_BYTES)
    aad = associated_data(consortium_id=consortium_id, key_id=key_id)
    return key_id, nonce, AESGCM(credential_keys()[key_id]).encrypt(nonce, secret.encode(), aad)


@sensitive_variables("key")
def secret_decrypt(
    *, key_id: str, nonce: bytes | memoryview, ciphertext: bytes | memoryview, consortium_id: int
) -> str:
    key = credential_keys().get(key_id)
    if key is None:
        raise SecretUnreadable("unknown key id")
    try:
        plain = AESGCM(key).decrypt(
            bytes(nonce), bytes(ciphertext), associated_data(consortium_id=consortium_id, key_id=key_id)
        )
    except InvalidTag as error:
        raise SecretUnreadable("authentication failed") from error
    return plain.decode()
