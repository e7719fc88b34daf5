"""The access events of the silo: every store, reveal, lookup and conflict step, allowed or refused.

They name the patrons by id and the data category `identity_code`, never the code.
"""

from collections.abc import Iterable

from audit.actor import Actor
from audit.models import DataCategory, Outcome
from audit.services import access_event_record


def code_event_refused(
    actor: Actor, action: str, detail: str, patron_ids: Iterable[int] = (), reason: str = ""
) -> None:
    access_event_record(
        actor=actor,
        action=action,
        outcome=Outcome.DENIED,
        detail=detail,
        patron_ids=patron_ids,
        data_categories=[DataCategory.IDENTITY_CODE],
        reason=reason,
    )


def code_event_allowed(
    actor: Actor, action: str, patron_id: int, reason: str = "", data_categories: Iterable[str] = ()
) -> None:
    """`data_categories` when more than the code was shown (the reveal page names the patron)."""
    access_event_record(
        actor=actor,
        action=action,
        patron_ids=[patron_id],
        data_categories=list(data_categories) or [DataCategory.IDENTITY_CODE],
        reason=reason,
    )
