"""The service's one error vocabulary: a broken rule, an object not found, a refusal.

Services and selectors raise these and never Django's HTTP exceptions (they do not import django.http):
the answer is the web layer's. Pages get it from core.error_pages.ErrorVocabularyMiddleware (the 404 or
403 page, as for Django's own Http404 and PermissionDenied), the API from core.api_errors (one shape,
`{"detail", "code"}`).
"""

from typing import TYPE_CHECKING, cast

from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class RuleBroken(ValidationError):
    """A broken rule of a procedure: a ValidationError whose code names the rule.

    The API answers it with a 400 `{"detail": <message in the caller's language>, "code": <rule>}`;
    pages show the message next to the form. Services raise it before writing anything.
    """

    def __init__(self, rule: str, message: "str | StrPromise", **params) -> None:
        super().__init__(message, code=rule, params=params or None)

    @property
    def rule(self) -> str:
        return cast(str, self.code)  # __init__ sets the code to the rule


class NotFound(Exception):
    """The object does not exist for this actor: another consortium's object is not found either, so that
    the answer tells nothing of what other consortia hold.

    A 404. The message, if given, is the API's `detail`; a subclass may name its own `code` where the
    caller can act on the reason (`patron_erased`).
    """

    code = "not_found"
    status = 404


class Refused(Exception):
    """The actor may not do this. A 403; the message, if given, is shown on the page and in the API.

    A subclass may name its own `code`, and the API status where 403 would mislead: a stored identity code
    that fails its integrity check is refused as a 409 `unreadable`.
    """

    code = "permission_denied"
    status = 403
