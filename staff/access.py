"""Who may read patron data: the tenancy and confidentiality rules, in one place.

A reader needs the permission for the kind of data, a staff profile (which fixes
their consortium) and a signed confidentiality agreement (vaitiolositoumus).
Every selector that reads patron data starts from an Actor these functions
return, and scopes its query to the actor's consortium, so another
consortium's patron is a 404. Each refusal is a denied access event.
"""

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from audit.actor import Actor
from audit.models import Action, Outcome
from audit.services import access_event_record
from staff.actor import actor_from_request
from staff.selectors import staff_profile_of, staff_roles_of


class ConfidentialityNotSigned(PermissionDenied):
    """The staff member has not signed the confidentiality agreement yet."""


def _refuse(request: HttpRequest, error: PermissionDenied, detail: str, action: str, about) -> PermissionDenied:
    if request.user.is_authenticated:
        access_event_record(
            actor=actor_from_request(request), action=action, outcome=Outcome.DENIED, detail=detail, **about
        )
    return error


def _has_granted_permission(user, permission: str) -> bool:
    """A permission given to the user or their groups; a superuser's blanket permission does not count.

    Superusers administer, they do not bypass the silo; sotu_silo.access asks for this.
    """
    return permission in staff_roles_of(user).permissions


def actor_with_permission(
    request: HttpRequest,
    permission: str,
    *,
    superuser_counts: bool = True,
    action: str = Action.REQUEST,
    patron_id: int | None = None,
    data_categories: Sequence[str] = (),
) -> Actor:
    """The actor, or a PermissionDenied that was first logged as a refused `action` (about `patron_id`
    and `data_categories`).

    The one check behind every role: the permission (a superuser's blanket one only if
    `superuser_counts`), a staff profile and a signed confidentiality agreement.
    """
    user = request.user
    about: dict[str, list[int] | list[str]] = {"patron_ids": [patron_id] if patron_id is not None else []}
    if data_categories:
        about["data_categories"] = list(data_categories)
    staff_roles_of(user)  # one query for groups and permissions, which has_perm then reads
    allowed = user.has_perm(permission) if superuser_counts else _has_granted_permission(user, permission)
    if not user.is_authenticated or not allowed:
        raise _refuse(request, PermissionDenied(_("Your role does not allow this.")), "role", action, about)
    _staff_member_check(request, action=action, about=about)
    return actor_from_request(request)


def _staff_member_check(request: HttpRequest, *, action: str, about: dict) -> None:
    """A staff profile (which fixes the consortium) and a signed confidentiality agreement, or a logged
    PermissionDenied."""
    profile = staff_profile_of(request.user)
    if profile is None:
        message = _("Your user account has no home library; ask an administrator to set one.")
        raise _refuse(request, PermissionDenied(message), "no_staff_profile", action, about)
    if profile.confidentiality_signed_on is None:
        message = _("You have not signed the confidentiality agreement, so patron data is not shown to you yet.")
        raise _refuse(request, ConfidentialityNotSigned(message), "confidentiality_not_signed", action, about)


def admin_access_check(request: HttpRequest) -> bool:
    """Whether the admin site opens for this request: the admin's own rule (an active `is_staff` user)
    and then, for everyone but a superuser, the staff pages' check (a staff profile and a signed
    confidentiality agreement), whose refusal is a logged PermissionDenied (a 403 page saying why).

    Superusers are let in without them: they set up their consortium and record agreements, their own
    included (`manage.py consortium_create` places a new consortium's administrator unsigned), and what
    they then see is scoped to their consortium by the admin classes.
    """
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    if not user.is_superuser:
        _staff_member_check(request, action=Action.REQUEST, about={"patron_ids": []})
    return True


def patron_data_actor(request: HttpRequest) -> Actor:
    """The actor for searching and viewing patrons (library staff)."""
    return actor_with_permission(request, "patrons.view_patron_data")


def access_log_actor(request: HttpRequest) -> Actor:
    """The actor for reading a patron's access log (the data protection officer)."""
    return actor_with_permission(request, "audit.view_access_log")


def ban_preparer_actor(request: HttpRequest) -> Actor:
    """The actor for proposing a ban, recording its hearing and notification, and recording a prohibition."""
    return actor_with_permission(request, "bans.prepare_ban")


def ban_decider_actor(request: HttpRequest) -> Actor:
    """The actor for deciding a ban, its rectification request or its cancellation (ban deciders only)."""
    return actor_with_permission(request, "bans.decide_ban")


def ban_archive_actor(request: HttpRequest) -> Actor:
    """The actor for the decision archive, ended bans included (ban deciders and the DPO)."""
    return actor_with_permission(request, "bans.view_ban_archive")


def subject_request_actor(request: HttpRequest) -> Actor:
    """The actor for data-subject requests: recording, access reports, erasure (the DPO)."""
    return actor_with_permission(request, "dpo.manage_subject_requests")


def breach_actor(request: HttpRequest) -> Actor:
    """The actor for the breach register (the DPO)."""
    return actor_with_permission(request, "dpo.manage_breaches")


def access_review_actor(request: HttpRequest) -> Actor:
    """The actor for the daily access review of staff reads (the DPO)."""
    return actor_with_permission(request, "audit.review_access")


def register_description_actor(request: HttpRequest) -> Actor:
    """The actor for reading the register descriptions (Art. 30 record) through the API (the DPO)."""
    return actor_with_permission(request, "dpo.view_registerdescription")
