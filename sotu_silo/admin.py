"""The admin shows that a code exists for a patron, never the code, its ciphertext or its index."""

from django.contrib import admin

from privacy_service.admin_bounds import BoundedInputsAdmin
from sotu_silo.models import IdentityCode


@admin.register(IdentityCode)
class IdentityCodeAdmin(BoundedInputsAdmin):
    list_display = ["patron_id", "consortium_id", "country", "key_id", "created_at", "updated_at"]
    list_filter = ["country", "key_id"]
    fields = ["patron_id", "consortium_id", "country", "key_id", "created_at", "updated_at"]
    readonly_fields = fields

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
