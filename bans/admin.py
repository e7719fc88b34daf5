"""The competence table in the admin: the DPO (`bans.manage_decision_competence`) and superusers keep it,
each for their own consortium. Bans themselves are not in the admin: their reads are logged by selectors."""

from typing import cast

from django.contrib import admin
from django.contrib.auth import get_user_model

from bans.models import DecisionCompetence
from staff.admin import OwnConsortiumChoices
from staff.admin_bounds import BoundedInputsAdmin
from staff.scoping import ConsortiumScopedQuerySet
from staff.selectors import consortium_id_of

PERMISSION = "bans.manage_decision_competence"


@admin.register(DecisionCompetence)
class DecisionCompetenceAdmin(OwnConsortiumChoices, BoundedInputsAdmin):
    """Who decides bans for which library or municipality, by which delegation, from when to when."""

    list_display = ["decider", "title", "municipality", "library", "delegation", "valid_from", "valid_until"]
    list_filter = ["municipality"]
    list_select_related = ["decider", "municipality", "library"]
    fields = ["decider", "title", "municipality", "library", "delegation", "valid_from", "valid_until"]

    def get_queryset(self, request):
        return cast(ConsortiumScopedQuerySet, super().get_queryset(request)).of_consortium(
            consortium_id_of(request.user)
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "decider":  # staff of the user's own consortium only
            kwargs["queryset"] = get_user_model().objects.filter(
                staff_profile__home_library__municipality__consortium__in=[consortium_id_of(request.user)]
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return request.user.is_active and (request.user.is_superuser or request.user.has_perm(PERMISSION))

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    has_change_permission = has_delete_permission = has_view_permission

    def has_add_permission(self, request):
        return self.has_module_permission(request)
