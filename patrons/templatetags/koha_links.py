"""`{% koha_patron_link patron %}`: the patron's page in Koha's staff interface, on every page that shows a patron."""

from django import template

from patrons.koha_link import KOHA_LINK, koha_patron_url, koha_patron_url_of

register = template.Library()


@register.inclusion_tag(KOHA_LINK)
def koha_patron_link(patron) -> dict:
    """Nothing when the patron has no Koha id or the consortium no Koha connection (patrons.koha_link)."""
    return {"url": koha_patron_url(consortium_id=patron.consortium_id, koha_patron_id=patron.koha_patron_id)}


@register.inclusion_tag(KOHA_LINK)
def koha_patron_link_of(patron_id: int, consortium_id: int) -> dict:
    """The same link on a page that knows the patron by id only (patrons.koha_link.koha_patron_url_of)."""
    return {"url": koha_patron_url_of(patron_id=patron_id, consortium_id=consortium_id)}
