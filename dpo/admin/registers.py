"""Register descriptions (the Art. 30 record, rekisteriseloste): one per register, its texts in fi/sv/en.

The DPO (`dpo.*_registerdescription`) sees and edits their own consortium's descriptions and may add a
missing register for it; so does a superuser, for their own consortium only. Nobody but a superuser
deletes one.
The public privacy notice (/privacy/<consortium>/) is generated from these texts.
"""

from typing import cast

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from dpo.models import RegisterDescription, RegisterDescriptionText
from staff.admin_bounds import BoundedInputsAdmin
from staff.models import StaffProfile
from staff.scoping import ConsortiumScopedQuerySet
from staff.selectors import consortium_id_of


class RegisterDescriptionTextInline(admin.StackedInline):
    model = RegisterDescriptionText
    max_num = len(settings.LANGUAGES)
    fields = ["language", *RegisterDescriptionText.TEXT_FIELDS]

    def get_extra(self, request, obj=None, **kwargs):
        """Empty forms for the languages still missing (all three for a new description)."""
        return len(settings.LANGUAGES) - (obj.texts.count() if obj is not None else 0)


@admin.register(RegisterDescription)
class RegisterDescriptionAdmin(BoundedInputsAdmin):
    list_display = [
        "register",
        "consortium",
        "contact_user",
        "retention_days",
        "languages",
        "updated_at",
        "public_notice",
    ]
    list_select_related = ["consortium", "contact_user"]
    list_filter = ["register"]
    inlines = [RegisterDescriptionTextInline]

    def get_queryset(self, request):
        return (
            cast(ConsortiumScopedQuerySet, super().get_queryset(request))
            .prefetch_related("texts")
            .of_consortium(consortium_id_of(request.user))
        )

    def get_fields(self, request, obj=None):
        if obj is not None:
            return ["consortium", "register", "contact_user", "retention_days", "public_notice"]
        return ["register", "contact_user", "retention_days"]  # for the user's own consortium (set in save_model)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "contact_user":
            # The contact person is a staff member of the user's own consortium (seed 001: who answers).
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(
                    pk__in=StaffProfile.objects.of_consortium(consortium_id_of(request.user)).values("user_id"),
                    is_active=True,
                )
                .order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # The consortium comes from the user's own staff profile; a description's register stays.
        return ["public_notice", "consortium"] + (["register"] if obj is not None else [])

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            # The consortium is not on the form, so its uniqueness check cannot run: offer only the
            # registers the user's consortium has no description of yet.
            described = set(
                RegisterDescription.objects.of_consortium(consortium_id_of(request.user)).values_list(
                    "register", flat=True
                )
            )
            field = cast(forms.ChoiceField, form.base_fields["register"])
            offered = cast(list[tuple[str, str]], field.choices)  # the model field's choices, as a list
            field.choices = [(value, label) for value, label in offered if value not in described]
        return form

    def save_model(self, request, obj, form, change):
        if not change:
            obj.consortium_id = consortium_id_of(request.user)
        super().save_model(request, obj, form, change)

    def has_add_permission(self, request):
        # A user without a home library has no consortium to describe.
        return super().has_add_permission(request) and consortium_id_of(request.user) is not None

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description=_("languages"))
    def languages(self, description):
        return ", ".join(sorted(text.language for text in description.texts.all())) or "-"

    @admin.display(description=_("public notice"))
    def public_notice(self, description):
        if description.pk is None:
            return "-"
        url = reverse("privacy:notice", args=[description.consortium.slug])
        return format_html('<a href="{}#register-{}">{}</a>', url, description.register, _("View the public notice"))
