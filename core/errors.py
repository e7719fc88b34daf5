"""A broken rule of a procedure: a ValidationError whose code names the rule.

The API answers it with a 400 `{"detail": <message in the caller's language>, "code": <rule>}`;
pages show the message next to the form. Services raise it before writing anything.
"""

from django.core.exceptions import ValidationError
from django.utils.functional import Promise


class RuleBroken(ValidationError):
    def __init__(self, rule: str, message: str | Promise, **params) -> None:
        super().__init__(message, code=rule, params=params or None)

    @property
    def rule(self) -> str:
        return self.code
