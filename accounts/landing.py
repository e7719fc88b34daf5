"""Where each role lands after log-in and on `/`: the page where its day's work is.

A user with several roles lands on the first of LANDINGS that they have, in this order:
the data protection officer's admin dashboard (its deadlines are the shortest: a breach within 72
hours), the ban decider's queue (decisions and appeals with legal dates; the queue links on to the
search), the billing clerk's page, and the staff's patron search. A superuser without a role lands on
the admin site they administer; a user with no role at all on the search, which says why it is closed.
An explicit `next` (a same-origin path) wins over all of these (accounts.views).
"""

from django.urls import reverse

from accounts.roles import BAN_DECIDER, BILLING, DPO, STAFF

LANDINGS = ((DPO, "admin:index"), (BAN_DECIDER, "bans:queue"), (BILLING, "billing:index"), (STAFF, "patrons:search"))


def landing_url(user) -> str:
    """The path of the user's landing page."""
    roles = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
    for role, view_name in LANDINGS:
        if role in roles:
            return reverse(view_name)
    return reverse("admin:index" if user.is_superuser else "patrons:search")
