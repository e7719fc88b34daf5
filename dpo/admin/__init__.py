"""The DPO's admin: one module per register the DPO keeps."""

from dpo.admin import (
    access_log,  # noqa: F401
    breaches,  # noqa: F401
    registers,  # noqa: F401
    restrictions,  # noqa: F401
    subject_requests,  # noqa: F401
)
