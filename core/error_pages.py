"""Pages answer the error vocabulary (core.errors) as Django answers its own HTTP exceptions.

NotFound is handled as Http404 and Refused as PermissionDenied, through the project's handler404 and
handler403, so the pages, logging and status are those of a view that raised Django's exceptions itself.
The API answers them in core.api_errors (DRF catches an API view's exceptions before any middleware).
"""

from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpRequest, HttpResponse

from core.errors import NotFound, Refused


def as_django_exception(exception: Exception) -> Exception:
    """NotFound as Http404 and Refused as PermissionDenied, message kept; anything else as it is."""
    if isinstance(exception, NotFound):
        return Http404(*exception.args)
    if isinstance(exception, Refused):
        return PermissionDenied(*exception.args)
    return exception


class ErrorVocabularyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound | Refused):
            return response_for_exception(request, as_django_exception(exception))
        return None
