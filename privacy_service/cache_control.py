"""`Cache-Control: no-store` on every answer that may hold personal data, in one place.

What a browser or a proxy may store, it keeps: in the disk cache of a shared desk computer, in the
back button's history, in a shared proxy. A patron's page, their JSON, a note's text or a guardian's
contact must not outlive the screen it was read on (GDPR Art. 5(1)(f) and 32(1)(b), confidentiality of
processing; OWASP ASVS 4.0 V8.2.1, anti-caching headers on sensitive data). One rule instead of a
decorator each view must remember: every answer of the API, and every answer to a request that has a
session (signed in, or just signed out by the network check), errors included. Static files stay
cacheable, and so do the public pages for visitors without a session (the privacy notice).
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

API_PREFIX = "/api/"


def may_hold_personal_data(request: HttpRequest) -> bool:
    path = request.path_info
    if path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return False
    if path.startswith(API_PREFIX) or settings.SESSION_COOKIE_NAME in request.COOKIES:
        return True
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated


class NoStoreMiddleware:
    """Outermost, so it marks the final answer, whichever middleware or error handler made it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if may_hold_personal_data(request):
            add_never_cache_headers(response)
        return response
