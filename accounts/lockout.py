"""django-axes wired to this service: who counts as the same client, and how a lockout is answered.

Failures are counted per username and, separately, per client address (AXES_LOCKOUT_PARAMETERS); either
reaching AXES_FAILURE_LIMIT locks log-ins for AXES_COOLOFF_TIME, and a locked log-in is refused before
the password is checked, so the right password does not open it. The address is the one
staff/client_ip.py decides, never a header a client may write.

A name typed into the username box that is no user's is counted under a keyed hash of it: it still
locks like a real one (so a lockout tells nothing about which usernames exist), and a password typed
into the wrong box is not kept in axes' table.
"""

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from staff.client_ip import client_ip

REFUSED_WHILE_LOCKED = "login_refused_while_locked"


class LockoutBackend(AxesStandaloneBackend):
    """axes' check before the password; it marks the request so the log-in view can tell a refusal
    because of an existing lockout from a wrong password that has just reached the limit."""

    def authenticate(self, request: HttpRequest, username: str | None = None, password: str | None = None, **kwargs):
        try:
            return super().authenticate(request, username, password, **kwargs)
        except AxesBackendPermissionDenied:
            setattr(request, REFUSED_WHILE_LOCKED, True)
            raise


def lockout_address(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the client address from the one place that decides it."""
    address = client_ip(request)
    return str(address) if address is not None else None


def existing_user(username: str | None):
    """The user with exactly this username (as the log-in itself looks it up), or None."""
    if not username:
        return None
    user_model = get_user_model()
    return user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()


def lockout_username(request: HttpRequest, credentials: dict | None) -> str:
    """AXES_USERNAME_CALLABLE: an existing username as it is, anything else as a keyed hash."""
    typed = (credentials or {}).get("username")
    if typed is None:
        typed = request.POST.get("username", "")
    if existing_user(typed) is not None:
        return typed
    return "unknown:" + salted_hmac("accounts.lockout.username", typed, algorithm="sha256").hexdigest()[:40]


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None):
    """AXES_LOCKOUT_CALLABLE: the view's own answer, which already says in the user's language that
    log-in is locked (accounts/views.py); axes' default is an English text."""
    return original_response
