"""Per-request rules of a logged-in session: the idle timeout and the second factor."""

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from accounts.roles import is_privileged
from accounts.services.two_factor import has_confirmed_device
from accounts.sessions import session_end, session_is_idle

# What a privileged user may reach before the second factor: its own pages, log-out, the language switch.
TWO_FACTOR_OPEN_VIEWS = {"two-factor", "two-factor-setup", "logout", "set_language"}


class IdleTimeoutMiddleware:
    """Ends a session that has idled past its limit (accounts/sessions.py); the request goes on anonymous,
    so a page sends the user to the log-in page, which says why."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and session_is_idle(request):
            session_end(request, reason="idle_timeout")
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Billing, the DPO and superusers reach nothing but the two-factor step until they pass it.

    Runs after the allow-list and django-otp's OTPMiddleware (which tells whether this session was
    verified). Pages redirect to the step; the API answers 403 `{"detail", "code": "two_factor_required"}`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = request.user  # django_otp's OTPMiddleware gave it is_verified()
        if user.is_authenticated and not user.is_verified() and is_privileged(user) and not _is_open(request):
            if request.path_info.startswith("/api/"):
                message = _("Confirm your log-in with your second factor (authenticator code) first.")
                return JsonResponse({"detail": message, "code": "two_factor_required"}, status=403)
            step = "two-factor" if has_confirmed_device(user) else "two-factor-setup"
            # The path only: a query string may hold a search, which must not travel in another URL.
            return redirect(f"{reverse(step)}?{urlencode({'next': request.path_info})}")
        return self.get_response(request)


def _is_open(request: HttpRequest) -> bool:
    try:
        return resolve(request.path_info).view_name in TWO_FACTOR_OPEN_VIEWS
    except Resolver404:
        return False
