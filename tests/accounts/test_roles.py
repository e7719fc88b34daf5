"""Nobody grants themselves a role: the attacks a superuser (or an admin user) could try in the admin.

Each attack is the admin's own form POST; after each, the identity code stays unreachable. A grant to
someone else stays possible and is logged.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.services.roles import RoleChangeRefused, user_roles_set
from audit.actor import Actor
from audit.models import AccessEvent, Action, Outcome
from tests.accounts.helpers import admin_form_data, patron_with_code
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
User = get_user_model()


def user_change(client, user, **changes):
    url = f"/admin/auth/user/{user.pk}/change/"
    return client.post(url, admin_form_data(client.get(url), **changes))


def group_change(client, group, **changes):
    url = f"/admin/auth/group/{group.pk}/change/" if group else "/admin/auth/group/add/"
    return client.post(url, admin_form_data(client.get(url), **changes))


def reveal_permission() -> Permission:
    return Permission.objects.get(content_type__app_label="sotu_silo", codename="reveal_identity_code")


def assert_code_unreachable(username: str) -> None:
    patron_id = patron_with_code()
    client = client_for(username)
    api = client.post(
        f"/api/v1/patrons/{patron_id}/identity-code/reveal/",
        {"reason": "lasku 2026-77"},
        content_type="application/json",
    )
    assert api.status_code == 403 and "identity_code" not in api.json()
    assert client.get("/billing/").status_code == 403


def last_role_change() -> AccessEvent | None:
    return AccessEvent.objects.filter(action=Action.ROLE_CHANGE).order_by("-id").first()


def refused(response, message: str) -> bool:
    with translation.override("fi"):
        return response.status_code == 200 and gettext(message) in response.content.decode()


def test_a_superuser_cannot_add_themselves_to_billing():
    admin = User.objects.get(username="admin")
    response = user_change(client_for("admin"), admin, groups=[Group.objects.get(name="billing").pk])
    assert refused(response, "Nobody may give themselves a role or a permission.")
    assert not admin.groups.exists()
    event = last_role_change()
    assert (event.actor_username, event.outcome, event.detail) == (
        "admin",
        Outcome.DENIED,
        f"refused:self_grant:user={admin.pk}",
    )
    assert_code_unreachable("admin")


def test_a_superuser_cannot_give_themselves_the_reveal_permission():
    admin = User.objects.get(username="admin")
    response = user_change(client_for("admin"), admin, user_permissions=[reveal_permission().pk])
    assert refused(response, "Nobody may give themselves a role or a permission.")
    assert not admin.user_permissions.exists()
    assert_code_unreachable("admin")


def test_nobody_gets_the_reveal_permission_directly():
    staff = User.objects.get(username="rovaniemi.staff")
    response = user_change(client_for("admin"), staff, user_permissions=[reveal_permission().pk])
    assert refused(
        response, "Identity-code permissions come only with the staff and billing roles, never to a user directly."
    )
    assert not staff.user_permissions.exists()
    assert last_role_change().detail == f"refused:silo_permission:user={staff.pk}"
    assert_code_unreachable("rovaniemi.staff")


def test_a_superuser_cannot_add_the_reveal_permission_to_a_group_they_are_in():
    admin = User.objects.get(username="admin")
    ban_deciders = Group.objects.get(name="ban_decider")
    admin.groups.add(ban_deciders)  # as another superuser legitimately could have
    permissions = [*ban_deciders.permissions.all(), reveal_permission()]
    response = group_change(client_for("admin"), ban_deciders, permissions=permissions)
    assert refused(response, "Nobody may add permissions to a group they belong to.")
    assert not ban_deciders.permissions.filter(pk=reveal_permission().pk).exists()
    assert last_role_change().detail == f"refused:own_group:group={ban_deciders.pk}"
    assert_code_unreachable("admin")


def test_the_reveal_permission_stays_with_billing():
    staff = Group.objects.get(name="staff")
    response = group_change(client_for("admin"), staff, permissions=[*staff.permissions.all(), reveal_permission()])
    assert refused(
        response, "Identity-code permissions belong only to the groups the roles give them (staff, billing)."
    )
    assert not staff.permissions.filter(pk=reveal_permission().pk).exists()
    # Nor to a new group, which the superuser would then join... or give to an accomplice.
    response = group_change(client_for("admin"), None, name="laskutus2", permissions=[reveal_permission()])
    assert refused(
        response, "Identity-code permissions belong only to the groups the roles give them (staff, billing)."
    )
    assert not Group.objects.filter(name="laskutus2").exists()
    assert last_role_change().detail == "refused:silo_permission:group=new"
    assert_code_unreachable("rovaniemi.staff")


def test_the_role_groups_keep_their_names_and_are_not_deleted():
    """Renaming `billing` would quietly drop the second factor its members need."""
    billing = Group.objects.get(name="billing")
    client = client_for("admin")
    assert refused(group_change(client, billing, name="laskutus"), "The role groups keep their names.")
    assert Group.objects.filter(name="billing").exists()
    assert client.get(f"/admin/auth/group/{billing.pk}/delete/").status_code == 403
    assert client.post(f"/admin/auth/group/{billing.pk}/delete/", {"post": "yes"}).status_code == 403


def test_a_user_administrator_cannot_make_themselves_a_superuser():
    director = User.objects.get(username="rovaniemi.director")
    director.is_staff = True
    director.save()
    director.user_permissions.add(*Permission.objects.filter(content_type__app_label="auth", codename__endswith="user"))
    client = client_for("rovaniemi.director")
    assert refused(
        user_change(client, director, is_superuser=True), "Nobody may give themselves a role or a permission."
    )
    staff = User.objects.get(username="rovaniemi.staff")
    assert refused(user_change(client, staff, is_superuser=True), "Only a superuser may change superuser status.")
    assert not User.objects.filter(username__in=["rovaniemi.director", "rovaniemi.staff"], is_superuser=True).exists()
    assert_code_unreachable("rovaniemi.director")


def test_the_service_refuses_whatever_the_form_sends():
    """The rule lives in the service: a caller that skips the form's check is refused the same way."""
    admin = User.objects.get(username="admin")
    actor = Actor(user_id=admin.pk, username="admin", municipality_id=None, consortium_id=None, client_ip=None)
    with pytest.raises(RoleChangeRefused):
        user_roles_set(
            actor=actor,
            user=admin,
            groups=Group.objects.filter(name="billing"),
            permissions=[],
            is_superuser=True,
            is_staff=True,
        )
    assert not admin.groups.exists()


def test_granting_billing_to_someone_else_is_allowed_and_logged():
    staff = User.objects.get(username="rovaniemi.staff")
    client = client_for("admin")
    groups = [*staff.groups.all(), Group.objects.get(name="billing")]
    response = user_change(client, staff, groups=groups, is_superuser=True)
    assert response.status_code == 302
    assert staff.groups.filter(name="billing").exists()
    granted = AccessEvent.objects.filter(action=Action.ROLE_CHANGE).order_by("-id")[:2]
    assert sorted((e.actor_username, e.outcome, e.detail) for e in granted) == [
        ("admin", Outcome.ALLOWED, f"grant:billing:user={staff.pk}"),
        ("admin", Outcome.ALLOWED, f"grant:superuser:user={staff.pk}"),
    ]
    assert "rovaniemi.staff" not in " ".join(e.detail for e in granted)  # whom by id, never by name
    staff.refresh_from_db()
    response = user_change(client, staff, groups=list(staff.groups.exclude(name="billing")), is_superuser=False)
    assert response.status_code == 302
    assert {e.detail for e in AccessEvent.objects.filter(action=Action.ROLE_CHANGE).order_by("-id")[:2]} == {
        f"remove:billing:user={staff.pk}",
        f"remove:superuser:user={staff.pk}",
    }
    # An unchanged save logs nothing.
    before = AccessEvent.objects.filter(action=Action.ROLE_CHANGE).count()
    assert user_change(client, staff).status_code == 302
    assert AccessEvent.objects.filter(action=Action.ROLE_CHANGE).count() == before


def test_role_changes_and_resets_are_findings_in_the_dpos_review():
    """The path left to a superuser (a second account given billing, or a clerk's second factor reset and
    their own enrolled) shows in the next daily review."""
    staff = User.objects.get(username="rovaniemi.staff")
    admin_client = client_for("admin")
    user_change(admin_client, staff, groups=[*staff.groups.all(), Group.objects.get(name="billing")])
    user_change(admin_client, User.objects.get(username="admin"), groups=[Group.objects.get(name="dpo").pk])
    admin_client.post(
        "/admin/auth/user/",
        {"action": "reset_two_factor", "_selected_action": [User.objects.get(username="rovaniemi.billing").pk]},
    )
    review = client_for("dpo").get(f"/api/v1/access-review/?day={timezone.localdate().isoformat()}").json()
    findings = {(f["username"], f["kind"]): f for f in review["findings"] if f["username"] == "admin"}
    assert findings.keys() == {("admin", "role_change"), ("admin", "two_factor_reset")}
    assert findings["admin", "role_change"]["event_count"] == 2  # the grant and the refused self-grant
    assert "action__exact=role_change" in findings["admin", "role_change"]["url"]
    assert findings["admin", "two_factor_reset"]["event_count"] == 1
    listed = client_for("dpo").get(findings["admin", "role_change"]["url"])
    assert listed.status_code == 200 and listed.context["cl"].result_count == 2


def test_a_clerks_account_taken_over_by_a_superuser_is_logged_step_by_step_and_a_finding():
    """The second reader's path: a superuser sets a billing clerk's password and resets the clerk's second
    factor, then works as the clerk. Not preventable by one person's rules; every step is an access event
    and the DPO's next review shows it."""
    clerk = User.objects.get(username="rovaniemi.billing")
    admin_client = client_for("admin")
    url = f"/admin/auth/user/{clerk.pk}/password/"
    new_password = "uusi-salasana-2026-kirjasto"
    response = admin_client.post(url, {"password1": new_password, "password2": new_password, "usable_password": "true"})
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.check_password(new_password)
    admin_client.post("/admin/auth/user/", {"action": "reset_two_factor", "_selected_action": [clerk.pk]})
    # A new account is logged as created, too (the other path: a second account given billing).
    admin_client.post(
        "/admin/auth/user/add/",
        {"username": "varjo", "password1": new_password, "password2": new_password, "usable_password": "true"},
    )
    shadow = User.objects.get(username="varjo")
    events = AccessEvent.objects.filter(actor_username="admin").exclude(action=Action.REQUEST).order_by("id")
    details = [(e.action, e.detail) for e in events]
    assert (Action.ACCOUNT_CHANGE, f"password_set:user={clerk.pk}") in details
    assert (Action.TWO_FACTOR, f"reset:user={clerk.pk}") in details
    assert (Action.ACCOUNT_CHANGE, f"created:user={shadow.pk}") in details
    assert new_password not in " ".join(e.detail + e.reason for e in events)
    review = client_for("dpo").get(f"/api/v1/access-review/?day={timezone.localdate().isoformat()}").json()
    kinds = {f["kind"]: f for f in review["findings"] if f["username"] == "admin"}
    assert {"account_change", "two_factor_reset"} <= kinds.keys()
    assert kinds["account_change"]["event_count"] == 2
