"""One date format per language (privacy_service/formats/), on pages and in messages alike; counts in plural.

Finnish and Finland-Swedish write 03.12.2026, Sweden's Swedish 2026-12-03, English 3 Dec 2026.
"""

import datetime
import uuid

import pytest
from django.conf import settings
from django.utils import timezone, translation

from core.dates import shown_date
from sotu_silo.models import IdentityCodeConflict
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 7)


@pytest.mark.parametrize(
    ("language", "shown"), [("fi", "07.03.2026"), ("sv", "2026-03-07"), ("sv-fi", "07.03.2026"), ("en", "7 Mar 2026")]
)
def test_one_date_format_per_language(language, shown):
    with translation.override(language):
        assert shown_date(DAY) == shown
        assert translation.gettext("Personal identity code")  # the language is active, not a fallback


@pytest.mark.parametrize(
    ("username", "chosen", "pattern"),
    [
        ("rovaniemi.staff", None, "%d.%m.%Y"),
        ("rovaniemi.staff", "sv", "%d.%m.%Y"),  # Finland-Swedish
        ("eslov.staff", None, "%Y-%m-%d"),  # Sweden's Swedish
        ("rovaniemi.staff", "en", "{day} %b %Y"),
    ],
)
def test_the_patron_page_shows_the_date_of_birth_in_the_pages_language(
    username, chosen, pattern, lapland_patron, eslov_patron
):
    patron = eslov_patron if username.startswith("eslov") else lapland_patron
    client = client_for(username)
    if chosen:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = chosen
    page = client.get(f"/patrons/{patron.pk}/").content.decode()
    born = patron.date_of_birth
    assert born.strftime(pattern.replace("{day}", str(born.day))) in page


def waiting_conflicts(patron, count: int) -> None:
    """`count` conflicts waiting for billing (only counted on the page, so their contents do not matter)."""
    for _ in range(count):
        IdentityCodeConflict.objects.create(
            entry=uuid.uuid4(),
            patron_id=patron.pk,
            holder_patron_id=patron.pk,
            consortium_id=patron.consortium_id,
            country="FI",
            nonce=b"0" * 12,
            ciphertext=b"-",
            entered_at=timezone.now(),
            entered_by="rovaniemi.staff",
        )


@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("fi", "1 henkilötunnusristiriita odottaa", "2 henkilötunnusristiriitaa odottaa"),
        ("sv", "1 konflikt om personbeteckning väntar", "2 konflikter om personbeteckningar väntar"),
        ("en", "1 identity code conflict waits", "2 identity code conflicts wait"),
    ],
)
def test_the_billing_page_counts_conflicts_with_one_and_two(language, one, two, lapland_patron):
    client = client_for("rovaniemi.billing")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    waiting_conflicts(lapland_patron, 1)
    assert one in client.get("/billing/").content.decode()
    waiting_conflicts(lapland_patron, 1)
    assert two in client.get("/billing/").content.decode()
