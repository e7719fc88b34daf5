"""Who is told, after it commits, that a patron's bans or access prohibitions changed: how bans tells what stands
above it (koha/ keeps them in Koha as patron restrictions).

bans stands below koha/, so it never imports it: koha's AppConfig.ready registers a listener. Each step of the
ban procedure and each prohibition recorded calls `restrictions_changed` inside its transaction; the listeners
run only once that transaction has committed (a step rolled back tells nobody), with the patron's id. A
listener must not raise: the step is done by then, and the person who took it is still waiting for the page.
"""

import functools
from collections.abc import Callable

from django.db import transaction

# Called after the commit with the patron's id.
RestrictionListener = Callable[[int], None]

_listeners: list[RestrictionListener] = []


def restriction_listener_register(listener: RestrictionListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def restrictions_changed(patron_id: int) -> None:
    """Tell every listener about the patron once the current transaction commits."""
    for listener in _listeners:
        transaction.on_commit(functools.partial(listener, patron_id))
