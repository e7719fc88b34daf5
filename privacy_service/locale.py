"""Language choice: the user's own, else their consortium's, else Finnish.

Staff pages speak, whatever the browser says:
1. the language the user picked with the switcher (the language cookie);
2. else their consortium's language: Swedish in Sweden, Finnish in Finland;
3. else (before log-in, a user without a consortium) Finnish.
Swedish in a consortium in Sweden is the variant `sv-se` (today the texts of `sv`, which gettext finds for
it; the place for Sweden's terms and dates). The switcher offers one "SV"; a Swede who picks it gets
`sv-se`, a Finn `sv`.

API clients may ask for a language with Accept-Language, so error messages reach integrations in theirs,
and so may visitors of the public privacy notice: a patron in Eslöv reads it in Swedish without looking
for the switch (the cookie still wins).

One rule (`staff_language`), applied twice: before the session is read (so the NUL guard's refusal, which
must not load the session, is in the chosen language) with the cookie only, and after authentication with
the user's consortium.
"""

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from staff.models import Jurisdiction
from staff.selectors import consortium_id_of, jurisdiction_of

SWEDEN_SWEDISH = "sv-se"
_CONSORTIUM_LANGUAGE: dict[str | None, str] = {Jurisdiction.FINLAND: "fi", Jurisdiction.SWEDEN: "sv"}


def staff_language(*, chosen: str | None, jurisdiction: str | None) -> str:
    """The language of a staff page: the user's choice, else their consortium's, else Finnish; in Sweden's
    variant of Swedish for a consortium in Sweden."""
    supported = {code for code, _name in settings.LANGUAGES}
    language = chosen if chosen in supported else _CONSORTIUM_LANGUAGE.get(jurisdiction, settings.LANGUAGE_CODE)
    if language == "sv" and jurisdiction == Jurisdiction.SWEDEN:
        return SWEDEN_SWEDISH
    return language


def _follows_the_browser(request: HttpRequest) -> bool:
    return request.path_info.startswith(("/api/", "/privacy/"))


def _activate(request: HttpRequest, language: str) -> None:
    translation.activate(language)
    request.LANGUAGE_CODE = translation.get_language()


class FinnishFirstLocaleMiddleware(LocaleMiddleware):
    """Before the session is read: the user's choice, else Finnish."""

    def process_request(self, request):
        if _follows_the_browser(request):
            return super().process_request(request)
        _activate(request, staff_language(chosen=request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME), jurisdiction=None))


class ConsortiumLanguageMiddleware:
    """After authentication: the language of the user's consortium when they have not chosen one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if not _follows_the_browser(request):
            jurisdiction = jurisdiction_of(consortium_id_of(request.user))
            if jurisdiction is not None:
                chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
                _activate(request, staff_language(chosen=chosen, jurisdiction=jurisdiction))
        return self.get_response(request)
