"""Applying every installed app's retention rules (dpo/retention.py, `manage.py apply_retention`)."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from audit.actor import Actor
from audit.models import Action
from audit.prune import access_log_cutoff, events_to_prune
from audit.services import access_event_record
from core.privacy_contract import NotAppliedHere, RetentionRule, deleted_rows
from dpo.register_selectors import RegisterRetention, register_retention
from dpo.retention import not_applied_here, retention_rules

RETENTION_BATCH = 1000
RETENTION_ACTOR = "apply_retention"


@dataclass
class RuleOutcome:
    rule: RetentionRule
    due: int
    removed: int = 0
    patron_ids: list[int] = field(default_factory=list)


@dataclass
class RetentionReport:
    """What `retention_apply` did (or, in a dry run, would do) on `day`."""

    day: datetime.date
    dry_run: bool
    outcomes: list[RuleOutcome]
    not_applied_here: list[NotAppliedHere]
    # Per register retained elsewhere (NotAppliedHere.lists_retention): each consortium's retention.
    retention_elsewhere: dict[str, list[RegisterRetention]]
    # Removed only by the owner's `prune_access_log`; counted here so the operator knows to run it.
    access_log_cutoff: datetime.datetime
    access_events_due: int


def _system_actor() -> Actor:
    return Actor(
        user_id=None,
        username=RETENTION_ACTOR,
        municipality_id=None,
        consortium_id=None,
        client_ip=None,
        resource=RETENTION_ACTOR,
    )


def _rule_apply(
    *,
    rule: RetentionRule,
    day: datetime.date,
    batch_size: int,
    progress: Callable[[RetentionRule, int, int], None] | None,
) -> RuleOutcome:
    with transaction.atomic():
        rows = list(rule.due(day).order_by("pk").values_list("pk", *rule.patron_fields))
        outcome = RuleOutcome(rule=rule, due=len(rows))
        if progress is not None:
            progress(rule, 0, len(rows))
        patron_ids: set[int] = set()
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            # Filtered by the rule again: a row that stopped being due meanwhile stays.
            due = rule.due(day).filter(pk__in=[row[0] for row in batch])
            outcome.removed += rule.apply(due) if rule.apply is not None else deleted_rows(due)
            patron_ids.update(pid for row in batch for pid in row[1:] if pid is not None)
            if progress is not None:
                progress(rule, start + len(batch), len(rows))
        if outcome.removed:
            outcome.patron_ids = sorted(patron_ids)
            access_event_record(
                actor=_system_actor(),
                action=Action.RETENTION_APPLIED,
                patron_ids=outcome.patron_ids,
                data_categories=rule.data_categories,
                detail=rule.name,
            )
    return outcome


def retention_apply(
    *,
    day: datetime.date,
    dry_run: bool,
    progress: Callable[[RetentionRule, int, int], None] | None = None,
    batch_size: int = RETENTION_BATCH,
) -> RetentionReport:
    """Remove what each retention rule says is due on `day`, rule by rule, each in its own transaction.

    Every rule that removed something writes one RETENTION_APPLIED access event naming the patrons
    concerned (ids only) and the rule. A dry run counts and writes nothing. Patrons themselves are
    never removed, except the reduced record of an erased patron once the legal hold that kept it ends
    (`legal_holds`), and access events are only counted: the runtime role cannot delete them.
    """
    outcomes = [
        RuleOutcome(rule=rule, due=rule.due(day).count())
        if dry_run
        else _rule_apply(rule=rule, day=day, batch_size=batch_size, progress=progress)
        for rule in retention_rules()
    ]
    elsewhere = not_applied_here()
    cutoff = access_log_cutoff(day=day)
    return RetentionReport(
        day=day,
        dry_run=dry_run,
        outcomes=outcomes,
        not_applied_here=elsewhere,
        retention_elsewhere={
            item.register: register_retention(item.register) for item in elsewhere if item.lists_retention
        },
        access_log_cutoff=cutoff,
        access_events_due=events_to_prune(before=cutoff).count(),
    )
