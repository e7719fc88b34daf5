"""Tenancy scoping in one place: a consortium's rows, and the actor's consortium's object or not found.

Staff see only their own consortium; another consortium's object is not found (a 404), never refused
(a 403 would tell that it exists). A model whose rows belong to a consortium uses
ConsortiumScopedQuerySet as its manager and names the lookup from a row to its consortium's id in
`consortium_lookup`; every read then asks `Model.objects.visible_to(actor)` (or `of_consortium(id)`
where only the id is at hand, as in the admin and in commands) instead of writing the filter.
"""

from typing import Any, ClassVar, Protocol, cast

from django.db import models

from audit.actor import Actor
from core.errors import NotFound


class ConsortiumScoped(Protocol):
    """A model whose rows belong to a consortium: `consortium_lookup` leads from a row to its consortium's id."""

    consortium_lookup: ClassVar[str]


class ConsortiumScopedQuerySet(models.QuerySet):
    def of_consortium(self, consortium_id: int | None) -> "ConsortiumScopedQuerySet":
        """The rows of the consortium `consortium_id` (none for None: a user without a consortium sees nothing)."""
        lookup = cast(type[ConsortiumScoped], self.model).consortium_lookup  # every model using this queryset
        return self.filter(**{lookup: consortium_id})

    def visible_to(self, actor: Actor) -> "ConsortiumScopedQuerySet":
        """The rows of the actor's consortium."""
        return self.of_consortium(actor.consortium_id)


def object_of_consortium_or_404(queryset: ConsortiumScopedQuerySet, *, actor: Actor, **lookups: Any) -> Any:
    """The one object of `queryset` matching `lookups` in the actor's consortium; NotFound otherwise.

    Another consortium's object and one that does not exist are the same answer (core.errors.NotFound,
    a 404 on a page and in the API).
    """
    found = queryset.visible_to(actor).filter(**lookups).first()
    if found is None:
        raise NotFound
    return found
