"""Admin for exceptional circumstances (closure periods); the tenancy admin is in staff/admin.py.

Patrons are deliberately not in the admin: every read of patron data goes
through a selector that logs it, and the admin would bypass that.
"""

from typing import cast

from django.contrib import admin

from patrons.models import ClosurePeriod
from staff.admin import OwnConsortiumChoices
from staff.admin_bounds import BoundedInputsAdmin
from staff.scoping import ConsortiumScopedQuerySet
from staff.selectors import consortium_id_of


@admin.register(ClosurePeriod)
class ClosurePeriodAdmin(OwnConsortiumChoices, BoundedInputsAdmin):
    """Exceptional circumstances (Lapland 2020): libraries closed, registration frozen, PIN by phone allowed,
    expired cards extended. Set up by administrators (superusers) only, for their own consortium; see
    patrons.closures."""

    list_display = [
        "consortium",
        "starts_on",
        "ends_on",
        "registration_frozen",
        "pin_by_phone_allowed",
        "cards_extended_until",
        "description",
    ]
    list_filter = ["registration_frozen", "pin_by_phone_allowed"]
    list_select_related = ["consortium"]
    date_hierarchy = "starts_on"

    def get_queryset(self, request):
        return cast(ConsortiumScopedQuerySet, super().get_queryset(request)).of_consortium(
            consortium_id_of(request.user)
        )

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    has_change_permission = has_delete_permission = has_view_permission

    def has_add_permission(self, request):
        return self.has_module_permission(request)
