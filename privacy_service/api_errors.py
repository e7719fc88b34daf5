"""API errors: domain validation errors are 400s with a message in the caller's language."""

from django.core.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from sotu_silo.services import IdentityCodeUnreadable


def api_exception_handler(exc, context):
    if isinstance(exc, ValidationError):
        return Response({"detail": " ".join(str(m) for m in exc.messages), "code": exc.code or "invalid"}, status=400)
    if isinstance(exc, IdentityCodeUnreadable):
        return Response({"detail": str(exc.message), "code": "unreadable"}, status=409)
    return exception_handler(exc, context)
