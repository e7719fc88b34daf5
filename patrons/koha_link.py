"""The link from every page that shows a patron to the patron in Koha's staff interface.

Koha's connection (its staff interface's address) is koha's, which stands above patrons and every app that shows
a patron (bans, the silo's billing pages, dpo). So koha registers, in its AppConfig.ready, the one function that
builds the address, and the pages ask it here (the template tag `koha_patron_link`). Without koha installed, or
without a connection, there is no link.
"""

from collections.abc import Callable

from patrons.models import Patron

# The link's markup, for the template tags and the admin's columns alike.
KOHA_LINK = "patrons/includes/koha_link.html"

# (the consortium's id, the patron's Koha id, borrowernumber) -> the patron's page in Koha's staff interface, or None
KohaPatronUrlBuilder = Callable[[int, int], str | None]

_builders: list[KohaPatronUrlBuilder] = []


def koha_patron_url_register(builder: KohaPatronUrlBuilder) -> None:
    if builder not in _builders:
        _builders.append(builder)


def koha_patron_url(*, consortium_id: int, koha_patron_id: int | None) -> str | None:
    """The patron's page in Koha's staff interface; None for a patron not (yet) in Koha or without a connection.

    The Koha id is a number that means something only inside Koha (behind its log-in), not personal data in a URL.
    """
    if koha_patron_id is None:
        return None
    for builder in _builders:
        url = builder(consortium_id, koha_patron_id)
        if url:
            return url
    return None


def koha_patron_url_of(*, patron_id: int, consortium_id: int) -> str | None:
    """The link for a page that knows the patron by id only (the DPO's request and erasure pages): the Koha id is
    read alone, no personal data. None for another consortium's patron and for one erased (a record kept under a
    legal hold is erased in Koha too)."""
    koha_patron_id = (
        Patron.objects.filter(pk=patron_id, consortium_id=consortium_id, held_after_erasure=False)
        .values_list("koha_patron_id", flat=True)
        .first()
    )
    return koha_patron_url(consortium_id=consortium_id, koha_patron_id=koha_patron_id)
