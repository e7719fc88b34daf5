"""Admin for tenancy: the DPO manages their consortium's networks and staff duties; the rest is for administrators.

Every list here is scoped to the user's own consortium (their staff profile's), a superuser's too: a
superuser administers their consortium, not everyone's (issue 10). What stays global for superusers:
the roles (groups) and user accounts not yet placed in a consortium (no staff profile), so an account
can be created and then placed. A new consortium, with its first municipality, network, library and
administrator, is set up from the command line (`manage.py consortium_create`).
"""

from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import APIKey

from core.dates import today
from staff.actor import actor_from_request
from staff.admin_bounds import BoundedInputsAdmin
from staff.duties import briefing_due_on, briefing_due_q, briefing_is_due
from staff.models import AllowedNetwork, Consortium, Library, MachineKey, Municipality, StaffProfile
from staff.scoping import ConsortiumScopedQuerySet
from staff.selectors import consortium_id_of
from staff.services import machine_key_change_record

# The mixins below extend ModelAdmin's methods through super(); the checker reads them as a ModelAdmin.
if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin
else:
    _ModelAdmin = object


class OwnConsortiumChoices(_ModelAdmin):
    """Foreign keys offer only the user's own consortium's rows (its consortium, municipalities, libraries,
    patrons: every model scoped with staff.scoping)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related, "consortium_lookup"):  # a consortium's rows (staff.scoping)
            kwargs["queryset"] = related._default_manager.of_consortium(consortium_id_of(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class NetworkManagerPermissions:
    """Municipalities and networks: visible and editable with `staff.manage_networks`, own consortium only."""

    def has_module_permission(self, request):
        return request.user.has_perm("staff.manage_networks")

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    has_change_permission = has_view_permission
    has_add_permission = has_module_permission

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)


class AllowedNetworkInline(OwnConsortiumChoices, admin.TabularInline):
    model = AllowedNetwork
    fk_name = "municipality"
    fields = ["cidr", "description"]
    extra = 1

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("staff.manage_networks")

    has_change_permission = has_add_permission = has_delete_permission = has_view_permission


@admin.register(Municipality)
class MunicipalityAdmin(OwnConsortiumChoices, NetworkManagerPermissions, BoundedInputsAdmin):
    """Networks, and the official data a ban decision names (its authority, the rectification body and its
    address: staff.models.Municipality), kept by the DPO and superusers of the consortium."""

    list_display = ["name", "official_name", "rectification_body", "consortium", "network_mode"]
    list_filter = ["network_mode"]
    inlines = [AllowedNetworkInline]
    fieldsets = [
        (None, {"fields": ["consortium", "name", "network_mode"]}),
        (
            _("Named in decisions (Administrative Procedure Act 434/2003 ss. 44, 49 b)"),
            {
                "fields": [
                    "official_name",
                    "official_name_sv",
                    "rectification_body",
                    "rectification_body_sv",
                    "rectification_address",
                    "rectification_email",
                    "office_hours",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return cast(ConsortiumScopedQuerySet, super().get_queryset(request)).of_consortium(
            consortium_id_of(request.user)
        )

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["consortium", "name"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(AllowedNetwork)
class AllowedNetworkAdmin(OwnConsortiumChoices, NetworkManagerPermissions, BoundedInputsAdmin):
    list_display = ["cidr", "municipality", "consortium", "description"]
    list_filter = [("municipality", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["cidr", "description"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("municipality", "consortium")
        consortium_id = consortium_id_of(request.user)
        return queryset.filter(Q(municipality__consortium_id=consortium_id) | Q(consortium_id=consortium_id))


@admin.register(Consortium)
class ConsortiumAdmin(BoundedInputsAdmin):
    """A superuser's own consortium; new consortia come from `manage.py consortium_create`."""

    list_display = ["name", "slug", "jurisdiction"]

    def get_queryset(self, request):
        return cast(ConsortiumScopedQuerySet, super().get_queryset(request)).of_consortium(
            consortium_id_of(request.user)
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Library)
class LibraryAdmin(OwnConsortiumChoices, BoundedInputsAdmin):
    """A library's municipality decides its staff's consortium: moving one to another consortium is refused."""

    list_display = ["name", "koha_library_id", "municipality"]
    list_filter = [("municipality", admin.RelatedOnlyFieldListFilter)]

    def get_queryset(self, request):
        return cast(ConsortiumScopedQuerySet, super().get_queryset(request)).of_consortium(
            consortium_id_of(request.user)
        )


class BriefingDueFilter(admin.SimpleListFilter):
    title = _("briefing due")
    parameter_name = "briefing_due"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        due = briefing_due_q(today())
        if self.value() == "yes":
            return queryset.filter(due)
        if self.value() == "no":
            return queryset.exclude(due)
        return queryset


class ConfidentialitySignedFilter(admin.SimpleListFilter):
    title = _("confidentiality agreement signed")
    parameter_name = "confidentiality_signed"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(confidentiality_signed_on__isnull=self.value() == "no")
        return queryset


@admin.register(StaffProfile)
class StaffProfileAdmin(OwnConsortiumChoices, BoundedInputsAdmin):
    """Staff duties (Swedish guidance): the DPO keeps their consortium's agreements and yearly briefings up to date.

    With `staff.view_staffprofile`/`change_staffprofile` (group `dpo`) a user sees only their own
    consortium's staff and may change only the two dates; superusers administer their own consortium's
    staff and place new staff in its libraries only.
    """

    list_display = [
        "user",
        "home_library",
        "confidentiality_signed_on",
        "privacy_briefing_on",
        "next_briefing_due_on",
        "briefing_due",
    ]
    list_filter = [
        BriefingDueFilter,
        ConfidentialitySignedFilter,
        ("home_library", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["user", "home_library"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
    raw_id_fields = ["patron"]  # a select would list every patron's name
    ordering = ["user__username"]

    def get_queryset(self, request):
        return cast(ConsortiumScopedQuerySet, super().get_queryset(request)).of_consortium(
            consortium_id_of(request.user)
        )

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["user", "home_library", "koha_userid", "patron"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description=_("next briefing due on"), ordering="privacy_briefing_on")
    def next_briefing_due_on(self, profile):
        return briefing_due_on(profile)

    @admin.display(description=_("briefing due"), boolean=True)
    def briefing_due(self, profile):
        return briefing_is_due(profile, today())


# The package's own key model is installed only so that its abstract one imports; keys are MachineKeys.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


def machine_permissions():
    """The permissions a machine client key may hold (settings.MACHINE_KEY_PERMISSIONS), nothing of a role's."""
    wanted = Q(pk__in=[])
    for name in settings.MACHINE_KEY_PERMISSIONS:
        app_label, codename = name.split(".", 1)
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.filter(wanted)


@admin.register(MachineKey)
class MachineKeyAdmin(OwnConsortiumChoices, BoundedInputsAdmin):
    """Machine client keys (staff.machine_keys), for superusers of the consortium only.

    The key is shown once, on the page after it is created; only its hash is stored. A key is revoked, never
    deleted (its events name it) and never un-revoked; rotating is creating a new key and revoking the old.
    """

    list_display = ["name", "prefix", "consortium", "created", "expiry_date", "revoked"]
    list_filter = ["revoked"]
    search_fields = ["name", "prefix"]
    filter_horizontal = ["permissions"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    has_change_permission = has_view_permission

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return cast(ConsortiumScopedQuerySet, super().get_queryset(request)).of_consortium(
            consortium_id_of(request.user)
        )

    def get_fields(self, request, obj=None):
        fields = ["name", "consortium", "networks", "permissions", "expiry_date"]
        return fields if obj is None else ["prefix", "created", *fields, "revoked"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["prefix", "created", "consortium", *(["revoked"] if obj.revoked else [])]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "permissions":
            kwargs["queryset"] = machine_permissions()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        actor = actor_from_request(request)
        if change:
            super().save_model(request, obj, form, change)
            what = (
                "revoked"
                if "revoked" in form.changed_data and obj.revoked
                else "changed:" + ",".join(form.changed_data)
            )
            machine_key_change_record(actor=actor, key=obj, what=what)
            return
        key = MachineKey.objects.assign_key(obj)
        super().save_model(request, obj, form, change)
        machine_key_change_record(actor=actor, key=obj, what="created")
        # Shown on the answer to this POST only (response_add): never in a message, which Django keeps in a
        # cookie or the session until it is shown.
        request.machine_key_shown_once = key

    def response_add(self, request, obj, post_url_continue=None):
        key = getattr(request, "machine_key_shown_once", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "machine_key": obj,
            "key": key,
            "title": _("The new key, shown once"),
        }
        return TemplateResponse(request, "admin/staff/machinekey/shown_once.html", context)
