"""Data-subject requests (rekisteröidyn pyynnöt), from receipt to answer.

GDPR Art. 12(3): the answer is due one month after receipt, counted as EU Regulation 1182/71 counts
periods (core.time_limits); it may be extended by two further months at most when the
patron is told, with the reasons, within the first month. Art. 15(3), 12(5): every copy is free unless the
DPO records a finding, with its reasoning, that the request is manifestly unfounded or excessive (a fee or
a refusal) or asks for a further copy (a fee); nothing waits for such a finding. Art. 17(3): the exceptions that
allow refusing an erasure. Mikkeli notice: identity is checked with an ID card, passport or driving licence
and the check and its date are recorded; the request form copy is destroyed once the report is made.

The access report and the erasure itself live in their own modules; the request keeps their marks
(`report_made_at`, `previous_report`, `erased_at`). Each function checks every rule before it writes,
raises RuleBroken naming the first rule broken, and writes in one transaction together with a
SUBJECT_REQUEST access event (the patron's id and a detail code, nothing else).
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from audit.models import Action, DataCategory
from audit.services import access_event_record
from core.dates import ADULT_AGE, age_on, shown_date
from core.errors import RuleBroken
from core.privacy_contract import HOLD_LEGAL_CLAIMS
from core.time_limits import months_after
from dpo.models import (
    AuthorityCheck,
    ClaimSettled,
    DeliveryMethod,
    FeeDecision,
    IdentityDocument,
    KeepingGround,
    LegalHold,
    RefusalGround,
    RequesterRole,
    RequestKind,
    SubjectRequest,
)
from dpo.privacy import legal_holds_lift
from dpo.selectors import answerer_role, earlier_report, processing_restriction_of
from patrons.models import RestrictionGround
from patrons.services import processing_restrict, processing_restriction_lift
from patrons.services._common import consortium_patron_ids, patron_for_write, today
from staff.scoping import object_of_consortium_or_404
from staff.typed_text import free_text_check

ANSWER_MONTHS = 1
MAX_EXTENSION_MONTHS = 2
# The exceptions to the right to erasure; Art. 12(5) covers every other kind of request.
ERASURE_REFUSAL_GROUNDS = (
    RefusalGround.FREEDOM_OF_EXPRESSION,
    RefusalGround.LEGAL_OBLIGATION,
    RefusalGround.PUBLIC_HEALTH,
    RefusalGround.ARCHIVING,
    RefusalGround.LEGAL_CLAIMS,
)
# Requests answered by recording that they were carried out. Access is answered by delivering the report,
# erasure by carrying it out (dpo.services.erasure, which records the request as answered).
COMPLETED_BY_HAND = (RequestKind.RECTIFICATION, RequestKind.RESTRICTION, RequestKind.OBJECTION)
# The findings the DPO can record now; FeeDecision.REPEALED_RULE_CHARGED only names old rows.
FEE_FINDINGS = [(value, label) for value, label in FeeDecision.choices if value != FeeDecision.REPEALED_RULE_CHARGED]
FEE_FINDINGS_VALUES = [value for value, _label in FEE_FINDINGS]
# The requests on which the DPO restricts processing, and on which grounds of GDPR Art. 18(1): a restriction
# request on any; a rectification while the accuracy is verified (a); an objection while it is verified (d).
RESTRICTION_GROUNDS = {
    RequestKind.RESTRICTION: tuple(RestrictionGround),
    RequestKind.RECTIFICATION: (RestrictionGround.ACCURACY_CONTESTED,),
    RequestKind.OBJECTION: (RestrictionGround.OBJECTION_PENDING,),
}


def _check_choice(value: str, choices, rule: str, message) -> None:
    if value not in choices.values:
        raise RuleBroken(rule, message, allowed=", ".join(choices.values))


def _check_day(
    day: datetime.date, *, not_before: datetime.date, before_rule: str, before_message, future_rule: str, future_message
) -> None:
    if day > today():
        raise RuleBroken(future_rule, future_message)
    if day < not_before:
        raise RuleBroken(before_rule, before_message, date=shown_date(not_before))


def _required_text(text: str, rule: str, message) -> str:
    text = (text or "").strip()
    if not text:
        raise RuleBroken(rule, message)
    return text


def _texts_check(*, actor: Actor, request_id: int, **texts: str) -> None:
    """No identity code in the texts the patron is told; a refusal is a denied event about the patron."""
    free_text_check(
        actor=actor,
        model=SubjectRequest,
        texts=texts,
        action=Action.SUBJECT_REQUEST,
        patron_ids=SubjectRequest.objects.visible_to(actor).filter(pk=request_id).values_list("patron_id", flat=True),
    )


def _record(actor: Actor, subject_request: SubjectRequest, detail: str) -> None:
    access_event_record(
        actor=actor, action=Action.SUBJECT_REQUEST, patron_ids=[subject_request.patron_id], detail=detail
    )


def subject_request_answered_by(*, actor: Actor, subject_request: SubjectRequest) -> list[str]:
    """Record who answered the request, and as what; the fields to save.

    An access request is answered by the register's contact person or the DPO (seed 001; GDPR Art. 38-39,
    the DPO supervises): anyone else who handles requests prepares it, and is refused the answer. Other
    requests record who answered without that rule.
    """
    role = answerer_role(actor=actor, consortium_id=subject_request.consortium_id)
    if subject_request.kind == RequestKind.ACCESS and role is None:
        raise RuleBroken(
            "not_the_contact_person",
            _(
                "An access request is answered by the contact person named on the register description, or by the "
                "data protection officer."
            ),
        )
    subject_request.answered_by = actor.username
    subject_request.answered_as = role or ""
    return ["answered_by", "answered_as"]


def _open_request(*, actor: Actor, request_id: int) -> SubjectRequest:
    """The request (locked) of the actor's consortium, or NotFound; it must not be answered yet."""
    subject_request = object_of_consortium_or_404(
        SubjectRequest.objects.select_for_update(of=("self",)).select_related("consortium"), actor=actor, pk=request_id
    )
    if subject_request.completed_on is not None:
        raise RuleBroken("request_closed", _("This request has already been answered or refused."))
    return subject_request


def _requester_check(*, role: str, name: str, authority_check: str, authority_note: str) -> tuple[str, str, str]:
    """The representative's name, authority check and note, cleaned, once the rules for `role` hold.

    A representative is named and their authority to act for the patron checked (GDPR Art. 12(2): the
    controller must not answer someone who is not entitled to the data); the note explains "another" role
    or check. The patron asking themself has none of these.
    """
    _check_choice(role, RequesterRole, "requester_role_unknown", _("Unknown requester. Allowed: %(allowed)s."))
    name, authority_note = (name or "").strip(), (authority_note or "").strip()
    if role == RequesterRole.PATRON:
        if name or authority_check or authority_note:
            raise RuleBroken(
                "not_a_representative",
                _("The patron asked themself: leave the representative's name and authority check empty."),
            )
        return "", "", ""
    if not name:
        raise RuleBroken("requester_name_required", _("Give the name of the representative who made the request."))
    if not authority_check:
        raise RuleBroken(
            "authority_check_required",
            _("Record how the representative's authority to act for the patron was checked."),
        )
    _check_choice(
        authority_check,
        AuthorityCheck,
        "authority_check_unknown",
        _("Unknown way of checking the authority. Allowed: %(allowed)s."),
    )
    if (role == RequesterRole.OTHER or authority_check == AuthorityCheck.OTHER) and not authority_note:
        raise RuleBroken(
            "authority_note_required", _("Explain in the note who the representative is or how it was checked.")
        )
    return name, authority_check, authority_note


def _guardian_check(*, role: str, born: datetime.date | None, received_on: datetime.date) -> None:
    """A guardian acts for a minor only: from the 18th birthday on (core.dates.age_on), the patron is of age
    (Guardianship Services Act 442/1999 s. 2, föräldrabalken 9:1) and custody has ended (Child Custody and
    Right of Access Act 361/1983 s. 4); a former guardian asks then only as the patron's authorised
    representative. Judged on the day the request came."""
    if role != RequesterRole.GUARDIAN:
        return
    if born is None:
        raise RuleBroken(
            "guardian_age_unknown",
            _(
                "The patron's date of birth is not recorded, so a guardian's request cannot be checked to concern "
                "a minor."
            ),
        )
    if age_on(born, received_on) >= ADULT_AGE:
        raise RuleBroken(
            "guardian_of_adult",
            _(
                "The patron was of age (18) on the day of the request: a guardian can no longer act for them. "
                "Record the request as made by an authorised representative, with the authorisation checked."
            ),
        )


def subject_request_record(
    *,
    actor: Actor,
    patron_id: int,
    kind: str,
    received_on: datetime.date,
    identity_document: str,
    identity_verified_by: str = "",
    identity_verified_on: datetime.date | None = None,
    requester_role: str = RequesterRole.PATRON,
    requester_name: str = "",
    requester_authority_check: str = "",
    requester_authority_note: str = "",
) -> SubjectRequest:
    """Record a request as received: who asked, how their identity was checked, and when the answer is due.

    The identity check is recorded as done by the actor today unless told otherwise; it cannot come
    before the request did. A representative may ask for the patron (`_requester_check`, `_guardian_check`);
    the identity checked is theirs, and the answer goes to them.
    """
    _check_choice(kind, RequestKind, "kind_unknown", _("Unknown kind of request. Allowed: %(allowed)s."))
    _check_choice(
        identity_document,
        IdentityDocument,
        "identity_document_unknown",
        _("Identity is checked with an ID card, a passport or a driving licence (%(allowed)s)."),
    )
    if received_on > today():
        raise RuleBroken("received_in_future", _("A request cannot be received in the future."))
    requester_name, requester_authority_check, requester_authority_note = _requester_check(
        role=requester_role,
        name=requester_name,
        authority_check=requester_authority_check,
        authority_note=requester_authority_note,
    )
    free_text_check(
        actor=actor,
        model=SubjectRequest,
        texts={"requester_name": requester_name, "requester_authority_note": requester_authority_note},
        action=Action.SUBJECT_REQUEST,
        patron_ids=consortium_patron_ids(actor=actor, patron_id=patron_id),
    )
    identity_verified_on = identity_verified_on or today()
    _check_day(
        identity_verified_on,
        not_before=received_on,
        before_rule="identity_checked_before_receipt",
        before_message=_("The identity is checked when the request comes or later, not before %(date)s."),
        future_rule="identity_checked_in_future",
        future_message=_("The identity check cannot be dated in the future."),
    )
    with transaction.atomic():
        # A restricted patron may still ask, and a record kept after erasure is the DPO's (patron_for_write).
        patron = patron_for_write(actor=actor, patron_id=patron_id, dpo_work=True)
        _guardian_check(role=requester_role, born=patron.date_of_birth, received_on=received_on)
        consortium = patron.consortium
        subject_request = SubjectRequest.objects.create(
            consortium=consortium,
            patron_id=patron.pk,
            kind=kind,
            received_on=received_on,
            requester_role=requester_role,
            requester_name=requester_name,
            requester_authority_check=requester_authority_check,
            requester_authority_note=requester_authority_note,
            identity_document=identity_document,
            identity_verified_by=(identity_verified_by or "").strip() or actor.username,
            identity_verified_on=identity_verified_on,
            due_on=months_after(received_on, ANSWER_MONTHS, country=consortium.jurisdiction),
            recorded_at=timezone.now(),
            recorded_by=actor.username,
        )
        _record(actor, subject_request, "recorded")
    return subject_request


def subject_request_extend(
    *, actor: Actor, request_id: int, months: int, reason: str, notified_on: datetime.date
) -> SubjectRequest:
    """Extend the time to answer by one or two months (Art. 12(3)): once, with reasons told within the first month."""
    if months not in range(1, MAX_EXTENSION_MONTHS + 1):
        raise RuleBroken(
            "extension_too_long",
            _("The time to answer can be extended by one or two months, three months from receipt at most."),
        )
    reason = _required_text(
        reason, "extension_reason_required", _("Give the reasons for the extension; the patron is told them.")
    )
    _texts_check(actor=actor, request_id=request_id, extension_reason=reason)
    with transaction.atomic():
        subject_request = _open_request(actor=actor, request_id=request_id)
        if subject_request.extended_due_on is not None:
            raise RuleBroken("already_extended", _("The time to answer has already been extended once."))
        _check_day(
            notified_on,
            not_before=subject_request.received_on,
            before_rule="notified_before_receipt",
            before_message=_("The patron cannot have been told of the extension before the request came (%(date)s)."),
            future_rule="notified_in_future",
            future_message=_("The date the patron was told cannot be in the future."),
        )
        if notified_on > subject_request.due_on:
            raise RuleBroken(
                "notified_after_first_month",
                _(
                    "The patron must be told of an extension within one month of receipt, by %(date)s (GDPR "
                    "Art. 12(3)); too late to extend."
                ),
                date=shown_date(subject_request.due_on),
            )
        subject_request.extended_due_on = months_after(
            subject_request.received_on, ANSWER_MONTHS + months, country=subject_request.consortium.jurisdiction
        )
        subject_request.extension_reason = reason
        subject_request.extension_notified_on = notified_on
        subject_request.save(update_fields=["extended_due_on", "extension_reason", "extension_notified_on"])
        _record(actor, subject_request, "extended")
    return subject_request


def subject_request_fee_decide(*, actor: Actor, request_id: int, decision: str, reason: str = "") -> SubjectRequest:
    """Record the DPO's finding that lets an access request cost a reasonable fee or be refused.

    GDPR Art. 15(3): the first copy is free, and a further copy may cost a reasonable fee based on the
    administrative costs. Art. 12(5): a manifestly unfounded or excessive request (in particular a
    repetitive one) may cost a reasonable fee or be refused; the controller bears the burden of showing
    it, so the finding is recorded with its reasoning, which the patron is told. Without a finding the
    copy is free, however soon it follows the last one: "one free report a year" was the repealed Personal
    Data Act 523/1999 s. 26. A further copy needs an earlier report of the patron. A refusal answers the
    request.
    """
    _check_choice(decision, FeeDecision, "fee_decision_unknown", _("Unknown finding. Allowed: %(allowed)s."))
    if decision not in FEE_FINDINGS_VALUES:
        raise RuleBroken(
            "fee_rule_repealed",
            _(
                "A fee is no longer charged for a second report within a year (the repealed Personal Data Act "
                "s. 26); record a finding under GDPR Art. 12(5) or 15(3) instead."
            ),
        )
    reason = _required_text(
        reason,
        "fee_reason_required",
        _(
            "Give the reasoning of the finding: why the request is manifestly unfounded or excessive, or asks for "
            "a further copy. The patron is told it."
        ),
    )
    _texts_check(actor=actor, request_id=request_id, fee_reason=reason)
    with transaction.atomic():
        subject_request = _open_request(actor=actor, request_id=request_id)
        if subject_request.kind != RequestKind.ACCESS:
            raise RuleBroken("not_an_access_request", _("A fee or a refusal of a copy concerns an access request."))
        if subject_request.fee_decision:
            raise RuleBroken("fee_already_decided", _("A finding has already been recorded for this request."))
        if answerer_role(actor=actor, consortium_id=subject_request.consortium_id) is None:
            # The finding decides what the answer costs, or refuses it: it is part of the answer (seed 001).
            raise RuleBroken(
                "not_the_contact_person",
                _(
                    "An access request is answered by the contact person named on the register description, or by "
                    "the data protection officer."
                ),
            )
        earlier = subject_request.previous_report or earlier_report(subject_request)
        if decision == FeeDecision.FURTHER_COPY and earlier is None:
            raise RuleBroken(
                "not_a_further_copy",
                _("The patron has had no earlier report: this is the first copy, which is free (GDPR Art. 15(3))."),
            )
        subject_request.previous_report = earlier
        subject_request.fee_decision = decision
        subject_request.fee_reason = reason
        fields = ["previous_report", "fee_decision", "fee_reason"]
        if decision == FeeDecision.REFUSED:
            subject_request.refusal_ground = RefusalGround.MANIFESTLY_UNFOUNDED
            subject_request.refusal_details = reason
            subject_request.completed_on = today()
            fields += [
                "refusal_ground",
                "refusal_details",
                "completed_on",
                *subject_request_answered_by(actor=actor, subject_request=subject_request),
            ]
        subject_request.save(update_fields=fields)
        _record(actor, subject_request, f"fee_{decision}")
    return subject_request


def subject_request_deliver(
    *, actor: Actor, request_id: int, method: str, delivered_on: datetime.date
) -> SubjectRequest:
    """Record how and when the access report reached the patron, or the representative who asked for them
    (GDPR Art. 12(2)); this answers the request.

    The copy of the request form is destroyed then (Mikkeli notice), and that is recorded too.
    """
    _check_choice(
        method,
        DeliveryMethod,
        "delivery_method_unknown",
        _("The report is delivered electronically or picked up on paper (%(allowed)s)."),
    )
    with transaction.atomic():
        subject_request = _open_request(actor=actor, request_id=request_id)
        if subject_request.kind != RequestKind.ACCESS:
            raise RuleBroken("not_an_access_request", _("Only an access request is answered by delivering a report."))
        if subject_request.report_made_at is None:
            raise RuleBroken("report_not_made", _("Make the access report before recording its delivery."))
        if subject_request.report_incomplete:
            raise RuleBroken(
                "report_incomplete",
                _(
                    "The latest access report is incomplete: a part of the data could not be read. Make the report "
                    "again once it can, then record its delivery."
                ),
            )
        _check_day(
            delivered_on,
            not_before=timezone.localtime(subject_request.report_made_at).date(),
            before_rule="delivered_before_report",
            before_message=_("The report cannot be delivered before it was made (%(date)s)."),
            future_rule="delivered_in_future",
            future_message=_("The delivery date cannot be in the future."),
        )
        subject_request.delivery_method = method
        subject_request.delivered_on = delivered_on
        subject_request.request_form_destroyed_on = delivered_on
        subject_request.completed_on = delivered_on
        subject_request.save(
            update_fields=[
                "delivery_method",
                "delivered_on",
                "request_form_destroyed_on",
                "completed_on",
                *subject_request_answered_by(actor=actor, subject_request=subject_request),
            ]
        )
        _record(actor, subject_request, "delivered")
    return subject_request


def subject_request_refuse(*, actor: Actor, request_id: int, ground: str, details: str) -> SubjectRequest:
    """Refuse a request, with its legal ground and the reasons the patron is given.

    An erasure may be refused only on an Art. 17(3) exception; any other request only as manifestly
    unfounded or excessive (Art. 12(5)).
    """
    _check_choice(ground, RefusalGround, "refusal_ground_unknown", _("Unknown ground. Allowed: %(allowed)s."))
    details = _required_text(
        details, "refusal_details_required", _("Give the reasons for refusing; the patron is told them.")
    )
    _texts_check(actor=actor, request_id=request_id, refusal_details=details)
    with transaction.atomic():
        subject_request = _open_request(actor=actor, request_id=request_id)
        if subject_request.erased_at is not None:
            raise RuleBroken("already_erased", _("The erasure has already been carried out."))
        if subject_request.kind == RequestKind.ERASURE and ground not in ERASURE_REFUSAL_GROUNDS:
            raise RuleBroken(
                "erasure_ground_required",
                _("An erasure can be refused only on one of the exceptions of GDPR Art. 17(3)."),
            )
        if subject_request.kind != RequestKind.ERASURE and ground in ERASURE_REFUSAL_GROUNDS:
            raise RuleBroken(
                "art17_3_for_erasure_only",
                _(
                    "The exceptions of Art. 17(3) apply to erasure only; other requests can be refused as manifestly "
                    "unfounded or excessive (Art. 12(5))."
                ),
            )
        subject_request.refusal_ground = ground
        subject_request.refusal_details = details
        subject_request.completed_on = today()
        subject_request.save(
            update_fields=[
                "refusal_ground",
                "refusal_details",
                "completed_on",
                *subject_request_answered_by(actor=actor, subject_request=subject_request),
            ]
        )
        _record(actor, subject_request, "refused")
    return subject_request


def subject_request_complete(*, actor: Actor, request_id: int, completed_on: datetime.date) -> SubjectRequest:
    """Record that a rectification, restriction or objection was carried out."""
    with transaction.atomic():
        subject_request = _open_request(actor=actor, request_id=request_id)
        if subject_request.kind == RequestKind.ERASURE:
            raise RuleBroken(
                "erasure_answered_by_erasure",
                _(
                    "An erasure request is answered by carrying out the erasure, which records it as answered, "
                    "or by refusing it on an Art. 17(3) ground."
                ),
            )
        if subject_request.kind not in COMPLETED_BY_HAND:
            raise RuleBroken(
                "access_answered_by_delivery", _("An access request is answered by delivering the report.")
            )
        _check_day(
            completed_on,
            not_before=subject_request.received_on,
            before_rule="completed_before_receipt",
            before_message=_("A request cannot be answered before it came (%(date)s)."),
            future_rule="completed_in_future",
            future_message=_("The date of the answer cannot be in the future."),
        )
        subject_request.completed_on = completed_on
        subject_request.save(
            update_fields=["completed_on", *subject_request_answered_by(actor=actor, subject_request=subject_request)]
        )
        _record(actor, subject_request, "completed")
    return subject_request


def subject_request_keeping_record(*, actor: Actor, request_id: int, ground: str, details: str = "") -> SubjectRequest:
    """Record why data a system outside this service still holds after the erasure stays there; this answers
    the erasure request.

    Only for a carried-out erasure some part of which still holds the patron (Art. 17(3), 19). The ground
    is one of a short list; `details` add to it, and are required for "other".
    """
    _check_choice(ground, KeepingGround, "keeping_ground_unknown", _("Unknown ground. Allowed: %(allowed)s."))
    details = (details or "").strip()
    if ground == KeepingGround.OTHER and not details:
        raise RuleBroken("keeping_details_required", _("Give the ground in the details; the patron is told it."))
    _texts_check(actor=actor, request_id=request_id, keeping_details=details)
    with transaction.atomic():
        subject_request = _open_request(actor=actor, request_id=request_id)
        if subject_request.kind != RequestKind.ERASURE or subject_request.erased_at is None:
            raise RuleBroken("not_erased", _("Carry out the erasure first; then record what stays elsewhere and why."))
        if not subject_request.held_elsewhere:
            raise RuleBroken("nothing_held_elsewhere", _("No other system holds this patron's data any more."))
        subject_request.keeping_ground = ground
        subject_request.keeping_details = details
        subject_request.completed_on = today()
        subject_request.save(
            update_fields=[
                "keeping_ground",
                "keeping_details",
                "completed_on",
                *subject_request_answered_by(actor=actor, subject_request=subject_request),
            ]
        )
        _record(actor, subject_request, "kept_elsewhere")
    return subject_request


def subject_request_restrict(*, actor: Actor, request_id: int, ground: str) -> SubjectRequest:
    """Restrict the patron's processing on this request, on a ground of GDPR Art. 18(1) (patrons.processing says
    what a restriction stops). A restriction request is answered by it (carried out today); a rectification or
    an objection stays open until it is settled, and the restriction is then lifted."""
    with transaction.atomic():
        subject_request = _open_request(actor=actor, request_id=request_id)
        allowed = RESTRICTION_GROUNDS.get(RequestKind(subject_request.kind), ())
        if ground in RestrictionGround.values and ground not in allowed:
            raise RuleBroken(
                "ground_not_for_request",
                _(
                    "This ground does not fit the request: a restriction request may rest on any ground of Art. "
                    "18(1), a rectification on (a) and an objection on (d); access and erasure requests restrict "
                    "nothing."
                ),
            )
        processing_restrict(
            actor=actor, patron_id=subject_request.patron_id, ground=ground, subject_request_id=subject_request.pk
        )
        if subject_request.kind == RequestKind.RESTRICTION:
            subject_request.completed_on = today()
            answered = subject_request_answered_by(actor=actor, subject_request=subject_request)
            subject_request.save(update_fields=["completed_on", *answered])
        _record(actor, subject_request, "restricted")
    return subject_request


def subject_request_restriction_lift(
    *, actor: Actor, request_id: int, informed_on: datetime.date | None
) -> SubjectRequest:
    """Lift the restriction this request put in force, once the patron has been told (GDPR Art. 18(3)); also
    after the request was answered, since a restriction lasts until it is lifted."""
    with transaction.atomic():
        subject_request = object_of_consortium_or_404(
            SubjectRequest.objects.select_for_update(of=("self",)), actor=actor, pk=request_id
        )
        restriction = processing_restriction_of(subject_request)
        if restriction is None or restriction.lifted_at is not None:
            raise RuleBroken(
                "not_restricted_by_request", _("This request has no restriction of processing in force to lift.")
            )
        processing_restriction_lift(actor=actor, patron_id=subject_request.patron_id, informed_on=informed_on)
        _record(actor, subject_request, "restriction_lifted")
    return subject_request


# --- Lifting a claim's hold when the claim is settled ---------------------------------------------------------


def legal_claim_holds_lift(*, actor: Actor, request_id: int, settled: str) -> SubjectRequest:
    """The open claim behind an erasure's hold was settled: erase now what was kept for it.

    GDPR Art. 17(3)(e) keeps the identity code only as long as it is needed to establish or collect the claim;
    once the claim is paid or written off the exception no longer applies and the erasure is completed (Art.
    17(1)(a)) instead of waiting for the hold's end (the claim's limitation, LEGAL_CLAIM_HOLD_YEARS). Only the
    holds of the legal-claims ground are lifted: a ban decision kept in its archive period (Art. 17(3)(b)) keeps
    its hold, and the reduced patron record stays as long as such a hold still needs it.
    """
    if settled not in ClaimSettled.values:
        raise RuleBroken(
            "settled_unknown",
            _("Say how the claim ended. Use one of: %(choices)s."),
            choices=", ".join(ClaimSettled.values),
        )
    with transaction.atomic():
        subject_request = object_of_consortium_or_404(
            SubjectRequest.objects.select_for_update(of=("self",)), actor=actor, pk=request_id
        )
        rows = list(LegalHold.objects.select_for_update().filter(subject_request=subject_request, lifted_on=None))
        claims = [row for row in rows if row.ground == HOLD_LEGAL_CLAIMS and row.key != "patron"]
        if not claims:
            raise RuleBroken("no_claim_hold", _("This request has no legal hold for an open claim to lift."))
        others = [row for row in rows if row.ground != HOLD_LEGAL_CLAIMS and row.key != "patron"]
        lifted = [row.pk for row in claims]
        for record in (row for row in rows if row.key == "patron"):
            if others:  # still needed by a kept decision: as long as the longest of those
                record.held_until = min(record.held_until, max(row.held_until for row in others))
                record.ground = max(others, key=lambda row: row.held_until).ground
                record.save(update_fields=["held_until", "ground"])
            else:
                lifted.append(record.pk)
        legal_holds_lift(LegalHold.objects.filter(pk__in=lifted))
        access_event_record(
            actor=actor,
            action=Action.PATRON_ERASE,
            patron_ids=[subject_request.patron_id],
            data_categories=[DataCategory.IDENTITY_CODE],
            detail=f"claim_hold_lifted:{settled}",
        )
    return subject_request
