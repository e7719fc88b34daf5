"""Re-encrypting identity codes under the newest key (SOTU_ENCRYPTION_KEYS' first)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from sotu_silo import crypto
from sotu_silo.models import IdentityCode

SILO = "sotu"


@dataclass
class RotationResult:
    to_rotate: int
    unknown_keys: int = 0  # rows under a key id not in SOTU_ENCRYPTION_KEYS: left alone, reported
    rotated: int = 0


def identity_codes_rotate(
    *, batch_size: int = 1000, dry_run: bool = False, progress: Callable[[RotationResult], None] | None = None
) -> RotationResult:
    """Re-encrypt every code not under the newest key, a batch per transaction.

    Resumable by construction: a rerun picks up only the rows still under an
    older key, so an interrupted rotation just runs again. A code that fails
    its integrity check stops the rotation (it is not silently re-encrypted).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    ring = crypto.keyring()
    # Only rows under the older keys we hold: rows another process already wrote under a key we do
    # not know are not ours to touch (nor are they downgraded).
    stale = IdentityCode.objects.filter(key_id__in=ring.older_ids)
    known = [ring.newest_id, *ring.older_ids]
    result = RotationResult(
        to_rotate=stale.count(), unknown_keys=IdentityCode.objects.exclude(key_id__in=known).count()
    )
    if dry_run:
        return result
    last_id = 0
    while True:
        with transaction.atomic(using=SILO):
            batch = list(stale.filter(id__gt=last_id).order_by("id").select_for_update()[:batch_size])
            if not batch:
                return result
            for row in batch:
                code = crypto.decrypt_row(row)
                row.key_id, row.nonce, row.ciphertext = crypto.encrypt(
                    code,
                    patron_id=row.patron_id,
                    consortium_id=row.consortium_id,
                    country=row.country,
                    blind_index=row.blind_index,
                )
            IdentityCode.objects.bulk_update(batch, ["key_id", "nonce", "ciphertext"])
        last_id = batch[-1].id
        result.rotated += len(batch)
        if progress:
            progress(result)
