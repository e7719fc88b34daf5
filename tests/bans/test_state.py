"""The ban's state machine (bans.state): what a page offers next, and what a service lets follow."""

import datetime

import pytest

from bans.models import AppealOutcome, Ban, BanState, BanStatus
from bans.state import Step, ban_state, next_steps, step_allowed

# The suite's autouse fixtures set up both databases for every test; these bans are never saved.
pytestmark = pytest.mark.django_db

DAY = datetime.date(2027, 2, 1)
BOTH = {"may_prepare": True, "may_decide": True}


def ban(status: str, *, starts_in: int = 1, ends_in: int = 10, **fields) -> Ban:
    return Ban(
        status=status,
        starts_on=DAY + datetime.timedelta(days=starts_in),
        ends_on=DAY + datetime.timedelta(days=ends_in),
        **fields,
    )


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        (BanStatus.PROPOSED, [Step.HEARING, Step.CANCEL]),
        (BanStatus.HEARD, [Step.HEARING, Step.DECISION, Step.CANCEL]),
        (BanStatus.HEARING_WAIVED, [Step.HEARING, Step.DECISION, Step.CANCEL]),
        (BanStatus.DECIDED, [Step.NOTIFICATION, Step.CANCEL]),
        (BanStatus.NOTIFIED, [Step.RECEIPT, Step.APPEAL, Step.CANCEL]),
        (BanStatus.CANCELLED, []),
        (BanStatus.OVERTURNED, []),
    ],
)
def test_the_steps_offered_follow_the_stored_step(status, offered):
    assert next_steps(ban(status, appeal_outcome=""), day=DAY, **BOTH) == offered


def test_each_role_is_offered_only_its_own_steps():
    heard = ban(BanStatus.HEARD)
    assert next_steps(heard, may_prepare=True, may_decide=False, day=DAY) == [Step.HEARING]
    assert next_steps(heard, may_prepare=False, may_decide=True, day=DAY) == [Step.DECISION, Step.CANCEL]
    assert next_steps(heard, may_prepare=False, may_decide=False, day=DAY) == []


def test_a_lapsed_ban_is_offered_only_its_cancellation_though_its_step_would_still_allow_more():
    lapsed = ban(BanStatus.HEARD, starts_in=-10, ends_in=-1)
    assert ban_state(lapsed, DAY) == BanState.LAPSED
    assert next_steps(lapsed, day=DAY, **BOTH) == [Step.CANCEL]
    assert step_allowed(lapsed, Step.DECISION)  # the service answers with its own rule, not a missing form


def test_an_ended_ban_is_offered_nothing_but_an_open_appeal():
    ended = ban(BanStatus.NOTIFIED, starts_in=-10, ends_in=-1, appeal_outcome=AppealOutcome.PENDING)
    assert ban_state(ended, DAY) == BanState.ENDED
    assert next_steps(ended, day=DAY, **BOTH) == [Step.APPEAL]
    assert step_allowed(ended, Step.CANCEL)  # bans.services refuses it: "ban_ended"


def test_a_decided_appeal_is_not_offered_again():
    upheld = ban(BanStatus.NOTIFIED, appeal_outcome=AppealOutcome.UPHELD)
    # What follows is the notice of the rectification decision, for the court appeal (not the request again).
    assert next_steps(upheld, day=DAY, **BOTH) == [Step.RECTIFICATION_NOTICE, Step.CANCEL]
