"""System checks of the access log's configuration: a checkpoint directory the service can write to."""

import os
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register


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
