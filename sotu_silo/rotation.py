"""Re-encrypting identity codes, stored ones and conflict entries, under SOTU_ENCRYPTION_KEYS' newest key."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from sotu_silo import crypto
from sotu_silo.models import IdentityCode, IdentityCodeConflict

SILO = "sotu"


@dataclass
class RotationResult:
    to_rotate: int
    unknown_keys: int = 0  # rows under a key id not in SOTU_ENCRYPTION_KEYS: left alone, reported
    rotated: int = 0


def identity_codes_rotate(
    *, batch_size: int = 1000, dry_run: bool = False, progress: Callable[[RotationResult], None] | None = None
) -> RotationResult:
    """Re-encrypt every code not under the newest key, a batch per transaction: the stored codes, then the
    codes of conflict entries still waiting for billing (resolved entries hold none).

    Resumable by construction: a rerun picks up only the rows still under an
    older key, so an interrupted rotation just runs again. A code that fails
    its integrity check stops the rotation (it is not silently re-encrypted).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    ring = crypto.keyring()
    known = [ring.newest_id, *ring.older_ids]
    # Only rows under the older keys we hold: rows another process already wrote under a key we do
    # not know are not ours to touch (nor are they downgraded).
    stale_codes = IdentityCode.objects.filter(key_id__in=ring.older_ids)
    pending = IdentityCodeConflict.objects.filter(resolved_at__isnull=True)
    stale_entries = pending.filter(key_id__in=ring.older_ids)
    result = RotationResult(
        to_rotate=stale_codes.count() + stale_entries.count(),
        unknown_keys=IdentityCode.objects.exclude(key_id__in=known).count() + pending.exclude(key_id__in=known).count(),
    )
    if dry_run:
        return result
    _rotate(stale_codes, _reencrypt_code, batch_size, result, progress)
    _rotate(stale_entries, _reencrypt_entry, batch_size, result, progress)
    return result


def _reencrypt_code(row: IdentityCode) -> None:
    row.key_id, row.nonce, row.ciphertext = crypto.encrypt(
        crypto.decrypt_row(row),
        patron_id=row.patron_id,
        consortium_id=row.consortium_id,
        country=row.country,
        blind_index=row.blind_index,
    )


def _reencrypt_entry(row: IdentityCodeConflict) -> None:
    row.key_id, row.nonce, row.ciphertext = crypto.encrypt_conflict(
        crypto.decrypt_conflict_row(row),
        entry=str(row.entry),
        patron_id=row.patron_id,
        consortium_id=row.consortium_id,
        country=row.country,
        blind_index=row.blind_index,
    )


def _rotate(stale, reencrypt, batch_size: int, result: RotationResult, progress) -> None:
    last_id = 0
    while True:
        with transaction.atomic(using=SILO):
            batch = list(stale.filter(id__gt=last_id).order_by("id").select_for_update()[:batch_size])
            if not batch:
                return
            for row in batch:
                reencrypt(row)
            stale.model.objects.bulk_update(batch, ["key_id", "nonce", "ciphertext"])
        last_id = batch[-1].id
        result.rotated += len(batch)
        if progress:
            progress(result)
