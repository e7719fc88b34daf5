"""Keeping personal data out of logs, error pages and error emails.

Search terms are names, and they travel in query strings; local variables in
our code hold patron data. Neither may reach a log line, Django's debug page
or an error email.
"""

import logging
import re

from django.conf import settings
from django.http import HttpRequest
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

REDACTED = "[redacted]"
_QUERY_STRING = re.compile(r"\?[^\s\"']*")


def redact_query_strings(text: str) -> str:
    return _QUERY_STRING.sub("?" + REDACTED, text)


class RedactQueryStringFilter(logging.Filter):
    """Rewrites any URL query string in a log record (runserver's and Django's request lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_query_strings(record.msg)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact_query_strings(a) if isinstance(a, str) else a for a in args)
        return True


class PersonalDataReporterFilter(SafeExceptionReporterFilter):
    """Hides every local variable of every frame, and all request parameters, with DEBUG on or off.

    Patron data and identity codes pass through Django's own frames too (a template's context,
    a serializer's data), so no frame's variables are shown, not only the service's own.
    """

    def is_active(self, request):
        return True

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]

    def cleanse_special_types(self, request, value):
        # A request's repr carries its query string; Django's own frames hold the request.
        if isinstance(value, HttpRequest):
            return f"<{type(value).__name__}: {value.method} {value.path_info!r}>"
        if isinstance(value, str):
            return redact_query_strings(value)
        return super().cleanse_special_types(request, value)

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return {key: self.cleansed_substitute for key in request.POST}


class PersonalDataExceptionReporter(ExceptionReporter):
    """Django's reporter, with query strings and GET values hidden too (DEBUG page and emails)."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if self.request is not None:
            data["request_GET_items"] = [(key, REDACTED) for key in self.request.GET]
            data["request_COOKIES_items"] = [(key, REDACTED) for key in self.request.COOKIES]
            if "request_meta" in data:
                data["request_meta"] = {
                    key: (redact_query_strings(value) if isinstance(value, str) else value)
                    for key, value in data["request_meta"].items()
                }
                data["request_meta"]["QUERY_STRING"] = REDACTED
        return data

    def _get_raw_insecure_uri(self):
        return redact_query_strings(super()._get_raw_insecure_uri())  # type: ignore[misc]  # Django's, not in the stubs


class PlainNotFoundMiddleware:
    """With DEBUG on, Django's 404 page echoes the full URL, search terms included.

    Outermost middleware: it swaps that page for the service's own 404 page, so a
    developer's screen shows no more than production's.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code == 404 and "text/html" in response.get("Content-Type", ""):
            from privacy_service.views import page_not_found

            return page_not_found(request)
        return response
