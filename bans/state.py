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

from django.db.models import F, Q

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
    RECEIPT = "receipt"
    APPEAL = "appeal"
    RECTIFICATION_NOTICE = "rectification_notice"
    COURT_APPEAL = "court_appeal"
    CANCEL = "cancel"


# The stored steps from which each step may be taken.
ALLOWED_FROM: dict[Step, tuple[str, ...]] = {
    Step.HEARING: (BanStatus.PROPOSED, BanStatus.HEARD, BanStatus.HEARING_WAIVED),
    Step.DECISION: (BanStatus.HEARD, BanStatus.HEARING_WAIVED),
    Step.NOTIFICATION: (BanStatus.DECIDED,),
    Step.RECEIPT: (BanStatus.NOTIFIED,),
    Step.APPEAL: (BanStatus.NOTIFIED,),
    Step.RECTIFICATION_NOTICE: (BanStatus.NOTIFIED,),
    Step.COURT_APPEAL: (BanStatus.NOTIFIED,),
    Step.CANCEL: tuple(status for status in BanStatus.values if status not in CLOSED),
}

# Who takes each step: staff who prepare bans, or ban deciders (the official decision and what follows it).
PREPARER_STEPS = frozenset({Step.HEARING, Step.NOTIFICATION, Step.RECEIPT, Step.RECTIFICATION_NOTICE})
DECIDER_STEPS = frozenset({Step.DECISION, Step.APPEAL, Step.COURT_APPEAL, Step.CANCEL})
# A rectification decision that leaves the ban standing, which the party may take to the administrative court.
STANDING = (AppealOutcome.UPHELD, AppealOutcome.DISMISSED)


def _review_ended_on(
    deadline: datetime.date | None, lodged_on: datetime.date | None, outcome: str, decided_on: datetime.date | None
) -> datetime.date | None:
    """The day at whose end one stage of review (the rectification request, or the court appeal) can no longer
    change the decision, or None while it still can.

    With no request made in time, the time runs out at the end of the deadline's last day, and a request that
    arrives later cannot hold the decision back (it can only be dismissed). A request made in time holds it back
    until it is decided: upheld or dismissed on a day, the stage ends that day, never before the deadline has
    passed (others may still request). No deadline yet (the notice not recorded) is no time run.
    """
    if deadline is None:
        return None
    timely = lodged_on is not None and lodged_on <= deadline
    if not timely or outcome == "":
        return deadline
    if outcome in STANDING and decided_on:
        return max(decided_on, deadline)
    return None


def _rectified_in_time(ban: Ban) -> bool:
    """A rectification request made in time was decided and left the ban standing: the court stage follows."""
    deadline, lodged_on = ban.appeal_deadline, ban.appeal_lodged_on
    return ban.appeal_outcome in STANDING and deadline is not None and lodged_on is not None and lodged_on <= deadline


def ban_became_final_on(ban: Ban) -> datetime.date | None:
    """The day at whose end the decision became final (lainvoimainen), or None while it has not.

    Local Government Act 410/2015 s. 134: only a rectification request (14 days) lies against the decision
    itself, so without one made in time the ban is final when that time has run (s. 143). If the body upholds
    the ban or dismisses a request made in time, its decision may be appealed to the administrative court
    (ss. 145-146) within 30 days of its notification (Act on Judicial Procedure in Administrative Matters
    808/2019 s. 13): the ban is not final before that decision was notified, while that time runs, or while an
    appeal made in time is pending. An overturned ban is closed (CLOSED), never final.
    """
    if ban.status != BanStatus.NOTIFIED:
        return None
    rectification = _review_ended_on(
        ban.appeal_deadline, ban.appeal_lodged_on, ban.appeal_outcome, ban.appeal_decided_on
    )
    if rectification is None or not _rectified_in_time(ban):
        return rectification
    return _review_ended_on(
        ban.court_appeal_deadline, ban.court_appeal_lodged_on, ban.court_outcome, ban.court_decided_on
    )


def ban_is_final(ban: Ban, day: datetime.date) -> bool:
    """Final on `day`: no rectification request or court appeal can change the decision any more."""
    became_final_on = ban_became_final_on(ban)
    return became_final_on is not None and became_final_on < day


def dates_from(ban: Ban, became_final_on: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The dates of a ban NOT enforced before it is final that became final at the end of `became_final_on`
    (Local Government Act 410/2015 s. 143): it starts the next day and lasts its `length_days`, so it can never
    run out before it starts."""
    assert ban.length_days  # set with the decision
    starts_on = became_final_on + datetime.timedelta(days=1)
    return starts_on, starts_on + datetime.timedelta(days=ban.length_days - 1)


def dates_once_final(ban: Ban) -> tuple[datetime.date, datetime.date] | None:
    """A ban not enforced before it is final: its dates once final (`dates_from`), None while it is not final
    (and for a ban enforced before it is final, whose dates the decision gives)."""
    became_final_on = ban_became_final_on(ban)
    if ban.enforced_before_final or became_final_on is None:
        return None
    return dates_from(ban, became_final_on)


def waiting_to_become_final() -> Q:
    """Notified bans not enforced before they are final whose dates are not known yet: with a rectification
    request made in time still pending, or, after one made in time left the ban standing, before
    its decision was notified or with a court appeal made in time still pending. Their stored dates are
    provisional, so a date query must not take them as ended (`ban_state` says the same on every read)."""
    notified = Q(status=BanStatus.NOTIFIED)
    pending_in_time = notified & Q(appeal_outcome=AppealOutcome.PENDING, appeal_lodged_on__lte=F("appeal_deadline"))
    court_pending = Q(court_appeal_deadline__isnull=True) | Q(
        court_outcome=AppealOutcome.PENDING, court_appeal_lodged_on__lte=F("court_appeal_deadline")
    )
    before_court = notified & Q(appeal_outcome__in=STANDING, appeal_lodged_on__lte=F("appeal_deadline")) & court_pending
    return Q(enforced_before_final=False) & (pending_in_time | before_court)


def ban_state(ban: Ban, day: datetime.date | None = None) -> str:
    """What the ban is on `day` (today): computed from its dates, so an ended ban needs no job to end it.

    A ban not enforced before it is final waits, once notified, until it is final, whatever its stored
    dates; then its dates are those it got when it became final (`dates_once_final`)."""
    day = day or today()
    if ban.status in CLOSED:
        return ban.status
    waits = not ban.enforced_before_final
    if ban.status != BanStatus.NOTIFIED:
        # Not notified by the end of its dates (for one that waits, the dates it would have had if notified on the
        # decision day): it never took effect.
        return BanState.LAPSED if ban.ends_on < day else ban.status
    starts_on, ends_on = ban.starts_on, ban.ends_on
    if waits:
        once_final = dates_once_final(ban)
        if once_final is None or not ban_is_final(ban, day):
            return BanState.NOTIFIED
        starts_on, ends_on = once_final
    if ends_on < day:
        return BanState.ENDED
    return BanState.SCHEDULED if starts_on > day else BanState.ACTIVE


def receipt_may_be_proven(ban: Ban) -> bool:
    """A later receipt may be recorded for a notified ban until a rectification request has been decided: also
    after the deadline it would move, since the proof usually comes with a request that looks late."""
    return step_allowed(ban, Step.RECEIPT) and ban.appeal_outcome in ("", AppealOutcome.PENDING)


def step_allowed(ban: Ban, step: Step) -> bool:
    """Whether the ban's stored step lets `step` follow (the services' check before a write)."""
    return ban.status in ALLOWED_FROM[step]


def _offered(ban: Ban, step: Step, state: str) -> bool:
    if step == Step.APPEAL:
        return step_allowed(ban, step) and ban.appeal_outcome in ("", AppealOutcome.PENDING)
    if step == Step.RECEIPT:
        # A proven later receipt moves the rectification deadline: while no request has been decided.
        return receipt_may_be_proven(ban) and state != BanState.ENDED
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
