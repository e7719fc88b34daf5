"""Session state of the log-in: when it was last used, how long it may idle, and why it ended.

The last use is stamped into the session at most every STAMP_SECONDS, so an active session is written
about once a minute, not on every request; a session therefore ends between its idle limit and a
minute after it.
"""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest

from accounts.roles import idle_seconds_for
from accounts.services.login import LOGOUT_REASON

LAST_SEEN_KEY = "_accounts_last_seen"
IDLE_LIMIT_KEY = "_accounts_idle_seconds"
NOTICE_KEY = "_accounts_login_notice"  # why the last session ended, for the log-in page
STAMP_SECONDS = 60


def session_start(sender, request: HttpRequest, user, **kwargs) -> None:
    """Receiver of user_logged_in (also after the second factor): the idle limit for this user's roles."""
    session_limits_refresh(request, user)


def session_limits_refresh(request: HttpRequest, user) -> None:
    request.session[IDLE_LIMIT_KEY] = idle_seconds_for(user)
    request.session[LAST_SEEN_KEY] = int(time.time())


def session_is_idle(request: HttpRequest) -> bool:
    """Whether the logged-in session has idled past its limit; stamps the last use otherwise."""
    session = request.session
    now = int(time.time())
    last_seen = session.get(LAST_SEEN_KEY)
    if last_seen is not None and now - last_seen > session.get(IDLE_LIMIT_KEY, settings.SESSION_IDLE_MINUTES * 60):
        return True
    if last_seen is None or now - last_seen >= STAMP_SECONDS:
        session[LAST_SEEN_KEY] = now
    return False


def session_end(request: HttpRequest, *, reason: str) -> None:
    """Log the user out (a LOGOUT event with `reason`) and leave the reason for the log-in page."""
    setattr(request, LOGOUT_REASON, reason)
    logout(request)
    request.session[NOTICE_KEY] = reason


def login_notice_pop(request: HttpRequest) -> str | None:
    return request.session.pop(NOTICE_KEY, None)
