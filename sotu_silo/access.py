"""Who may store, reveal and look up identity codes: the silo's rules on top of staff.access's one check.

Desk staff and billing clerks may store a code but never read it back; only billing clerks look up and
reveal one, each time with a stated reason. Only a permission given to the user or their groups
counts: superusers administer, they do not bypass the silo. A refusal is a denied access event about
the identity code.
"""

from django.http import HttpRequest

from audit.actor import Actor
from audit.models import Action, DataCategory
from staff.access import actor_with_permission


def _code_categories(action: str) -> list[str]:
    """A refused code action is about the identity code; a refused page view (Action.REQUEST) is not."""
    return [DataCategory.IDENTITY_CODE] if action.startswith("identity_code") else []


def identity_code_writer_actor(request: HttpRequest, *, patron_id: int | None = None) -> Actor:
    """The actor for storing an identity code: desk staff and billing, who cannot read it back."""
    return actor_with_permission(
        request,
        "sotu_silo.store_identity_code",
        superuser_counts=False,
        action=Action.IDENTITY_CODE_STORE,
        patron_id=patron_id,
        data_categories=[DataCategory.IDENTITY_CODE],
    )


def billing_actor(request: HttpRequest, *, action: str = Action.REQUEST, patron_id: int | None = None) -> Actor:
    """The actor for looking up and revealing identity codes (`action`): billing clerks only."""
    return actor_with_permission(
        request,
        "sotu_silo.reveal_identity_code",
        superuser_counts=False,
        action=action,
        patron_id=patron_id,
        data_categories=_code_categories(action),
    )
