"""Language choice: the user's own, else their consortium's, else Finnish; Swedish as spoken where they work.

Staff pages speak, whatever the browser says:
1. the language the user picked with the switcher (the language cookie);
2. else their consortium's language: Swedish in Sweden, Finnish in Finland;
3. else (before log-in, a user without a consortium) Finnish.

Swedish comes in two variants with different legal terms: `sv`, Swedish as in Sweden (personnummer, god man),
and `sv-fi`, Finland-Swedish (personbeteckning, intressebevakning). `locale/sv` holds Sweden's Swedish and the
hand-kept `locale/sv_FI` only the messages Finland-Swedish words otherwise; gettext reads sv_FI then sv for
`sv-fi`, and never sv_FI for plain `sv` (the glibc convention; a `locale/sv_SE` would be read for plain `sv`
too, since Python expands `sv` to sv_SE). Swedish is `sv` for a consortium in Sweden and `sv-fi` everywhere
else: in a Finnish consortium and when the country is not known (the product's home is Finland). The switcher
offers one "SV" (LANGUAGES stays fi, sv, en: `sv-fi` is activated here, not listed, so the switcher, the
models' language choices and Koha's language codes keep three languages).

API clients may ask for a language with Accept-Language, so error messages reach integrations in theirs,
and so may visitors of the public privacy notice: a patron in Eslöv reads it in Swedish without looking
for the switch (the cookie still wins). Their Swedish is the notice's consortium's country's, else the
browser's (`sv-SE` is Sweden's; `sv-FI` or a bare `sv` Finland's).

One rule (`staff_language`), applied twice: before the session is read (so the NUL guard's refusal, which
must not load the session, is in the chosen language) with the cookie only, and after authentication with
the user's consortium.
"""

import re

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from staff.language import swedish_variant
from staff.models import Jurisdiction
from staff.selectors import jurisdiction_of_slug, jurisdiction_of_user

_CONSORTIUM_LANGUAGE: dict[str | None, str] = {Jurisdiction.FINLAND: "fi", Jurisdiction.SWEDEN: "sv"}
_NOTICE_PATH = re.compile(r"^/privacy/(?P<slug>[-\w]+)/")
_BROWSER_SWEDISH = re.compile(r"(?:^|,)\s*sv(?:-(?P<region>[a-z]{2}))?\s*(?:;|,|$)", re.IGNORECASE)


def staff_language(*, chosen: str | None, jurisdiction: str | None) -> str:
    """The language of a staff page: the user's choice, else their consortium's, else Finnish; Swedish in the
    variant of the consortium's country."""
    supported = {code for code, _name in settings.LANGUAGES}
    language = chosen if chosen in supported else _CONSORTIUM_LANGUAGE.get(jurisdiction, settings.LANGUAGE_CODE)
    return swedish_variant(language, jurisdiction=jurisdiction)


def browser_jurisdiction(accept_language: str) -> str | None:
    """The country of the browser's first Swedish (`sv-SE` Sweden, `sv-FI` Finland), None for a bare `sv`."""
    match = _BROWSER_SWEDISH.search(accept_language)
    region = (match.group("region") or "").upper() if match else ""
    return region if region in Jurisdiction.values else None


def _follows_the_browser(request: HttpRequest) -> bool:
    return request.path_info.startswith(("/api/", "/privacy/"))


def _activate(request: HttpRequest, language: str) -> None:
    translation.activate(language)
    request.LANGUAGE_CODE = translation.get_language()


def _browser_language(request: HttpRequest) -> str:
    """The cookie's or Accept-Language's language (Django's rule), in the Swedish of the notice's consortium
    when the address names one, else of the browser's country."""
    language = translation.get_language_from_request(request)
    if language != "sv":
        return language
    notice = _NOTICE_PATH.match(request.path_info)
    jurisdiction = jurisdiction_of_slug(notice["slug"]) if notice else None
    if jurisdiction is None:
        jurisdiction = browser_jurisdiction(request.headers.get("accept-language", ""))
    return swedish_variant(language, jurisdiction=jurisdiction)


class FinnishFirstLocaleMiddleware(LocaleMiddleware):
    """Before the session is read: the user's choice, else Finnish (the browser's on /api/ and /privacy/)."""

    def process_request(self, request):
        if _follows_the_browser(request):
            _activate(request, _browser_language(request))
            return
        _activate(request, staff_language(chosen=request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME), jurisdiction=None))


class ConsortiumLanguageMiddleware:
    """After authentication: the language of the user's consortium when they have not chosen one; the
    consortium comes with the staff profile that the rest of the request reuses (no query of its own)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if not _follows_the_browser(request):
            jurisdiction = jurisdiction_of_user(request.user)
            if jurisdiction is not None:
                chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
                _activate(request, staff_language(chosen=chosen, jurisdiction=jurisdiction))
        return self.get_response(request)
