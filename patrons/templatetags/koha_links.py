"""`{% koha_patron_link patron %}`: the patron's page in Koha's staff interface, on every page that shows a patron."""

from django import template

from patrons.koha_link import koha_patron_url

register = template.Library()


@register.inclusion_tag("patrons/includes/koha_link.html")
def koha_patron_link(patron) -> dict:
    """Nothing when the patron has no Koha id or the consortium no Koha connection (patrons.koha_link)."""
    return {"url": koha_patron_url(consortium_id=patron.consortium_id, koha_patron_id=patron.koha_patron_id)}
