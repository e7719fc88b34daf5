"""No NUL character in any input: refused as a whole request, before any view, form or serializer sees it.

PostgreSQL cannot store or compare a text holding U+0000, so psycopg refuses the query: a NUL byte in a
search box, a filter, a form field, a JSON string or the session cookie was a server error on
PostgreSQL (SQLite quietly searched with it). No field of the service has a use for it, so rather than
every field remembering to refuse it, this middleware answers 400 for a NUL anywhere in the path, the
query string, the cookies, or the body: an urlencoded or multipart form, or JSON (raw or as `\\u0000`).
It runs before the session is loaded and before any view, so nothing is read, logged or written.
"""

import re

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from privacy_service.views import bad_request

NUL = "\x00"
# `\u0000` in JSON text: a backslash escape not itself escaped (an even number of backslashes before it).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _body_carries_nul(request: HttpRequest) -> bool:
    body = request.body
    if b"\x00" in body:
        return True
    if request.content_type == "application/x-www-form-urlencoded":
        # Every `%` starts an escape in a well-formed form body, so `%00` is exactly a NUL.
        return b"%00" in body
    return _JSON_NUL.search(body) is not None


def carries_nul(request: HttpRequest) -> bool:
    return (
        NUL in request.path_info
        or any(NUL in key or any(NUL in value for value in values) for key, values in request.GET.lists())
        or any(NUL in key or NUL in value for key, value in request.COOKIES.items())
        or _body_carries_nul(request)
    )


class NulCharacterMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if carries_nul(request):
            message = _(
                "The request contains a NUL character (a zero byte), which no field accepts. Remove it and try again."
            )
            return bad_request(request, message=message, code="nul_character")
        return self.get_response(request)
