"""The DPO's page of an access report: the printable document itself, as the patron will get it.

Not the admin chrome: the page renders the PDF's template, so the two cannot differ. The template's
inline style carries the request's CSP nonce, allowed here only.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.documents import document_page
from core.errors import RuleBroken
from dpo.access_report import access_report_build
from dpo.access_report_document import access_report_html
from staff.access import subject_request_actor


@never_cache
@login_required
@require_GET
@document_page
def access_report_page(request: HttpRequest, request_id: int) -> HttpResponse:
    actor = subject_request_actor(request)
    try:
        report = access_report_build(actor=actor, request_id=request_id)
    except RuleBroken as broken:
        # A request of another kind has no report to show.
        raise Http404(broken.messages[0]) from None
    response = HttpResponse(access_report_html(report, request=request), content_type="text/html; charset=utf-8")
    response["Content-Language"] = report.language
    return response
