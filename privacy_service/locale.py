"""Language choice: Finnish unless the user picked another language.

Staff pages follow the user's explicit choice (the language cookie set by the
switcher), else Finnish, whatever the browser says. API clients may ask for a
language with Accept-Language, so error messages reach integrations in theirs,
and so may visitors of the public privacy notice: a patron in Eslöv reads it in
Swedish without looking for the switch (the cookie still wins).
"""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class FinnishFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        if request.path_info.startswith(("/api/", "/privacy/")):
            return super().process_request(request)
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
