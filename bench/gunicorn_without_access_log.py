"""Bench only: the project's gunicorn.conf.py, with every access-event write replaced by a no-op in each worker.

`bench/access_log_cost.py` serves the service twice, with the project's gunicorn.conf.py and with this file, to
measure what the access log costs a read. Nothing in the service can switch the log off: this file exists only
under bench/, is used only by `gunicorn -c bench/gunicorn_without_access_log.py`, and refuses to start a worker
when PRIVACY_SERVICE_ENV is production or when the bench's own variable is not set.

How the no-op reaches every caller: the callers import the writer by name (`from audit.services import
access_event_record`), so replacing `audit.services.access_event_record` after they were imported would reach none
of them. After the worker loaded the application, the hook imports every URLconf's views (so every module a
request can reach is imported now, not on the first request) and rebinds the name in every loaded module that
holds the writer (patrons.selectors, bans.selectors, staff.access, dpo's and koha's modules...). audit.services
itself keeps the real writer. The no-op returns None: no read endpoint uses the event a read wrote.
`bench/access_log_cost.py` checks the result from outside: no access event is written while this server is
measured, and one (or more) per request is while the other one is.
"""

import os
import runpy
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ENABLE_VARIABLE = "BENCH_ACCESS_LOG_OFF"
ENABLE_VALUE = "bench-only"

# Every setting of the project's gunicorn.conf.py (gunicorn reads only the names it knows).
globals().update(
    {
        name: value
        for name, value in runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py")).items()
        if not name.startswith("_")
    }
)


def _no_access_event(**_kwargs) -> None:
    """The bench's no-op in place of audit.services.access_event_record: writes nothing, seals nothing."""
    return None


def access_log_off() -> list[str]:
    """Rebind `access_event_record` to the no-op in every loaded module but audit.services; the modules changed."""
    from django.conf import settings
    from django.urls import get_resolver

    if settings.PRODUCTION or os.environ.get(ENABLE_VARIABLE) != ENABLE_VALUE:
        raise SystemExit(f"bench/gunicorn_without_access_log.py: refused (production, or {ENABLE_VARIABLE} not set)")
    import audit.services

    # Every view and what it imports, now: a module first imported by a later request would keep the writer.
    get_resolver().url_patterns  # noqa: B018 (the property imports every URLconf and its views)
    original = audit.services.access_event_record
    changed = []
    for name, module in list(sys.modules.items()):
        if module is None or module is audit.services:
            continue
        if getattr(module, "access_event_record", None) is original:
            module.access_event_record = _no_access_event
            changed.append(name)
    return sorted(changed)


def post_worker_init(worker) -> None:
    changed = access_log_off()
    worker.log.info("bench: access_event_record is a no-op in %d modules: %s", len(changed), ", ".join(changed))
