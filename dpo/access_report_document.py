"""The access report as a document: one template for the DPO's page and the PDF sent to the patron.

templates/dpo/access_report.html renders an AccessReport (dpo.access_report) in the report's language, so
what the DPO checks on screen is what the patron gets on paper. The PDF's file name holds the request
number only, never the patron's name.
"""

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import translation

from core.documents import document_pdf
from dpo.access_report import AccessReport

TEMPLATE = "dpo/access_report.html"


def access_report_filename(report: AccessReport) -> str:
    return f"access-report-{report.request_id}.pdf"


def access_report_html(report: AccessReport, *, request: HttpRequest | None = None, for_pdf: bool = False) -> str:
    """The report as a standalone HTML page; with `for_pdf`, without what only the DPO sees."""
    with translation.override(report.language):
        return render_to_string(TEMPLATE, {"report": report, "for_pdf": for_pdf}, request=request)


def access_report_pdf(report: AccessReport, *, base_url: str) -> bytes:
    """The report as a PDF (core.documents: nothing is fetched)."""
    return document_pdf(access_report_html(report, for_pdf=True), base_url=base_url)
