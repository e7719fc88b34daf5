"""Registration here creates the patron in Koha first (POST /api/v1/patrons), so Koha stays the register.

Registered as patrons' upstream creator (patrons/upstream.py) in KohaConfig.ready. Koha's refusal or silence
becomes a RuleBroken whose message names no personal data (koha.errors), and the registration stops before
anything is saved here.
"""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.errors import RuleBroken
from koha.errors import KohaError, KohaNotConnected, KohaRefused
from koha.selectors import client_for
from patrons.models import Patron


def _koha_body(patron: Patron) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cardnumber": patron.cardnumber,
        "surname": patron.last_name,
        "firstname": patron.first_name,
        "library_id": patron.home_library.koha_library_id,
        "category_id": settings.KOHA_PATRON_CATEGORY,
        "privacy": patron.loan_history,
        "lang": patron.language,
        "email": patron.email,
        "phone": patron.phone,
        "address": patron.street_address,
        "postal_code": patron.postal_code,
        "city": patron.city,
        "date_of_birth": patron.date_of_birth.isoformat() if patron.date_of_birth else None,
    }
    return {name: value for name, value in body.items() if value not in (None, "")}


def koha_patron_create(patron: Patron) -> int | None:
    """Koha's patron id for the new patron; None when the consortium has no Koha connection in use."""
    try:
        client = client_for(patron.consortium)
    except KohaNotConnected:
        return None
    try:
        created = client.patron_create(_koha_body(patron))
    except KohaRefused as error:
        if error.error_code == "conflict":
            raise RuleBroken("koha_cardnumber_taken", _("Koha already has a patron with this card number.")) from None
        raise RuleBroken("koha_refused", _("Koha refused the registration: %(error)s"), error=str(error)) from None
    except KohaError as error:
        raise RuleBroken(
            "koha_unavailable",
            _("The patron was not registered, because Koha did not create it: %(error)s"),
            error=str(error),
        ) from None
    return int(created["patron_id"])
