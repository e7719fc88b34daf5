"""Service-wide views: health and error pages. The log-in is in accounts/views.py."""

import time

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _

from audit.sealing import overdue_unsealed
from staff.access import ConfidentialityNotSigned

# The last answer of this process and when it was found (time.monotonic()).
_last_health: tuple[float, int, dict[str, str | int]] | None = None


def healthz(request: HttpRequest) -> JsonResponse:
    """Whether the database answers and the access log is sealed: one query, at most once per
    HEALTH_CHECK_CACHE_SECONDS per process (a load balancer probes every worker often; the answer may be that old)."""
    global _last_health
    now = time.monotonic()
    if _last_health is None or now - _last_health[0] >= settings.HEALTH_CHECK_CACHE_SECONDS:
        _last_health = (now, *_health())
    _found_at, status, body = _last_health
    return JsonResponse(body, status=status)


def _health() -> tuple[int, dict[str, str | int]]:
    try:
        overdue = overdue_unsealed()  # one query: the database answers, and the access log is sealed
    except DatabaseError:
        return 503, {"status": "database unavailable"}
    if overdue:
        # Serving goes on (reads are logged, unsealed); monitoring alarms on this (audit/sealing.py).
        return 200, {"status": "ok", "access_log": "unsealed events overdue", "unsealed": overdue.count}
    return 200, {"status": "ok"}


def is_api(request: HttpRequest) -> bool:
    """API requests get their errors as JSON `{"detail", "code"}`, like every other API error."""
    return request.path_info.startswith("/api/")


def bad_request(
    request: HttpRequest, exception: Exception | None = None, *, message: str | None = None, code: str = "bad_request"
) -> HttpResponse:
    """400. Standalone page: it must not load the session, which may be what was malformed."""
    message = message or _("The request could not be understood. Check what you entered and try again.")
    if is_api(request):
        return JsonResponse({"detail": message, "code": code}, status=400)
    return render(request, "errors/400.html", {"message": message}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception.args[0]) if exception and exception.args else _("You do not have access to this page.")
    if is_api(request):
        return JsonResponse({"detail": message, "code": "permission_denied"}, status=403)
    if isinstance(exception, ConfidentialityNotSigned):
        return render(request, "errors/confidentiality.html", status=403)
    return render(request, "errors/403.html", {"message": message}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The default page echoes the requested path, which may carry a search term.
    if is_api(request):
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    return render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        message = _("Something went wrong. Nothing was saved. Please try again, or tell your administrator.")
        return JsonResponse({"detail": message, "code": "server_error"}, status=500)
    # Without the request's context: its processors read the session and the staff profile, and a 500 is often
    # the database failing; the page needs nothing from them (bench/faults.py saw gunicorn's own blank 500).
    return HttpResponse(loader.render_to_string("errors/500.html"), status=500)
