"""The DPO's list of restrictions of processing (GDPR Art. 18): which patrons are restricted, why, since when.

Read-only: a restriction is made and lifted on its data-subject request's page (the steps `restriction` and
`restriction_lift`, dpo.services.subject_requests). Only ids are shown, never a name.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from dpo.admin.subject_requests import PERMISSION
from patrons.models import ProcessingRestriction
from staff.admin_bounds import BoundedInputsAdmin
from staff.selectors import consortium_id_of


class InForceFilter(admin.SimpleListFilter):
    title = _("in force")
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("yes", _("In force")), ("no", _("Lifted"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(lifted_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(lifted_at__isnull=False)
        return queryset


@admin.register(ProcessingRestriction)
class ProcessingRestrictionAdmin(BoundedInputsAdmin):
    list_display = [
        "patron_id",
        "ground",
        "restricted_at",
        "restricted_by",
        "request_column",
        "patron_informed_on",
        "lifted_at",
        "lifted_by",
    ]
    list_display_links = None
    list_filter = [InForceFilter, "ground"]
    search_fields = ["=patron__id"]
    search_help_text = _("A patron id.")
    actions = None

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perm(PERMISSION)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made on a data-subject request's page

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the record of the restriction stays after it is lifted

    def get_queryset(self, request: HttpRequest):
        return ProcessingRestriction.objects.of_consortium(consortium_id_of(request.user))

    @admin.display(description=_("data-subject request"))
    def request_column(self, restriction: ProcessingRestriction) -> str:
        if restriction.subject_request_id is None:
            return self.get_empty_value_display()
        url = reverse("admin:dpo_subjectrequest_change", args=[restriction.subject_request_id])
        return format_html('<a href="{}">#{}</a>', url, restriction.subject_request_id)
