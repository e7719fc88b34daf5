"""The OpenAPI schema lists every error an operation can answer, with its one JSON shape (`Error`).

drf-spectacular documents the success responses; this AutoSchema adds the errors every operation shares
(core.api_errors answers them all as `{"detail", "code"}` plus `errors` or `rule`):
- 400 for every operation: a field that fails validation, a broken rule, or a NUL character anywhere;
- 403 for every operation: not logged in, a role that may not, a network the user may not work from, or a
  write without the CSRF token;
- 404 when the path names an object (another consortium's is not found either);
- 406 for every operation: an `Accept` header that excludes JSON;
- 415 when the operation takes a body: a body that is not JSON (or a form);
- 429 when the view is throttled.
An operation may declare more (409, a 404 without path parameters) or describe one more precisely with
`OpenApiResponse(description=...)` in its `extend_schema`; the body is always `Error`.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `errors` names each field that failed and why; a broken rule of the procedure is "
    "named in `rule`; a NUL character anywhere in the request is `nul_character`.",
    "403": "Not logged in (`not_authenticated`), a role that may not do this (`permission_denied`), a network "
    "the user may not work from (`network_not_allowed`), or a write without the CSRF token.",
    "404": "No such object in the caller's consortium (`not_found`).",
    "406": "The `Accept` header excludes JSON (`not_acceptable`).",
    "409": "Conflict with what is stored.",
    "415": "The body is not JSON (`unsupported_media_type`).",
    "429": "Too many requests (`throttled`); `Retry-After` says when to try again.",
}


class ErrorSerializer(serializers.Serializer):
    """Every API error. Clients branch on `code`; `detail` is for people, in the caller's language."""

    detail = serializers.CharField(help_text="What went wrong, in the language of `Accept-Language`.")
    code = serializers.CharField(
        help_text="A stable name for the error: e.g. `invalid`, `not_found`, `permission_denied`, or the rule's name."
    )
    errors = serializers.DictField(  # type: ignore[assignment]  # a field named as Serializer.errors: never validated
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Invalid input only: each field's messages; a nested field is named by its path (`note_ids.0`), "
        "an error of no one field is under `non_field_errors`.",
    )
    rule = serializers.CharField(required=False, help_text="A broken rule of a procedure: the rule's name.")


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        statuses = ["400", "403", "406"]
        if "{" in self.path:
            statuses.append("404")
        if "requestBody" in operation:
            statuses.append("415")
        if self.view.get_throttles():
            statuses.append("429")
        responses = operation["responses"]
        for status in statuses:
            responses.setdefault(status, {})
        error = {"application/json": {"schema": self.resolve_serializer(ErrorSerializer, "response").ref}}
        for status, response in responses.items():
            if int(status) >= 400:
                response["content"] = error
                response["description"] = response.get("description") or ERROR_DESCRIPTIONS.get(status, "")
        operation["responses"] = dict(sorted(responses.items()))
        return operation
