"""Admin for tenancy: the DPO manages their consortium's networks; the rest is for administrators.

Patrons are deliberately not in the admin: every read of patron data goes
through a selector that logs it, and the admin would bypass that.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from patrons.models import AllowedNetwork, Consortium, Library, Municipality, StaffProfile
from patrons.tenancy import consortium_id_of


class NetworkManagerPermissions:
    """Municipalities and networks: visible and editable with `patrons.manage_networks`, own consortium only."""

    def has_module_permission(self, request):
        return request.user.has_perm("patrons.manage_networks")

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    has_change_permission = has_view_permission
    has_add_permission = has_module_permission

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)


class AllowedNetworkInline(admin.TabularInline):
    model = AllowedNetwork
    fk_name = "municipality"
    fields = ["cidr", "description"]
    extra = 1

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("patrons.manage_networks")

    has_change_permission = has_add_permission = has_delete_permission = has_view_permission


@admin.register(Municipality)
class MunicipalityAdmin(NetworkManagerPermissions, admin.ModelAdmin):
    list_display = ["name", "consortium", "network_mode"]
    list_filter = ["consortium", "network_mode"]
    inlines = [AllowedNetworkInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(consortium_id=consortium_id_of(request.user))

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["consortium", "name"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(AllowedNetwork)
class AllowedNetworkAdmin(NetworkManagerPermissions, admin.ModelAdmin):
    list_display = ["cidr", "municipality", "consortium", "description"]
    list_filter = ["municipality", "consortium"]
    search_fields = ["cidr", "description"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("municipality", "consortium")
        if request.user.is_superuser:
            return queryset
        consortium_id = consortium_id_of(request.user)
        return queryset.filter(municipality__consortium_id=consortium_id) | queryset.filter(consortium_id=consortium_id)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            consortium_id = consortium_id_of(request.user)
            if db_field.name == "municipality":
                kwargs["queryset"] = Municipality.objects.filter(consortium_id=consortium_id)
            elif db_field.name == "consortium":
                kwargs["queryset"] = Consortium.objects.filter(pk=consortium_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Consortium)
class ConsortiumAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "jurisdiction"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Library)
class LibraryAdmin(admin.ModelAdmin):
    list_display = ["name", "koha_library_id", "municipality"]
    list_filter = ["municipality"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "home_library", "confidentiality_signed_on"]
    list_filter = ["home_library"]
    autocomplete_fields = ["user"]


admin.site.site_header = _("Patron privacy service: administration")
admin.site.site_title = _("Patron privacy service")
admin.site.index_title = _("Data protection and administration")
