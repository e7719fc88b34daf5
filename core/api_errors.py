"""One shape for every API error: `{"detail": str, "code": str}`, in the caller's language.

Plus, where they apply:
- `"errors": {"field": ["message", ...]}` for input that failed validation (DRF's field errors; a nested
  field is named by its path, `note_ids.0`; errors of no one field are under `non_field_errors`);
- `"rule"` for a broken rule of a procedure (core.errors.RuleBroken), `{"detail", "code", "rule"}`.

The service's NotFound and Refused (core.errors) answer as DRF answers Django's Http404 and PermissionDenied,
under their own code and status (`patron_erased`, a 409 `unreadable`).

DRF's own errors (401/403 authentication and permission, 404, 405, 406, 415, 429, a body that does not
parse) get the same shape, with DRF's code (`not_authenticated`, `permission_denied`, `not_found`,
`method_not_allowed`, `not_acceptable`, `unsupported_media_type`, `throttled`, `parse_error`). Answers
written outside DRF keep it too: the network refusal (staff.ip_allowlist), a NUL character
(privacy_service.nul_guard) and the error handlers for /api/ (privacy_service.views). The OpenAPI schema
documents it as the `Error` component (core.api_schema).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.error_pages import as_django_exception
from core.errors import NotFound, Refused, RuleBroken

NON_FIELD_ERRORS = "non_field_errors"


def field_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as `{"field.path": [messages]}`."""
    if isinstance(detail, dict):
        errors: dict[str, list[str]] = {}
        for key, value in detail.items():
            errors.update(field_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return errors
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        errors = {}
        for index, value in enumerate(detail):
            errors.update(field_errors(value, f"{prefix}.{index}" if prefix else str(index)))
        return errors
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or NON_FIELD_ERRORS: [str(message) for message in messages]} if messages else {}


def _validation_body(exc: exceptions.ValidationError) -> dict:
    errors = field_errors(exc.detail)
    summary = " ".join(
        f"{field}: {message}" if field != NON_FIELD_ERRORS else message
        for field, messages in errors.items()
        for message in messages
    )
    return {"detail": summary or _("Invalid input."), "code": "invalid", "errors": errors}


def api_exception_handler(exc, context):
    if isinstance(exc, ValidationError):
        body = {"detail": " ".join(str(m) for m in exc.messages), "code": exc.code or "invalid"}
        if isinstance(exc, RuleBroken):
            body["rule"] = exc.rule
        return Response(body, status=400)
    if isinstance(exc, NotFound | Refused):
        response = exception_handler(as_django_exception(exc), context)
        assert response is not None  # DRF answers Http404 and PermissionDenied
        response.data = {"detail": str(response.data["detail"]), "code": exc.code}
        response.status_code = exc.status
        return response
    response = exception_handler(exc, context)  # DRF's: status, headers (Allow, Retry-After), Http404 and Django's 403
    if response is None:
        return None  # not an API error: a server error, answered by privacy_service.views.server_error
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc)
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": str(detail), "code": code}
    return response
