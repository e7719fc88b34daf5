"""The link from every page that shows a patron to the patron in Koha's staff interface.

Koha's connection (its staff interface's address) is koha's, which stands above patrons and every app that shows
a patron (bans, the silo's billing pages, dpo). So koha registers, in its AppConfig.ready, the one function that
builds the address, and the pages ask it here (the template tag `koha_patron_link`; a list reads the connection
once: `koha_patron_links` and `koha_patron_link_in`). Without koha installed, or
without a connection, there is no link.
"""

from collections.abc import Callable

from core.process_cache import ProcessCache
from patrons.models import Patron

# The link's markup, for the template tags and the admin's columns alike.
KOHA_LINK = "patrons/includes/koha_link.html"

# (the consortium's id) -> what builds its patrons' pages in Koha's staff interface from their Koha ids
# (borrowernumber), read with one query; None without a connection
KohaPatronUrlBuilder = Callable[[int], Callable[[int], str] | None]

_builders: list[KohaPatronUrlBuilder] = []
# Each consortium's builder, read once per CONFIGURATION_CACHE_SECONDS per process (the connection's address is no
# security decision); koha clears it when a connection changes (koha_patron_links_forget).
_consortium_builders: ProcessCache[Callable[[int], str] | None] = ProcessCache()


def koha_patron_url_register(builder: KohaPatronUrlBuilder) -> None:
    if builder not in _builders:
        _builders.append(builder)


class KohaPatronLinks:
    """The links of a page that shows patrons: each consortium's connection is read once (at its first patron's
    row), then every row's link is built without a query, so a list of 25 patrons costs one query, not 25.

    The Koha id is a number that means something only inside Koha (behind its log-in), not personal data in a URL.
    """

    def __init__(self) -> None:
        self._of_consortium: dict[int, Callable[[int], str] | None] = {}

    def url(self, *, consortium_id: int, koha_patron_id: int | None) -> str | None:
        """The patron's page in Koha's staff interface; None for a patron not (yet) in Koha or without a
        connection."""
        if koha_patron_id is None:
            return None
        if consortium_id not in self._of_consortium:
            self._of_consortium[consortium_id] = _consortium_builders.get(
                consortium_id,
                lambda: next(
                    (build for build in (builder(consortium_id) for builder in _builders) if build is not None), None
                ),
            )
        build = self._of_consortium[consortium_id]
        return build(koha_patron_id) if build is not None else None


def koha_patron_links_forget(**_signal_kwargs) -> None:
    """A signal receiver (koha's, for its connections): the links are built afresh from the next request on."""
    _consortium_builders.clear()


def koha_patron_url(*, consortium_id: int, koha_patron_id: int | None) -> str | None:
    """The link of a page that shows one patron (KohaPatronLinks.url)."""
    return KohaPatronLinks().url(consortium_id=consortium_id, koha_patron_id=koha_patron_id)


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
