"""What can go wrong when talking to Koha, as exceptions with a message for the operator.

Each message says what to do, in the user's language, and holds no personal data: never a patron's field,
never the secret, and a URL only without its query string (a `q` filter can carry a name or a card number).
Koha's own `error` text is not copied into the message either: for some routes it echoes the input.
"""

from django.utils.functional import Promise
from django.utils.translation import gettext as _


class KohaError(Exception):
    """Base of the Koha errors; `code` names the kind, `message` is the text for the operator."""

    code = "koha_error"

    def __init__(self, message: str | Promise, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url  # without its query string
        self.status = status

    def __str__(self) -> str:
        return str(self.message)


class KohaUnreachable(KohaError):
    """No answer (network, timeout) or a server error (5xx, 429) even after the retries."""

    code = "koha_unreachable"


class KohaAuthFailed(KohaError):
    """401/403: the client id and secret (or Basic user and password) are wrong, or lack a permission."""

    code = "koha_auth_failed"


class KohaSecretUnreadable(KohaError):
    """The stored secret cannot be decrypted: its key is gone from KOHA_CREDENTIAL_KEYS, or the row was altered.
    Nothing can reach Koha until the secret is set again; callers treat it like any other KohaError."""

    code = "koha_secret_unreadable"


class KohaNotFound(KohaError):
    """404; `error_code` is Koha's own code for it when the answer has one (a plugin's `patron_not_found`)."""

    code = "koha_not_found"

    def __init__(
        self, message: str | Promise, *, error_code: str = "", url: str = "", status: int | None = None
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.error_code = error_code


class KohaPluginMissing(KohaError):
    """404 from a route of the patron privacy plugin that the plugin itself never answers so: the route is not
    there (the plugin uninstalled or disabled, Koha's plugins switched off, or Plack not restarted since)."""

    code = "koha_plugin_missing"


class KohaRefused(KohaError):
    """409: Koha refuses the change, for the reason named by Koha's `error_code` (e.g. `has_checkouts`)."""

    code = "koha_refused"

    def __init__(self, message: str | Promise, *, error_code: str, url: str = "", status: int | None = None) -> None:
        super().__init__(message, url=url, status=status)
        self.error_code = error_code


class KohaNotConnected(KohaError):
    """The consortium has no Koha connection, or it is turned off."""

    code = "koha_not_connected"


class KohaBadAnswer(KohaError):
    """An answer this service cannot use: not JSON, not the expected shape, or an unexpected status (400)."""

    code = "koha_bad_answer"


def unreachable(url: str, *, status: int | None = None) -> KohaUnreachable:
    if status is None:
        message = _("Koha at %(url)s did not answer. Check the address and that Koha is running; try again later.")
    else:
        message = _("Koha at %(url)s answered with a server error (%(status)s). Try again later.")
    return KohaUnreachable(message % {"url": url, "status": status}, url=url, status=status)


def auth_failed(url: str, *, status: int) -> KohaAuthFailed:
    if status == 403:
        message = _(
            "Koha refused the request at %(url)s (403): check the client id and secret, and that the API key's "
            "patron has the permissions this service needs."
        )
    else:
        message = _("Koha did not accept the credentials at %(url)s (401): check the client id and secret.")
    return KohaAuthFailed(message % {"url": url}, url=url, status=status)


def oauth2_unavailable(url: str) -> KohaAuthFailed:
    """Koha answers the token request with 400 when OAuth2 client credentials are off."""
    message = _(
        "Koha at %(url)s does not offer OAuth2 client credentials: turn on its RESTOAuth2ClientCredentials "
        "system preference, or connect with Basic authentication."
    )
    return KohaAuthFailed(message % {"url": url}, url=url, status=400)


def not_connected() -> "KohaNotConnected":
    return KohaNotConnected(
        _("This consortium has no Koha connection in use. Set one up with `manage.py koha_connect`.")
    )


def secret_unreadable() -> KohaSecretUnreadable:
    return KohaSecretUnreadable(
        _(
            "The stored Koha secret cannot be read (its key is missing or the stored value was altered). "
            "Set it again with `manage.py koha_connect`."
        )
    )


def not_found(url: str, *, error_code: str = "") -> KohaNotFound:
    return KohaNotFound(
        _("Koha has no such object at %(url)s.") % {"url": url}, error_code=error_code, url=url, status=404
    )


def plugin_missing(url: str) -> KohaPluginMissing:
    return KohaPluginMissing(
        _(
            "Koha has no patron privacy plugin route at %(url)s: check that the plugin is installed and enabled "
            "in Koha, and that Koha (Plack) was restarted after installing it."
        )
        % {"url": url},
        url=url,
        status=404,
    )


def refused(url: str, *, error_code: str) -> KohaRefused:
    return KohaRefused(
        _("Koha refused the change at %(url)s (reason: %(code)s).") % {"url": url, "code": error_code},
        error_code=error_code,
        url=url,
        status=409,
    )


def bad_answer(url: str, *, status: int | None = None) -> KohaBadAnswer:
    return KohaBadAnswer(
        _("Koha's answer at %(url)s could not be used (status %(status)s).") % {"url": url, "status": status},
        url=url,
        status=status,
    )
