"""The public privacy notice (tietosuojaseloste, integritetsmeddelande): no login, from any network.

Built from the consortium's register descriptions in the visitor's language. It says what a library keeps
and why, never anything about a patron, so it needs neither an actor nor an access event.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_safe

from dpo.register_selectors import consortia_with_notice, privacy_notice_get


@require_safe
def privacy_index(request: HttpRequest) -> HttpResponse:
    """The consortia with a notice, one link each."""
    return render(request, "privacy/index.html", {"consortia": consortia_with_notice()})


@require_safe
def privacy_notice(request: HttpRequest, consortium: str) -> HttpResponse:
    notice = privacy_notice_get(consortium_slug=consortium, language=translation.get_language())
    if notice is None:
        raise Http404
    return render(request, "privacy/notice.html", {"notice": notice})
