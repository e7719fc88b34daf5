"""What comes next in a ban's procedure and who does it: the sentence each ban page shows under its title.

One place beside bans.state (which says which forms a page offers): here, in the desk's words, which step the
procedure waits for and whose step it is, so that nobody wonders after saving a step whether it is theirs.
"""

from django.utils.translation import gettext as _

from bans.models import Ban, BanState
from core.dates import shown_date

PREPARERS = "preparers"  # staff who prepare bans (bans.prepare_ban): the hearing, the notices
DECIDERS = "deciders"  # ban deciders with competence for the library (bans.DecisionCompetence)


def _who(whose: str, ban: Ban) -> str:
    if whose == DECIDERS:
        return _("a ban decider with competence for the libraries of %(municipality)s") % {
            "municipality": ban.library.municipality.name
        }
    return _("the library staff who prepare bans")


def _step(ban: Ban, state: str) -> tuple[str, str] | None:
    """(what comes next, whose step) for a ban in `state`; None when nothing does."""
    if state == BanState.PROPOSED:
        return _("hear the patron (Administrative Procedure Act s. 34), or record why not"), PREPARERS
    if state in (BanState.HEARD, BanState.HEARING_WAIVED):
        return _("the decision"), DECIDERS
    if state == BanState.DECIDED:
        return _("send the decision to the patron and record how it was sent"), PREPARERS
    arrives = _("a rectification request that arrives is recorded")
    if state == BanState.NOTIFIED:
        waits = _("wait for the rectification period to end on %(date)s") % {"date": shown_date(ban.appeal_deadline)}
        return f"{waits}; {arrives}", DECIDERS
    if state == BanState.SCHEDULED:
        return _("nothing: the ban starts on %(date)s by itself") % {
            "date": shown_date(ban.starts_on)
        } + f"; {arrives}", DECIDERS
    if state == BanState.ACTIVE:
        return _("nothing: the ban ends after %(date)s by itself") % {
            "date": shown_date(ban.ends_on)
        } + f"; {arrives}", DECIDERS
    return None


def next_step_text(ban: Ban, state: str) -> str:
    """'Next: <the step>, by <who>.' for a ban in `state` (bans.state.ban_state); what a closed ban's page says."""
    step = _step(ban, state)
    if step is None:
        return _("Nothing more: the procedure is over.")
    what, whose = step
    return _("Next: %(what)s, by %(who)s.") % {"what": what, "who": _who(whose, ban)}
