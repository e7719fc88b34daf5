"""Users and groups in the admin, with every role change going through accounts/services/roles.py.

The forms show a refused change as an error (the service logs it); the save itself calls the service
again, which checks once more and writes the roles, so hiding or forging form fields changes nothing.
django-otp's device admin pages are removed: they would show any user's authenticator key and let a
superuser give someone a device whose key they know. Both admins keep to the service's input bounds
(staff.admin_bounds): a "date joined" of year 1 was a server error when the row was saved.
"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import ROLE_GROUPS
from accounts.services.roles import (
    RoleChangeRefused,
    account_change_record,
    group_permissions_check,
    group_save,
    user_roles_check,
    user_roles_set,
)
from accounts.services.two_factor import two_factor_reset
from core.errors import RuleBroken
from staff.actor import actor_from_request
from staff.admin_bounds import BoundedInputsAdmin
from staff.selectors import consortium_id_of

User = get_user_model()
for _model in (User, Group, TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)

USER_ROLE_FIELDS = ("groups", "user_permissions", "is_superuser", "is_staff")


def _user_roles(form, user) -> dict:
    """The roles the form asks for; a field the form does not have keeps the stored value."""
    cleaned = form.cleaned_data
    return {
        "groups": cleaned["groups"] if "groups" in cleaned else user.groups.all(),
        "permissions": cleaned["user_permissions"] if "user_permissions" in cleaned else user.user_permissions.all(),
        "is_superuser": cleaned.get("is_superuser", user.is_superuser),
        "is_staff": cleaned.get("is_staff", user.is_staff),
    }


@admin.register(User)
class UserAdmin(BoundedInputsAdmin, auth_admin.UserAdmin):
    list_display = (*auth_admin.UserAdmin.list_display, "is_superuser", "two_factor")  # type: ignore[misc]  # Django's tuple
    actions = ["reset_two_factor"]

    def get_queryset(self, request):
        """The own consortium's staff accounts, and accounts not yet placed in any consortium."""
        enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        own = Q(staff_profile__home_library__municipality__consortium_id=consortium_id_of(request.user))
        return (
            super()
            .get_queryset(request)
            .filter(Q(staff_profile__isnull=True) | own)
            .annotate(two_factor_enrolled=Exists(enrolled))
        )

    @admin.display(boolean=True, description=_("two-factor authentication"), ordering="two_factor_enrolled")
    def two_factor(self, user) -> bool:
        return user.two_factor_enrolled

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class: Any = super().get_form(request, obj, change=change, **kwargs)  # a class made for this request
        if obj is None:
            return form_class  # the add form has no roles: they are given on the change form

        class RoleCheckedUserForm(form_class):
            def clean(self):
                cleaned = super().clean()
                try:
                    user_roles_check(actor=actor_from_request(request), user=self.instance, **_user_roles(self, obj))
                except RoleChangeRefused as refusal:
                    raise ValidationError(refusal.message, code=refusal.reason) from refusal
                return cleaned

        return RoleCheckedUserForm

    def save_model(self, request, obj, form, change):
        if change:
            # The statuses are written by user_roles_set in save_related, which checks them again.
            obj.is_superuser, obj.is_staff = User.objects.filter(pk=obj.pk).values_list("is_superuser", "is_staff")[0]
        super().save_model(request, obj, form, change)
        if not change:
            account_change_record(actor=actor_from_request(request), user=obj, change="created")

    def user_change_password(self, request, id, form_url=""):
        """Django's page for setting a user's password; a password set is an access event, in one transaction."""
        with transaction.atomic():
            before = User.objects.filter(pk=id).values_list("password", flat=True).first() if id.isdigit() else None
            response = super().user_change_password(request, id, form_url)
            after = User.objects.filter(pk=id).values_list("password", flat=True).first() if id.isdigit() else None
            if before is not None and after != before:
                user = User.objects.get(pk=id)
                change = "password_set" if user.pk != request.user.pk else "own_password_set"
                account_change_record(actor=actor_from_request(request), user=user, change=change)
        return response

    def save_related(self, request, form, formsets, change):
        if not change:
            return super().save_related(request, form, formsets, change)
        stored = User.objects.get(pk=form.instance.pk)
        user_roles_set(actor=actor_from_request(request), user=form.instance, **_user_roles(form, stored))
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
        return None

    @admin.action(description=_("Reset two-factor authentication"), permissions=["reset_two_factor"])
    def reset_two_factor(self, request, queryset):
        actor, done = actor_from_request(request), 0
        for user in queryset:
            try:
                two_factor_reset(actor=actor, user=user)
            except RuleBroken as refusal:
                self.message_user(request, " ".join(refusal.messages), messages.ERROR)
            else:
                done += 1
        if done:
            message = ngettext(
                "Two-factor authentication reset for %(count)d user; they set it up again at their next log-in.",
                "Two-factor authentication reset for %(count)d users; they set it up again at their next log-in.",
                done,
            )
            self.message_user(request, message % {"count": done}, messages.SUCCESS)

    def has_reset_two_factor_permission(self, request) -> bool:
        return request.user.is_superuser


@admin.register(Group)
class GroupAdmin(BoundedInputsAdmin, auth_admin.GroupAdmin):
    actions = None  # "delete selected" would delete the role groups, which the change page does not allow

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class: Any = super().get_form(request, obj, change=change, **kwargs)  # a class made for this request

        class RoleCheckedGroupForm(form_class):
            def clean(self):
                cleaned = super().clean()
                if "name" in cleaned and "permissions" in cleaned:
                    group = obj if obj is not None else Group()
                    try:
                        group_permissions_check(
                            actor=actor_from_request(request),
                            group=group,
                            name=cleaned["name"],
                            permissions=cleaned["permissions"],
                        )
                    except RoleChangeRefused as refusal:
                        raise ValidationError(refusal.message, code=refusal.reason) from refusal
                return cleaned

        return RoleCheckedGroupForm

    def save_model(self, request, obj, form, change):
        """Nothing here: group_save in save_related writes the group and its permissions after its check."""

    def save_related(self, request, form, formsets, change):
        cleaned, actor = form.cleaned_data, actor_from_request(request)
        group_save(actor=actor, group=form.instance, name=cleaned["name"], permissions=cleaned["permissions"])

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.name in ROLE_GROUPS:
            return False
        return super().has_delete_permission(request, obj)
