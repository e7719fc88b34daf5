"""`{% koha_patron_link patron %}`: the patron's page in Koha's staff interface, on every page that shows a patron."""

from django import template

from patrons.koha_link import KOHA_LINK, KohaPatronLinks, koha_patron_url, koha_patron_url_of

register = template.Library()


@register.inclusion_tag(KOHA_LINK)
def koha_patron_link(patron) -> dict:
    """Nothing when the patron has no Koha id or the consortium no Koha connection (patrons.koha_link)."""
    return {"url": koha_patron_url(consortium_id=patron.consortium_id, koha_patron_id=patron.koha_patron_id)}


@register.inclusion_tag(KOHA_LINK)
def koha_patron_link_of(patron_id: int, consortium_id: int) -> dict:
    """The same link on a page that knows the patron by id only (patrons.koha_link.koha_patron_url_of)."""
    return {"url": koha_patron_url_of(patron_id=patron_id, consortium_id=consortium_id)}


@register.simple_tag
def koha_patron_links() -> KohaPatronLinks:
    """`{% koha_patron_links as koha_links %}` before a list's rows, then `{% koha_patron_link_in koha_links patron %}`
    in each: the consortium's connection is read once for the whole list (patrons.koha_link.KohaPatronLinks)."""
    return KohaPatronLinks()


@register.inclusion_tag(KOHA_LINK)
def koha_patron_link_in(links: KohaPatronLinks, patron) -> dict:
    """A list's row's link, built from the list's KohaPatronLinks."""
    return {"url": links.url(consortium_id=patron.consortium_id, koha_patron_id=patron.koha_patron_id)}
