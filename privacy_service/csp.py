"""The Content Security Policy's one exception: printable documents.

A ban decision and an access report carry their CSS inline, so that the page and its PDF
(WeasyPrint, which fetches nothing) are the same document. Their pages allow that inline style
by the request's nonce; every other page keeps `style-src 'self'`.
"""

from django.conf import settings
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override

document_page = csp_override({**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.NONCE]})
