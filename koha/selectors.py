"""Reads: a consortium's Koha connection (the client every Koha feature talks through), and what Koha's
machine calls read of a patron.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from audit.actor import Actor
from audit.models import Action, DataCategory
from audit.services import access_event_record
from core.dates import today
from koha import errors
from koha.client import KohaClient
from koha.crypto import SecretUnreadable
from koha.models import KohaConnection
from patrons.models import SENSITIVE_NOTE_CATEGORIES, Note, Patron, Trusteeship
from patrons.processing import restriction_in_force
from patrons.restrictions import RestrictionInForce, restrictions_of
from patrons.selectors import RESTRICTED_READ, SelectorNotFound, logs_not_found, notice_recipient_ids, staff_patrons
from patrons.services.choices import loan_history_confirmation_due
from sotu_silo.services import identity_code_exists
from staff.models import Consortium

# Koha's staff interface page of one patron ("moremember"); Koha's staff URLs live under /cgi-bin/koha/.
KOHA_STAFF_PATRON_PATH = "/cgi-bin/koha/members/moremember.pl?borrowernumber={borrowernumber}"


def koha_staff_patron_url_builder(consortium_id: int) -> Callable[[int], str] | None:
    """What builds the links to the consortium's patrons' pages in its Koha staff interface (registered in
    patrons.koha_link), from one query: a page that lists patrons reads the connection once, not once a row. None
    when the consortium has no Koha connection or it is turned off (the consortium has left Koha, or not yet moved
    to it: the link would lead staff to a Koha they no longer, or not yet, work in). The staff interface's address
    is the connection's `staff_url`, else Koha's address (where Koha serves its REST API, usually the staff
    interface's host)."""
    connection = (
        KohaConnection.objects.filter(consortium_id=consortium_id, enabled=True).values("staff_url", "base_url").first()
    )
    if connection is None:
        return None
    address = (connection["staff_url"] or connection["base_url"]).rstrip("/")

    def patron_url(koha_patron_id: int) -> str:
        return address + KOHA_STAFF_PATRON_PATH.format(borrowernumber=int(koha_patron_id))

    return patron_url


def client_for(consortium: Consortium) -> KohaClient:
    """A client of the consortium's Koha; KohaNotConnected when it has no connection or it is turned off,
    KohaSecretUnreadable when its stored secret cannot be decrypted (so every caller, which handles
    KohaError, says Koha cannot be reached instead of failing with a server error)."""
    connection = KohaConnection.objects.of_consortium(consortium.pk).filter(enabled=True).first()
    if connection is None:
        raise errors.not_connected()
    try:
        return connection.client()
    except SecretUnreadable:
        raise errors.secret_unreadable() from None


VERSION = re.compile(r"\A[0-9]{1,6}(\.[0-9]{1,6}){0,3}\Z")


def _version(text: str) -> tuple[int, ...]:
    parts = tuple(int(part) for part in text.split("."))
    return parts + (0,) * (4 - len(parts))  # 1.2 is 1.2.0.0


def plugin_version_supported(version: str | None) -> bool:
    """Whether the Koha plugin's version (as it names itself) is at least KOHA_PLUGIN_MIN_VERSION; a missing or
    garbled one is not: an unknown plugin may call routes this service no longer has."""
    if version is None or not VERSION.match(version.strip()):
        return False
    return _version(version.strip()) >= _version(settings.KOHA_PLUGIN_MIN_VERSION)


# The mark of an adult under guardianship (edunvalvonta), listed beside the sensitive notes' categories.
TRUSTEESHIP_MARK = "trusteeship"


@dataclass(frozen=True)
class PrivacyStatus:
    """What Koha's staff interface shows beside a patron: facts and categories, never a text or a code."""

    patron_id: int
    koha_patron_id: int
    restrictions: list[RestrictionInForce]
    sensitive_marks: list[str]
    notices_to_guardians: bool
    # GDPR Art. 18: the patron's data may only be stored; Koha's staff must not change or bill it.
    processing_restricted: bool
    loan_history: int
    # The patron's recorded choice of `loan_history` (when, and who chose: patrons.LoanHistoryChooser), or None
    # and None: a value from Koha (koha_sync) or nobody asked, never chosen here.
    loan_history_chosen_on: datetime.date | None
    loan_history_chosen_by: str | None
    # The birthday (15 or 18) since which the recorded choice awaits the patron's confirmation, or None.
    loan_history_confirmation_due: int | None
    identity_code_stored: bool
    # Where this service shows the patron (and, when a code is stored, billing's reveal), service-relative paths
    # the plugin makes absolute: Koha's billing clerks get a link, never a code.
    links: dict[str, str | None]


def _sensitive_marks(patron: Patron) -> list[str]:
    categories = set(
        Note.objects.filter(patron=patron, category__in=SENSITIVE_NOTE_CATEGORIES, removed_at__isnull=True)
        .values_list("category", flat=True)
        .distinct()
    )
    if Trusteeship.objects.filter(patron=patron).exists():
        categories.add(TRUSTEESHIP_MARK)
    return sorted(categories)


@logs_not_found
def patron_privacy_status(*, actor: Actor, koha_patron_id: int, day: datetime.date | None = None) -> PrivacyStatus:
    """The privacy status of the actor's consortium's patron with this Koha id; another consortium's patron, and
    a record an erasure kept under a legal hold (patrons.selectors.staff_patrons: Koha's staff reach no more than
    the service's), are not found, like a missing one. Logged as one event of the privacy-status category, marked
    as a read of a restricted patron (GDPR Art. 18) as the service's own reads are."""
    with transaction.atomic():
        patron = staff_patrons(actor).prefetch_related("guardianships").filter(koha_patron_id=koha_patron_id).first()
        if patron is None:
            raise SelectorNotFound(Action.KOHA_PRIVACY_STATUS)
        day = day or today()
        code_stored = identity_code_exists(patron_id=patron.pk)
        restricted = restriction_in_force(patron.pk) is not None
        status = PrivacyStatus(
            patron_id=patron.pk,
            koha_patron_id=koha_patron_id,
            restrictions=[item for section in restrictions_of(patron, day) for item in section.in_force],
            sensitive_marks=_sensitive_marks(patron),
            notices_to_guardians=notice_recipient_ids(patron, day) != [patron.pk],
            processing_restricted=restricted,
            loan_history=patron.loan_history,
            loan_history_chosen_on=patron.loan_history_chosen_on,
            loan_history_chosen_by=patron.loan_history_chosen_by or None,
            loan_history_confirmation_due=loan_history_confirmation_due(patron, day),
            identity_code_stored=code_stored,
            links={
                "patron": reverse("patrons:detail", args=[patron.pk]),
                # A restricted patron is not billed (GDPR Art. 18(2)): billing would refuse the reveal.
                "billing": reverse("billing:reveal", args=[patron.pk]) if code_stored and not restricted else None,
            },
        )
        access_event_record(
            actor=actor,
            action=Action.KOHA_PRIVACY_STATUS,
            patron_ids=[patron.pk],
            data_categories=[DataCategory.PRIVACY_STATUS],
            detail=RESTRICTED_READ if status.processing_restricted else "",
        )
    return status
