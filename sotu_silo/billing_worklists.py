"""Billing's other lists of work, shown on /billing/ beside the identity-code conflicts.

An app above the silo (today koha/, with the codes its import could not store) registers a list in its
AppConfig.ready; the silo never imports it. The billing page shows each list that has work for the clerk's
consortium, as a link with its count.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.urls import reverse

from audit.actor import Actor


class WorkCount(Protocol):
    """The work waiting in the actor's consortium (a selector, keyword-only as the house writes them)."""

    def __call__(self, *, actor: Actor) -> int: ...


@dataclass(frozen=True)
class Worklist:
    url_name: str  # the list's page
    text: Callable[[int], str]  # what the link says, for a count
    count: WorkCount


@dataclass(frozen=True)
class WorklistLink:
    url: str
    text: str


_worklists: list[Worklist] = []


def billing_worklist_register(worklist: Worklist) -> None:
    if worklist not in _worklists:
        _worklists.append(worklist)


def billing_worklist_links(*, actor: Actor) -> list[WorklistLink]:
    """A link for each registered list with work waiting in the actor's consortium."""
    links = []
    for worklist in _worklists:
        waiting = worklist.count(actor=actor)
        if waiting:
            links.append(WorklistLink(url=reverse(worklist.url_name), text=worklist.text(waiting)))
    return links
