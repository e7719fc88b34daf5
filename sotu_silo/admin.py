"""The admin shows that a code exists for a patron, never the code, its ciphertext or its index.

Superusers only, and only their own consortium's rows.
"""

from django.contrib import admin

from patrons.tenancy import consortium_id_of
from privacy_service.admin_bounds import BoundedInputsAdmin
from sotu_silo.models import IdentityCode


@admin.register(IdentityCode)
class IdentityCodeAdmin(BoundedInputsAdmin):
    list_display = ["patron_id", "consortium_id", "country", "key_id", "created_at", "updated_at"]
    list_filter = ["country", "key_id"]
    fields = ["patron_id", "consortium_id", "country", "key_id", "created_at", "updated_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(consortium_id=consortium_id_of(request.user))

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
