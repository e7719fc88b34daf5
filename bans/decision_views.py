"""The printable decision of a library-use ban, in Finnish or Swedish, as an HTML page and as a PDF.

Who may read it is the one rule of `ban_for_reader` (also the ban's JSON API and its page): ban
deciders and the DPO through the decision archive, otherwise staff who prepare bans while the ban
is in procedure or in force. Each read is an access event of the patron's ban data (bans.selectors.ban_get).
A ban not decided yet has no decision document: 404. The PDF's file name carries the decision
number only, never the patron's name.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bans.decision_document import LANGUAGES, decision_filename, decision_html, decision_pdf
from bans.models import Ban
from bans.views import ban_for_reader
from core.documents import document_page

__all__ = ["ban_for_reader", "decision_html_view", "decision_pdf_view"]


def _decided_ban(request: HttpRequest, ban_id: int, language: str) -> Ban:
    if language not in LANGUAGES:
        raise Http404(_("A ban decision is written in Finnish (fi) or Swedish (sv)."))
    ban = ban_for_reader(request, ban_id)
    if ban.decided_on is None:
        raise Http404(_("This ban has not been decided yet, so it has no decision document."))
    return ban


@never_cache
@login_required
@require_GET
@document_page
def decision_html_view(request: HttpRequest, ban_id: int, language: str) -> HttpResponse:
    ban = _decided_ban(request, ban_id, language)
    response = HttpResponse(decision_html(ban, language, request=request), content_type="text/html; charset=utf-8")
    response["Content-Language"] = language
    return response


@never_cache
@login_required
@require_GET
def decision_pdf_view(request: HttpRequest, ban_id: int, language: str) -> HttpResponse:
    ban = _decided_ban(request, ban_id, language)
    pdf = decision_pdf(ban, language, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{decision_filename(ban, language)}"'
    response["Content-Language"] = language
    return response
