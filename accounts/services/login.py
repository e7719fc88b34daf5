"""Log-ins, lockouts and log-outs as access events.

Every log-in attempt is one event (Action.LOGIN): allowed, with detail `two_factor_pending` when a
second factor must follow, or denied with `wrong_password`, `unknown_user`, `inactive_user`,
`incomplete` (a field left empty), `locked_out` (refused unchecked: the username or the address is
locked) or `network_not_allowed`. The failure that reaches the limit is followed by an event of its own,
`lockout`. Every end of a session is a LOGOUT event: `by_user`, `idle_timeout`, `two_factor_lockout`,
or `session_ended` (for instance by a refused network).

The password is never stored. The typed username is kept only when it is an existing user's (as the
event's actor): a password typed into the username box must not land in the append-only log.
"""

from typing import TYPE_CHECKING

from accounts.lockout import existing_user
from audit.models import AccessEvent, Action, Outcome
from audit.services import access_event_record
from staff.actor import actor_from_request

if TYPE_CHECKING:  # a request is what these records are about; nothing here answers one
    from django.http import HttpRequest

LOGOUT_REASON = "logout_reason"
USER_LOGOUT_VIEWS = {"logout", "admin:logout"}


def login_failure_record(*, request: "HttpRequest", typed_username: str | None, detail: str) -> AccessEvent:
    """A refused attempt; the actor is the user whose username was typed, when there is one.

    `wrong_password` becomes `unknown_user` or `inactive_user` when that is what it was.
    """
    user = existing_user(typed_username)
    if detail == "wrong_password" and user is None:
        detail = "unknown_user"
    elif detail == "wrong_password" and not user.is_active:
        detail = "inactive_user"
    return access_event_record(
        actor=actor_from_request(request, user=user), action=Action.LOGIN, outcome=Outcome.DENIED, detail=detail
    )


def login_success_record(*, request: "HttpRequest", user, two_factor_pending: bool) -> AccessEvent:
    return access_event_record(
        actor=actor_from_request(request, user=user),
        action=Action.LOGIN,
        detail="two_factor_pending" if two_factor_pending else "",
    )


def logout_record(sender, request: "HttpRequest", user, **kwargs) -> None:
    """Receiver of user_logged_out: whatever ended the session, it is an access event."""
    if user is None:
        return
    reason = getattr(request, LOGOUT_REASON, None)
    if reason is None:
        match = getattr(request, "resolver_match", None)
        reason = "by_user" if match is not None and match.view_name in USER_LOGOUT_VIEWS else "session_ended"
    access_event_record(actor=actor_from_request(request, user=user), action=Action.LOGOUT, detail=reason)
