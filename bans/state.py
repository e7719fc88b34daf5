"""The ban's state machine, in one place: what a ban is today, and which step may follow.

A ban's stored `status` is the last step recorded (proposed, heard or hearing waived, decided, notified;
or closed: cancelled, overturned). What the ban *is* on a day (`ban_state`) also follows from its dates:
a notified ban is scheduled, active or ended by the calendar, and a ban whose dates passed before it was
notified has lapsed. No job ends a ban; every read computes it.

The services ask `step_allowed` before they write a step; the pages ask `next_steps` which forms to offer.
The page offers a step only while the ban has not lapsed or ended, and an appeal only while none has been
decided (after a rectification decision that leaves the ban standing: its notice, then the court appeal, which
may outlive the ban's dates); the services check the stored step (and their own rules) so that an API client
gets the rule that was broken, not a missing form.
"""

import datetime
import enum

from bans.models import AppealOutcome, Ban, BanState, BanStatus
from core.dates import today

# Steps after which a ban is over for good, whatever its dates.
CLOSED = (BanStatus.CANCELLED, BanStatus.OVERTURNED)

# Steps of a ban that staff still see, as long as its last day has not passed.
STAFF_VISIBLE_BAN_STEPS = (
    BanStatus.PROPOSED,
    BanStatus.HEARD,
    BanStatus.HEARING_WAIVED,
    BanStatus.DECIDED,
    BanStatus.NOTIFIED,
)


class Step(enum.StrEnum):
    """The steps of the procedure after the proposal, in the order a page offers them."""

    HEARING = "hearing"
    DECISION = "decision"
    NOTIFICATION = "notification"
    APPEAL = "appeal"
    RECTIFICATION_NOTICE = "rectification_notice"
    COURT_APPEAL = "court_appeal"
    CANCEL = "cancel"


# The stored steps from which each step may be taken.
ALLOWED_FROM: dict[Step, tuple[str, ...]] = {
    Step.HEARING: (BanStatus.PROPOSED, BanStatus.HEARD, BanStatus.HEARING_WAIVED),
    Step.DECISION: (BanStatus.HEARD, BanStatus.HEARING_WAIVED),
    Step.NOTIFICATION: (BanStatus.DECIDED,),
    Step.APPEAL: (BanStatus.NOTIFIED,),
    Step.RECTIFICATION_NOTICE: (BanStatus.NOTIFIED,),
    Step.COURT_APPEAL: (BanStatus.NOTIFIED,),
    Step.CANCEL: tuple(status for status in BanStatus.values if status not in CLOSED),
}

# Who takes each step: staff who prepare bans, or ban deciders (the official decision and what follows it).
PREPARER_STEPS = frozenset({Step.HEARING, Step.NOTIFICATION, Step.RECTIFICATION_NOTICE})
DECIDER_STEPS = frozenset({Step.DECISION, Step.APPEAL, Step.COURT_APPEAL, Step.CANCEL})
# A rectification decision that leaves the ban standing, which the party may take to the administrative court.
STANDING = (AppealOutcome.UPHELD, AppealOutcome.DISMISSED)


def _stage_final(deadline: datetime.date | None, lodged_on: datetime.date | None, outcome: str, day) -> bool:
    """One stage of review (rectification, or the court appeal): over once its deadline has passed with no
    request made in time still pending. Only a request made in time holds the decision back; a late one can
    only be dismissed. No deadline yet (the notice not recorded) is no time run."""
    if outcome in STANDING:
        return True
    if deadline is None or deadline >= day:
        return False
    if outcome == AppealOutcome.PENDING:
        return lodged_on is not None and lodged_on > deadline
    return True


def ban_is_final(ban: Ban, day: datetime.date) -> bool:
    """Final (lainvoimainen): no rectification request or court appeal can come any more, and none made in time
    is pending.

    Local Government Act 410/2015 s. 134: only a rectification request (14 days) lies against the decision
    itself, so without one the ban is final when its time has run. If the body upholds the ban or dismisses the
    request, its decision may be appealed to the administrative court (ss. 145-146) within 30 days of its
    notification (Act on Judicial Procedure in Administrative Matters 808/2019 s. 13): the ban is not final
    before that decision was notified, while that time runs, or while an appeal made in time is pending. An
    overturned ban is closed (bans.state.CLOSED), never final.
    """
    if ban.appeal_outcome not in STANDING:
        return _stage_final(ban.appeal_deadline, ban.appeal_lodged_on, ban.appeal_outcome, day)
    return _stage_final(ban.court_appeal_deadline, ban.court_appeal_lodged_on, ban.court_outcome, day)


def ban_state(ban: Ban, day: datetime.date | None = None) -> str:
    """What the ban is on `day` (today): computed from its dates, so an ended ban needs no job to end it."""
    day = day or today()
    if ban.status in CLOSED:
        return ban.status
    if ban.status != BanStatus.NOTIFIED:
        return BanState.LAPSED if ban.ends_on < day else ban.status
    if ban.ends_on < day:
        return BanState.ENDED
    if not (ban.enforced_before_final or ban_is_final(ban, day)):
        return BanState.NOTIFIED
    return BanState.SCHEDULED if ban.starts_on > day else BanState.ACTIVE


def step_allowed(ban: Ban, step: Step) -> bool:
    """Whether the ban's stored step lets `step` follow (the services' check before a write)."""
    return ban.status in ALLOWED_FROM[step]


def _offered(ban: Ban, step: Step, state: str) -> bool:
    if step == Step.APPEAL:
        return step_allowed(ban, step) and ban.appeal_outcome in ("", AppealOutcome.PENDING)
    if step == Step.RECTIFICATION_NOTICE:
        return step_allowed(ban, step) and ban.appeal_outcome in STANDING and ban.rectification_notified_on is None
    if step == Step.COURT_APPEAL:
        return (
            step_allowed(ban, step)
            and ban.rectification_notified_on is not None
            and ban.court_outcome in ("", AppealOutcome.PENDING)
        )
    if step == Step.CANCEL:
        return step_allowed(ban, step) and state != BanState.ENDED
    # A ban that lapsed before it was notified takes no further procedural step.
    return state in ALLOWED_FROM[step]


def next_steps(ban: Ban, *, may_prepare: bool, may_decide: bool, day: datetime.date | None = None) -> list[Step]:
    """The steps a page offers on this ban to someone who may prepare and/or decide bans, in procedure order."""
    state = ban_state(ban, day)
    allowed = (PREPARER_STEPS if may_prepare else frozenset()) | (DECIDER_STEPS if may_decide else frozenset())
    return [step for step in Step if step in allowed and _offered(ban, step, state)]
