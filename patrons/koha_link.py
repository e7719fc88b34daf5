"""The link from every page that shows a patron to the patron in Koha's staff interface.

Koha's connection (its staff interface's address) is koha's, which stands above patrons and every app that shows
a patron (bans, the silo's billing pages, dpo). So koha registers, in its AppConfig.ready, the one function that
builds the address, and the pages ask it here (the template tag `koha_patron_link`). Without koha installed, or
without a connection, there is no link.
"""

from collections.abc import Callable

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
