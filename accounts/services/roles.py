"""Granting roles: the one place that decides who may give which role or permission to whom.

A superuser once added themselves to `billing` in the admin and revealed an identity code. So:
- nobody grants anything to themselves: no group, no permission, no superuser or staff status;
- nobody adds permissions to a group they belong to;
- the identity-code permissions (sotu_silo) stay on the groups the role migrations gave them
  (accounts.roles.SILO_PERMISSION_GROUPS) and are never given to a user directly;
- only a superuser changes superuser status, and the role groups keep their names (the two-factor rule
  and the access log know them by name).

Every grant or removal of `staff`, `billing`, `ban_decider`, `dpo` or superuser status is an access event
(Action.ROLE_CHANGE, detail `grant:billing:user=17`, `remove:superuser:user=17`: who is the actor, whom
the user id, never a name); every refusal is a denied one (`refused:self_grant:user=17`). Granting a role
to someone else stays possible: a superuser with a second account could still grant that account billing,
which is why the DPO's daily access review lists every role change (dpo/review.py).

Source: the Data Protection Act 1050/2018 s. 29 and GDPR Art. 32(4) (only those who need the codes
may process them, and the controller ensures it); this service's own incident.
"""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.roles import ROLE_GROUPS, SILO_APP, SUPERUSER, silo_permission_groups
from audit.actor import Actor
from audit.models import Action, Outcome
from audit.services import access_event_record
from core.errors import Refused


def account_change_record(*, actor: Actor, user, change: str) -> None:
    """An account created (`created`) or its password set by someone else (`password_set`), as an access event.

    Neither is a role, but both decide who can log in as whom: a superuser who sets a billing clerk's
    password and resets the clerk's second factor can work as the clerk. Logged like a role change
    (detail `password_set:user=17`) and a finding in the DPO's daily access review.
    """
    access_event_record(actor=actor, action=Action.ACCOUNT_CHANGE, detail=f"{change}:user={user.pk}")


class RoleChangeRefused(Refused):
    def __init__(self, reason: str, message) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _refuse(actor: Actor, reason: str, whom: str, message) -> RoleChangeRefused:
    access_event_record(
        actor=actor, action=Action.ROLE_CHANGE, outcome=Outcome.DENIED, detail=f"refused:{reason}:{whom}"
    )
    return RoleChangeRefused(reason, message)


def _acting_user(actor: Actor):
    assert actor.user_id is not None  # roles are changed by a logged-in user
    return get_user_model().objects.get(pk=actor.user_id)


def _silo_permissions(permissions: Iterable[Permission]) -> list[Permission]:
    return list(Permission.objects.filter(pk__in=[p.pk for p in permissions], content_type__app_label=SILO_APP))


def user_roles_check(
    *,
    actor: Actor,
    user,
    groups: Iterable[Group],
    permissions: Iterable[Permission],
    is_superuser: bool,
    is_staff: bool,
) -> None:
    """Raise RoleChangeRefused (after logging it) when giving `user` these roles would break a rule."""
    acting = _acting_user(actor)
    stored = get_user_model().objects.get(pk=user.pk)
    new_groups = {group.pk for group in groups} - set(stored.groups.values_list("pk", flat=True))
    stored_permissions = set(stored.user_permissions.values_list("pk", flat=True))
    added_permissions = [p for p in permissions if p.pk not in stored_permissions]
    new_status = (is_superuser and not stored.is_superuser) or (is_staff and not stored.is_staff)
    whom = f"user={user.pk}"
    if acting.pk == user.pk and (new_groups or added_permissions or new_status):
        raise _refuse(actor, "self_grant", whom, _("Nobody may give themselves a role or a permission."))
    if _silo_permissions(added_permissions):
        raise _refuse(
            actor,
            "silo_permission",
            whom,
            _("Identity-code permissions come only with the staff and billing roles, never to a user directly."),
        )
    if is_superuser != stored.is_superuser and not acting.is_superuser:
        raise _refuse(actor, "superuser_only", whom, _("Only a superuser may change superuser status."))


def user_roles_set(
    *,
    actor: Actor,
    user,
    groups: Iterable[Group],
    permissions: Iterable[Permission],
    is_superuser: bool,
    is_staff: bool,
) -> list[str]:
    """Give `user` exactly these groups, direct permissions and statuses; the ROLE_CHANGE details logged."""
    groups, permissions = list(groups), list(permissions)
    with transaction.atomic():
        user_roles_check(
            actor=actor, user=user, groups=groups, permissions=permissions, is_superuser=is_superuser, is_staff=is_staff
        )
        stored = get_user_model().objects.select_for_update().get(pk=user.pk)
        before = set(stored.groups.filter(name__in=ROLE_GROUPS).values_list("name", flat=True))
        after = {group.name for group in groups if group.name in ROLE_GROUPS}
        changes = [("grant", role) for role in sorted(after - before)] + [
            ("remove", role) for role in sorted(before - after)
        ]
        if is_superuser != stored.is_superuser:
            changes.append(("grant" if is_superuser else "remove", SUPERUSER))
        stored.is_superuser, stored.is_staff = is_superuser, is_staff
        stored.save(update_fields=["is_superuser", "is_staff"])
        stored.groups.set(groups)
        stored.user_permissions.set(permissions)
        details = [f"{change}:{role}:user={user.pk}" for change, role in changes]
        for detail in details:
            access_event_record(actor=actor, action=Action.ROLE_CHANGE, detail=detail)
    user.is_superuser, user.is_staff = is_superuser, is_staff
    return details


def group_permissions_check(*, actor: Actor, group: Group, name: str, permissions: Iterable[Permission]) -> None:
    """Raise RoleChangeRefused (after logging it) when saving `group` (new when it has no pk) so would break a rule."""
    acting = _acting_user(actor)
    stored_permissions = set(group.permissions.values_list("pk", flat=True)) if group.pk else set()
    added = [p for p in permissions if p.pk not in stored_permissions]
    stored_name = Group.objects.filter(pk=group.pk).values_list("name", flat=True).first() if group.pk else None
    whom = f"group={group.pk or 'new'}"
    if added and group.pk and acting.groups.filter(pk=group.pk).exists():
        raise _refuse(actor, "own_group", whom, _("Nobody may add permissions to a group they belong to."))
    if any(stored_name not in silo_permission_groups(p.codename) for p in _silo_permissions(added)):
        raise _refuse(
            actor,
            "silo_permission",
            whom,
            _("Identity-code permissions belong only to the groups the roles give them (staff, billing)."),
        )
    if stored_name in ROLE_GROUPS and name != stored_name:
        raise _refuse(actor, "role_group_name", whom, _("The role groups keep their names."))


def group_save(*, actor: Actor, group: Group, name: str, permissions: Iterable[Permission]) -> Group:
    """Create or change a group with exactly these permissions, if the rules allow."""
    permissions = list(permissions)
    with transaction.atomic():
        group_permissions_check(actor=actor, group=group, name=name, permissions=permissions)
        group.name = name
        group.save()
        group.permissions.set(permissions)
    return group
