"""Printable documents (a ban decision, an access report): their page's one CSP exception, and their PDF.

A document carries its CSS inline, so that the page and its PDF are the same document. Its page
allows that inline style by the request's nonce; every other page keeps `style-src 'self'`. The PDF
is WeasyPrint's, which fetches nothing: the document has no external assets, and only data: URIs load.
"""

from django.conf import settings
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override

document_page = csp_override({**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.NONCE]})


def document_pdf(html: str, *, base_url: str) -> bytes:
    """The standalone HTML document as a PDF."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",), allow_redirects=False)
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
