"""What comes next in a ban's procedure and who does it: the sentence each ban page, and each of Sweden's access
prohibitions' pages, shows under its title.

One place beside bans.state (which says which forms a page offers): here, in the desk's words, which step the
procedure waits for and whose step it is, so that nobody wonders after saving a step whether it is theirs.
"""

from django.utils.translation import gettext as _

from bans.models import AccessProhibition, Ban, BanState
from core.dates import shown_date, today

PREPARERS = "preparers"  # staff who prepare bans (bans.prepare_ban): the hearing, the notices
DECIDERS = "deciders"  # ban deciders with competence for the library (bans.DecisionCompetence)


def _who(whose: str, ban: Ban) -> str:
    if whose == DECIDERS:
        return _("a ban decider with competence for the libraries of %(municipality)s") % {
            "municipality": ban.library.municipality.name
        }
    return _preparers()


def _preparers() -> str:
    return _("the library staff who prepare bans")


def _prohibition_recorders() -> str:
    """The same staff (bans.prepare_ban) in Sweden's words: they prepare no ban there (Swedish "användningsförbud" is
    Finnish law's ban), they record the prosecutor's prohibitions."""
    return _("the library staff who record access prohibitions")


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


def _prohibition_arrivals(prohibition: AccessProhibition) -> str | None:
    """What the library may still receive and record (the forms the page offers): the prosecutor's revocation and
    the district court's outcome on a review, each once."""
    if prohibition.revoked_on is None and not prohibition.court_outcome:
        return _("a revocation by the prosecutor or the court's outcome on a review that arrives is recorded")
    if prohibition.revoked_on is None:
        return _("a revocation by the prosecutor that arrives is recorded")
    if not prohibition.court_outcome:
        return _("the court's outcome on a review that arrives is recorded")
    return None


def prohibition_next_step_text(prohibition: AccessProhibition) -> str:
    """'Next: <the step>, by <who>.' for a Swedish access prohibition (lag 2021:34). The prosecutor and the court
    decide, not the library: between their decisions the prohibition starts and ends by itself, and the library's
    staff record what arrives. One that will never again be in force (ended, or revoked) is over."""
    last_day = prohibition.last_day
    if last_day < today() or last_day < prohibition.starts_on:
        return _("Nothing more: the procedure is over.")
    if today() < prohibition.starts_on:
        what = _("nothing: the access prohibition starts on %(date)s by itself") % {
            "date": shown_date(prohibition.starts_on)
        }
    else:
        what = _("nothing: the access prohibition ends after %(date)s by itself") % {"date": shown_date(last_day)}
    arrivals = _prohibition_arrivals(prohibition)
    if arrivals is None:
        return _("Next: %(what)s.") % {"what": what}
    return _("Next: %(what)s, by %(who)s.") % {"what": f"{what}; {arrivals}", "who": _prohibition_recorders()}
