"""A process's short memory of configuration that pages read on every request but that seldom changes.

For settings that are not security decisions (a Koha connection's address, a consortium's libraries for a form's
choices): a change made in this process is seen at once (its app's signal receivers call `clear`), one made in
another worker process within `seconds`. Security decisions (roles, networks) never go through it.
"""

import time
from collections.abc import Callable, Hashable

from django.conf import settings


class ProcessCache[V]:
    """Values by key, each kept at most CONFIGURATION_CACHE_SECONDS (0: never kept, as in the test suite, whose
    rolled-back transactions send no signal a cache could clear itself on), and at most `most` values at once
    (past that, everything is forgotten: keys that change with the day do not pile up)."""

    def __init__(self, most: int = 1000) -> None:
        self._values: dict[Hashable, tuple[float, V]] = {}
        self._most = most

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        seconds = settings.CONFIGURATION_CACHE_SECONDS
        now = time.monotonic()
        kept = self._values.get(key)
        if kept is not None and now - kept[0] < seconds:
            return kept[1]
        value = compute()
        if seconds > 0:
            if len(self._values) >= self._most:
                self._values = {}
            self._values[key] = (now, value)
        return value

    def clear(self, **_signal_kwargs) -> None:
        """Forget everything (a signal receiver: a model the values come from changed)."""
        self._values = {}
