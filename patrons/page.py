"""What the apps above patrons add to the patron's page: how the page shows what patrons may not import.

The silo (whether an identity code is stored, for the desk's store form) stands above patrons. Each such
app registers, in its AppConfig.ready, a provider of template context for the page; the page asks them
after its own logged read of the patron (a provider must not read the patron's personal data itself).
"""

from collections.abc import Callable, Mapping
from typing import Any

# Called with the patron's id once the page's read of the patron is logged; returns template context.
PageContextProvider = Callable[[int], Mapping[str, Any]]

_providers: list[PageContextProvider] = []


def patron_page_context_register(provider: PageContextProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def patron_page_context(patron_id: int) -> dict[str, Any]:
    """Every provider's context for the patron's page, in the order the apps registered them."""
    context: dict[str, Any] = {}
    for provider in _providers:
        context.update(provider(patron_id))
    return context
