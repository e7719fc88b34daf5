"""The breach register (tietoturvaloukkausrekisteri, GDPR Art. 33-34).

Every personal-data breach is recorded, whether or not it is notified (Art. 33(5)). A breach that is
likely to result in a risk is notified to the supervisory authority within 72 hours of becoming aware
of it (Art. 33(1)); a later notification states the reasons for the delay, and what is not known at
first may follow in phases (Art. 33(4)). A high risk also means telling the people concerned (Art. 34),
unless one of the exemptions of Art. 34(3) applies and is recorded.

The 72 hours are real hours: they are counted in UTC, so a daylight-saving change in between neither
adds nor removes an hour, and weekends and holidays do not move the deadline.

Each function checks every rule before it writes, raises RuleBroken naming the first rule broken, and
writes in one transaction. A breach of another consortium does not exist for the actor (NotFound).
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from audit.models import DataCategory
from core.dates import today
from core.errors import RuleBroken
from dpo.models import Art34Exemption, AuthorityNotification, Breach, NotificationPhase, RiskLevel
from patrons.models import Patron
from staff.models import Jurisdiction
from staff.scoping import object_of_consortium_or_404
from staff.typed_text import free_text_check

AUTHORITY_DEADLINE = datetime.timedelta(hours=72)

SUPERVISORY_AUTHORITIES: dict[str, Promise] = {
    # Translators: Tietosuojavaltuutetun toimisto / Dataombudsmannens byrå, Finland's supervisory authority.
    Jurisdiction.FINLAND: _("Office of the Data Protection Ombudsman"),
    # Translators: Integritetsskyddsmyndigheten (IMY), Sweden's supervisory authority.
    Jurisdiction.SWEDEN: _("Swedish Authority for Privacy Protection (IMY)"),
}


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


# breach_update's default: the fact stays as it was (None is a value: "not known").
UNCHANGED: Any = _Unchanged()


def authority_deadline_for(aware_at: datetime.datetime) -> datetime.datetime:
    """72 real hours after becoming aware (Art. 33(1)), in UTC.

    Adding hours to a local time would add wall-clock hours: across the spring change in Helsinki that
    is 71 real hours, across the autumn change 73.
    """
    return _aware(aware_at).astimezone(datetime.UTC) + AUTHORITY_DEADLINE


def supervisory_authority(jurisdiction: str) -> Promise:
    """The authority a breach is notified to: the Data Protection Ombudsman in Finland, IMY in Sweden."""
    return SUPERVISORY_AUTHORITIES[jurisdiction]


# --- Rules ------------------------------------------------------------------------------------------


def _aware(moment: datetime.datetime) -> datetime.datetime:
    """A time without a zone is local time (settings.TIME_ZONE)."""
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _local(moment: datetime.datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _not_in_future(moment: datetime.datetime, rule: str, message) -> None:
    if moment > timezone.now():
        raise RuleBroken(rule, message)


def _check_day(day: datetime.date, breach: Breach, rule: str, what) -> None:
    """`day` is between the day of becoming aware and today."""
    if day > today():
        raise RuleBroken(f"{rule}_in_future", _("%(what)s cannot be in the future."), what=what)
    if day < timezone.localdate(breach.aware_at):
        raise RuleBroken(
            f"{rule}_before_aware", _("%(what)s cannot be before the day the breach became known."), what=what
        )


def _check_occurred(occurred_at: datetime.datetime | None, aware_at: datetime.datetime) -> None:
    if occurred_at is not None and occurred_at > aware_at:
        raise RuleBroken("occurred_after_aware", _("A breach cannot have happened after it became known."))


def _check_categories(categories: Iterable[str]) -> list[str]:
    categories = list(dict.fromkeys(categories))
    if unknown := [c for c in categories if c not in DataCategory.values]:
        raise RuleBroken(
            "data_category_unknown",
            _("Unknown categories of data: %(categories)s. Known: %(known)s."),
            categories=", ".join(map(str, unknown)),
            known=", ".join(DataCategory.values),
        )
    return categories


def _check_risk(risk: str) -> None:
    if risk not in RiskLevel.values:
        raise RuleBroken(
            "risk_unknown", _("Unknown risk level; choose one of %(known)s."), known=", ".join(RiskLevel.values)
        )


def _check_patrons(actor: Actor, patron_ids: Iterable[int], *, known: Iterable[int] = ()) -> list[int]:
    """The patron ids, each of the actor's consortium; ids already on the breach (`known`) may since be erased."""
    patron_ids = list(dict.fromkeys(int(pid) for pid in patron_ids))
    new = set(patron_ids) - set(known)
    found = set(Patron.objects.visible_to(actor).filter(pk__in=new).values_list("pk", flat=True))
    if missing := sorted(new - found):
        raise RuleBroken(
            "patron_unknown",
            _("Patron %(id)s is not one of your consortium's patrons."),
            id=missing[0],
        )
    return patron_ids


def _texts_check(actor: Actor, model, **texts: str) -> None:
    """No identity code in the register's texts. The register is the DPO's own record, not a processing of
    a patron's data, so a refusal is not an access event.
    """
    free_text_check(actor=actor, model=model, texts=texts)


def _open_breach(*, actor: Actor, breach_id: int) -> Breach:
    """The breach (locked) of the actor's consortium, not yet closed."""
    breach = object_of_consortium_or_404(
        Breach.objects.select_for_update(of=("self",)).select_related("consortium"), actor=actor, pk=breach_id
    )
    if breach.closed_on is not None:
        raise RuleBroken("breach_closed", _("This breach is closed and can no longer change."))
    return breach


def _initial_notification(breach: Breach) -> AuthorityNotification | None:
    return breach.authority_notifications.filter(phase=NotificationPhase.INITIAL).first()


# --- The register -----------------------------------------------------------------------------------


def breach_record(
    *,
    actor: Actor,
    aware_at: datetime.datetime,
    description: str,
    occurred_at: datetime.datetime | None = None,
    data_categories: Iterable[str] = (),
    people_affected: int | None = None,
    records_affected: int | None = None,
    consequences: str = "",
    measures: str = "",
    risk: str = RiskLevel.RISK,
    affected_patron_ids: Iterable[int] = (),
) -> Breach:
    """Record a breach the moment it is known; the authority deadline is fixed from `aware_at`."""
    aware_at = _aware(aware_at)
    occurred_at = _aware(occurred_at) if occurred_at is not None else None
    _texts_check(actor, Breach, description=description, consequences=consequences, measures=measures)
    if not description.strip():
        raise RuleBroken("description_required", _("Describe the nature of the breach."))
    _not_in_future(aware_at, "aware_at_in_future", _("The time of becoming aware cannot be in the future."))
    _check_occurred(occurred_at, aware_at)
    _check_risk(risk)
    categories = _check_categories(data_categories)
    with transaction.atomic():
        patron_ids = _check_patrons(actor, affected_patron_ids)
        assert actor.consortium_id is not None  # the DPO's role requires a staff profile
        return Breach.objects.create(
            consortium_id=actor.consortium_id,
            aware_at=aware_at,
            occurred_at=occurred_at,
            description=description.strip(),
            data_categories=categories,
            people_affected=people_affected,
            records_affected=records_affected,
            consequences=consequences,
            measures=measures,
            risk=risk,
            authority_deadline=authority_deadline_for(aware_at),
            affected_patron_ids=patron_ids,
            recorded_at=timezone.now(),
            recorded_by=actor.username,
        )


def breach_update(
    *,
    actor: Actor,
    breach_id: int,
    occurred_at: datetime.datetime | None = UNCHANGED,
    description: str = UNCHANGED,
    data_categories: Iterable[str] = UNCHANGED,
    people_affected: int | None = UNCHANGED,
    records_affected: int | None = UNCHANGED,
    consequences: str = UNCHANGED,
    measures: str = UNCHANGED,
    risk: str = UNCHANGED,
    affected_patron_ids: Iterable[int] = UNCHANGED,
) -> Breach:
    """Add or correct the facts that become known later; the arguments not given stay as they were.

    The time of becoming aware is not among them: the deadline was fixed from it when the breach was
    recorded, and moving it afterwards could hide a late notification.
    """
    texts = {"description": description, "consequences": consequences, "measures": measures}
    _texts_check(actor, Breach, **{name: text for name, text in texts.items() if text is not UNCHANGED})
    with transaction.atomic():
        breach = _open_breach(actor=actor, breach_id=breach_id)
        changes: dict[str, Any] = {}
        if description is not UNCHANGED:
            if not description.strip():
                raise RuleBroken("description_required", _("Describe the nature of the breach."))
            changes["description"] = description.strip()
        if occurred_at is not UNCHANGED:
            occurred_at = _aware(occurred_at) if occurred_at is not None else None
            _check_occurred(occurred_at, breach.aware_at)
            changes["occurred_at"] = occurred_at
        if data_categories is not UNCHANGED:
            changes["data_categories"] = _check_categories(data_categories)
        if risk is not UNCHANGED:
            _check_risk(risk)
            changes["risk"] = risk
        if affected_patron_ids is not UNCHANGED:
            changes["affected_patron_ids"] = _check_patrons(
                actor, affected_patron_ids, known=breach.affected_patron_ids
            )
        for name, value in (
            ("people_affected", people_affected),
            ("records_affected", records_affected),
            ("consequences", consequences),
            ("measures", measures),
        ):
            if value is not UNCHANGED:
                changes[name] = value
        for name, value in changes.items():
            setattr(breach, name, value)
        if changes:
            breach.save(update_fields=list(changes))
    return breach


def authority_notification_record(
    *,
    actor: Actor,
    breach_id: int,
    notified_at: datetime.datetime,
    late_reason: str = "",
    phase: str | None = None,
    reference: str = "",
) -> AuthorityNotification:
    """One notification to the supervisory authority: the initial one, then supplementary ones and a final report.

    The initial notification after the deadline states the reasons for the delay (Art. 33(1)); at the
    deadline itself it is still on time.
    """
    notified_at = _aware(notified_at)
    late_reason = late_reason.strip()
    _texts_check(actor, AuthorityNotification, late_reason=late_reason, reference=reference)
    with transaction.atomic():
        breach = _open_breach(actor=actor, breach_id=breach_id)
        initial = _initial_notification(breach)
        phase = phase or (NotificationPhase.INITIAL if initial is None else NotificationPhase.SUPPLEMENTARY)
        if phase not in NotificationPhase.values:
            raise RuleBroken(
                "phase_unknown", _("Unknown phase; choose one of %(known)s."), known=", ".join(NotificationPhase.values)
            )
        _not_in_future(notified_at, "notified_in_future", _("The time of notifying cannot be in the future."))
        if notified_at < breach.aware_at:
            raise RuleBroken(
                "notified_before_aware", _("The authority cannot have been notified before the breach became known.")
            )
        if phase == NotificationPhase.INITIAL:
            if initial is not None:
                raise RuleBroken(
                    "initial_already_made",
                    _(
                        "The initial notification is already recorded; later ones are supplementary information or "
                        "the final report."
                    ),
                )
            if notified_at > breach.authority_deadline and not late_reason:
                raise RuleBroken(
                    "late_reason_required",
                    _(
                        "The authority was to be notified by %(deadline)s (72 hours after becoming aware). A later "
                        "notification must give the reasons for the delay (GDPR Art. 33(1))."
                    ),
                    deadline=_local(breach.authority_deadline),
                )
        else:
            if initial is None:
                raise RuleBroken("initial_first", _("Record the initial notification first."))
            if notified_at < initial.notified_at:
                raise RuleBroken(
                    "before_initial", _("A later phase cannot have been sent before the initial notification.")
                )
        return AuthorityNotification.objects.create(
            breach=breach,
            phase=phase,
            notified_at=notified_at,
            late_reason=late_reason,
            reference=reference.strip(),
            recorded_at=timezone.now(),
            recorded_by=actor.username,
        )


def people_notification_record(*, actor: Actor, breach_id: int, notified_on: datetime.date) -> Breach:
    """The people concerned were told (Art. 34(1)): the date; the letters themselves are kept elsewhere."""
    with transaction.atomic():
        breach = _open_breach(actor=actor, breach_id=breach_id)
        _check_day(notified_on, breach, "people_notified", _("The day the people were told"))
        breach.people_notified_on = notified_on
        breach.save(update_fields=["people_notified_on"])
    return breach


def art34_exemption_record(*, actor: Actor, breach_id: int, exemption: str, details: str) -> Breach:
    """Why the people concerned of a high-risk breach are not told (Art. 34(3)), with the facts that show it."""
    if exemption not in Art34Exemption.values:
        raise RuleBroken(
            "exemption_unknown",
            _("Unknown exemption; choose one of %(known)s."),
            known=", ".join(Art34Exemption.values),
        )
    if not details.strip():
        raise RuleBroken(
            "exemption_details_required", _("Explain why the exemption applies, e.g. how the data was encrypted.")
        )
    _texts_check(actor, Breach, art34_exemption_details=details)
    with transaction.atomic():
        breach = _open_breach(actor=actor, breach_id=breach_id)
        breach.art34_exemption = exemption
        breach.art34_exemption_details = details.strip()
        breach.save(update_fields=["art34_exemption", "art34_exemption_details"])
    return breach


def breach_close(*, actor: Actor, breach_id: int, closed_on: datetime.date) -> Breach:
    """Close a handled breach. It stays in the register (Art. 33(5)); closed, it can no longer change.

    A breach with a risk is closed only once the authority was notified, and a high-risk one only once
    the people were told or an exemption is recorded. An unlikely risk is only documented (Art. 33(1)).
    """
    with transaction.atomic():
        breach = _open_breach(actor=actor, breach_id=breach_id)
        _check_day(closed_on, breach, "closed", _("The closing day"))
        if breach.risk != RiskLevel.UNLIKELY and _initial_notification(breach) is None:
            raise RuleBroken(
                "authority_not_notified",
                _("A breach with a risk to people's rights cannot be closed before the authority was notified."),
            )
        if breach.risk == RiskLevel.HIGH and breach.people_notified_on is None and not breach.art34_exemption:
            raise RuleBroken(
                "people_not_told",
                _(
                    "A high-risk breach cannot be closed before the people concerned were told, or an exemption of "
                    "GDPR Art. 34(3) is recorded."
                ),
            )
        breach.closed_on = closed_on
        breach.save(update_fields=["closed_on"])
    return breach
