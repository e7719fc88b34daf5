"""API errors: domain validation errors are 400s with a message in the caller's language.

A broken rule of a procedure (patrons.services.RuleBroken) also names the rule: `{"detail", "code", "rule"}`.
"""

from django.core.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from patrons.services.errors import RuleBroken
from sotu_silo.services import IdentityCodeUnreadable


def api_exception_handler(exc, context):
    if isinstance(exc, ValidationError):
        body = {"detail": " ".join(str(m) for m in exc.messages), "code": exc.code or "invalid"}
        if isinstance(exc, RuleBroken):
            body["rule"] = exc.rule
        return Response(body, status=400)
    if isinstance(exc, IdentityCodeUnreadable):
        return Response({"detail": str(exc.message), "code": "unreadable"}, status=409)
    return exception_handler(exc, context)
