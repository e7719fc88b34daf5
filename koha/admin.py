"""The Koha connections in the admin: superusers only, their own consortium's only.

The secret is a write-only field: the form never renders it (not even as dots), an empty field keeps the
stored one, and the save goes through koha.services.koha_connection_save, which logs every change (fields
named, values never) as an access event.
"""

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from koha.models import KohaConnection
from koha.services import koha_base_url_clean, koha_connection_save
from staff.actor import actor_from_request
from staff.admin import OwnConsortiumChoices
from staff.admin_bounds import BoundedInputsAdmin
from staff.scoping import ConsortiumScopedQuerySet
from staff.selectors import consortium_id_of


class KohaConnectionForm(forms.ModelForm):
    new_secret = forms.CharField(
        label=_("client secret or password"),
        required=False,
        strip=True,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Never shown. Leave empty to keep the stored secret."),
    )

    class Meta:
        model = KohaConnection
        fields = ["consortium", "base_url", "auth", "client_id", "enabled"]

    def clean_base_url(self) -> str:
        return koha_base_url_clean(self.cleaned_data["base_url"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is None and not cleaned.get("new_secret"):
            self.add_error("new_secret", _("A new connection needs its secret."))
        return cleaned


@admin.register(KohaConnection)
class KohaConnectionAdmin(OwnConsortiumChoices, BoundedInputsAdmin):
    form = KohaConnectionForm
    list_display = ["consortium", "base_url", "auth", "client_id", "enabled", "secret_changed_at", "updated_at"]
    list_select_related = ["consortium"]
    readonly_fields = ["secret_changed_at", "created_at", "updated_at"]

    def get_fields(self, request, obj=None):
        return ["consortium", "base_url", "auth", "client_id", "new_secret", "enabled", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        # The secret is bound to its consortium (koha/crypto.py): a connection does not move.
        return [*self.readonly_fields, "consortium"] if obj is not None else self.readonly_fields

    def get_queryset(self, request):
        return cast(ConsortiumScopedQuerySet, super().get_queryset(request)).of_consortium(
            consortium_id_of(request.user)
        )

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    has_change_permission = has_view_permission

    def has_delete_permission(self, request, obj=None):
        return False  # turned off (`enabled`) instead, which is logged like every other change

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def save_model(self, request, obj, form, change):
        cleaned = form.cleaned_data
        saved, _changed = koha_connection_save(
            actor=actor_from_request(request),
            consortium=obj.consortium,
            base_url=cleaned["base_url"],
            auth=cleaned["auth"],
            client_id=cleaned["client_id"],
            secret=cleaned.get("new_secret") or None,
            enabled=cleaned["enabled"],
        )
        for field in KohaConnection._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
