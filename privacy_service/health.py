"""`/healthz` for a load balancer's probe, answered before the middleware stack.

A probe carries no session cookie: sessions, authentication, the allow-list, the second factor, the language,
CSRF and the security headers have nothing to do for it (an answer of two JSON keys, no page, nothing personal),
and they cost more than the check itself (issue 16: /healthz at 1/2.5 of bare Django with 18 middleware). So the
first middleware answers it at once. A request to /healthz that carries a session cookie goes through the whole
stack as every other request does, so a logged-in user from a network their library does not allow is refused
and logged out there too (tests/staff/test_ip_allowlist.py). What the probe skips, besides: ALLOWED_HOSTS (its
Host header is never read) and the headers of SecurityMiddleware, CSP and X-Frame-Options.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from privacy_service.views import healthz

HEALTH_PATH = "/healthz"


class HealthCheckMiddleware:
    """First in MIDDLEWARE: a GET or HEAD of /healthz without a session cookie is answered by the view alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.path_info == HEALTH_PATH
            and request.method in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
        ):
            return healthz(request)
        return self.get_response(request)
