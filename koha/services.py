"""Writes for Koha's machine calls: the views Koha's staff interface reports."""

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.actor import Actor
from audit.models import Action, DataCategory, Outcome
from audit.services import access_event_record
from koha.models import KohaViewReceipt
from patrons.models import Patron
from staff.client_ip import IPAddress
from staff.ip_allowlist import Verdict, network_verdict
from staff.models import MachineKey, StaffProfile

# What Koha's patron pages show; the plugin does not say which fields a page had, so every view records these.
VIEW_CATEGORIES = (DataCategory.BASIC, DataCategory.CONTACT)


@dataclass(frozen=True)
class ReportedView:
    """One patron view in Koha's staff interface, as the plugin reports it."""

    event_id: str
    koha_patron_id: int
    staff_userid: str
    staff_address: IPAddress
    page: str
    viewed_at: datetime.datetime


@dataclass(frozen=True)
class ViewAnswer:
    """What became of one reported view: `recorded`, `duplicate` (recorded before) or `unknown_patron` (no
    patron of the consortium has the Koha id; nothing recorded, so a later resend after a sync records it)."""

    event_id: str
    status: str
    staff_user_known: bool | None = None
    network_allowed: bool | None = None


def _staff_by_userid(consortium_id: int, userids: set[str]) -> dict[str, StaffProfile]:
    """Profiles of the consortium by Koha user id; a userid two profiles claim matches nobody (not a guess)."""
    found: dict[str, StaffProfile] = {}
    ambiguous: set[str] = set()
    profiles = (
        StaffProfile.objects.of_consortium(consortium_id)
        .filter(koha_userid__in=userids)
        .select_related("user", "home_library")
    )
    for profile in profiles:
        if profile.koha_userid in found:
            ambiguous.add(profile.koha_userid)
        found[profile.koha_userid] = profile
    return {userid: profile for userid, profile in found.items() if userid not in ambiguous}


def _view_actor(view: ReportedView, consortium_id: int, profile: StaffProfile | None) -> Actor:
    return Actor(
        user_id=profile.user_id if profile else None,
        username=profile.user.get_username() if profile else f"koha:{view.staff_userid}",
        municipality_id=profile.home_library.municipality_id if profile else None,
        consortium_id=consortium_id,
        client_ip=view.staff_address,
        resource=f"koha:{view.page}",
    )


def _record(actor: Actor, key: MachineKey, views: list[ReportedView]) -> list[ViewAnswer]:
    consortium_id = key.consortium_id
    with transaction.atomic():
        seen = set(
            KohaViewReceipt.objects.filter(
                consortium_id=consortium_id, event_id__in={view.event_id for view in views}
            ).values_list("event_id", flat=True)
        )
        patrons = dict(
            Patron.objects.of_consortium(consortium_id)
            .filter(koha_patron_id__in={view.koha_patron_id for view in views})
            .values_list("koha_patron_id", "pk")
        )
        staff = _staff_by_userid(consortium_id, {view.staff_userid for view in views})
        answers: list[ViewAnswer] = []
        receipts: list[KohaViewReceipt] = []
        now = timezone.now()
        for view in views:
            if view.event_id in seen:
                answers.append(ViewAnswer(view.event_id, "duplicate"))
                continue
            patron_id = patrons.get(view.koha_patron_id)
            if patron_id is None:
                answers.append(ViewAnswer(view.event_id, "unknown_patron"))
                continue
            seen.add(view.event_id)
            profile = staff.get(view.staff_userid)
            allowed = profile is not None and (
                network_verdict(user=profile.user, address=view.staff_address) is Verdict.ALLOW
            )
            detail = "" if allowed else ("network_not_allowed" if profile is not None else "unknown_staff_user")
            event = access_event_record(
                actor=_view_actor(view, consortium_id, profile),
                action=Action.KOHA_PATRON_VIEW,
                # It happened in Koha; "reported" is what the access review reads as a would-be denial here.
                outcome=Outcome.ALLOWED if allowed else Outcome.REPORTED,
                patron_ids=[patron_id],
                data_categories=VIEW_CATEGORIES,
                detail=detail,
            )
            receipts.append(
                KohaViewReceipt(
                    consortium_id=consortium_id,
                    event_id=view.event_id,
                    key=key,
                    viewed_at=view.viewed_at,
                    received_at=now,
                    access_event_id=event.pk,
                )
            )
            answers.append(ViewAnswer(view.event_id, "recorded", profile is not None, allowed))
        KohaViewReceipt.objects.bulk_create(receipts)
        counts = {status: sum(answer.status == status for answer in answers) for status in ("recorded", "duplicate")}
        access_event_record(
            actor=actor,
            action=Action.KOHA_VIEWS_RECEIVED,
            detail=f"recorded:{counts['recorded']};duplicate:{counts['duplicate']};"
            f"unknown_patron:{len(answers) - sum(counts.values())}",
        )
    return answers


def koha_views_record(*, actor: Actor, key: MachineKey, views: list[ReportedView]) -> list[ViewAnswer]:
    """Record each view reported by Koha once, as the staff member's access event; all of a batch or nothing.

    The staff member is the profile of the key's consortium with that Koha user id (an unknown one is
    recorded under `koha:<userid>` as a would-be denial); their address is checked by the allow-list rule
    of their municipality (staff.ip_allowlist), a would-be denial recorded as such. The batch itself is one
    event of the key. A batch sent twice at once: the later one's receipts collide, and it runs again, now
    finding the earlier one's receipts (duplicates).
    """
    try:
        return _record(actor, key, views)
    except IntegrityError:
        return _record(actor, key, views)
