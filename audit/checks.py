"""System checks of the access log's configuration: a checkpoint directory the service can write to, and a
chain key rotation's grace no longer than a rolling restart needs."""

import datetime
import os
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.utils import timezone

from audit.keys import parse_grace_until

# A rolling restart takes minutes; a grace longer than this is a retired key left half a forgery key for days.
GRACE_WARN_AFTER = datetime.timedelta(hours=24)


@register()
def checkpoint_directory_check(app_configs, **kwargs):
    """AUDIT_CHECKPOINT_DIR is (or can become) a directory this process writes to; else no checkpoints."""
    directory = Path(settings.AUDIT_CHECKPOINT_DIR)
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return [
            Error(
                f"AUDIT_CHECKPOINT_DIR ({directory}) is not a directory this process can write to: "
                "no checkpoint of the access log could be written.",
                id="audit.E001",
            )
        ]
    return []


@register()
def chain_key_grace_check(app_configs, **kwargs):
    """AUDIT_CHAIN_KEY_PREVIOUS_UNTIL more than a day ahead: until then the previous chain key still gets the
    rows written under it sealed, a leaked one's included (audit.keys.writer_bases)."""
    until = parse_grace_until(settings.AUDIT_CHAIN_KEY_PREVIOUS_UNTIL)
    if until is not None and until - timezone.now() > GRACE_WARN_AFTER:
        return [
            Warning(
                "AUDIT_CHAIN_KEY_PREVIOUS_UNTIL is more than a day ahead: until then the previous chain key still "
                "gets rows sealed. Set it to the end of the rolling restart, or leave it empty.",
                id="audit.W001",
            )
        ]
    return []
