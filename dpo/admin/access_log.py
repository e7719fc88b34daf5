"""A read-only browser of the access log for the DPO: filter by patron, actor, action, outcome and date."""

from typing import cast

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit.models import AccessEvent, Action, DataCategory
from audit.sealing import without_unsealed_forgeries
from audit.services import access_event_record
from core.bounds import ID_MAX, ID_OUT_OF_RANGE, parse_id
from dpo.access_log_selectors import access_event_queryset_for_user
from dpo.admin.wide import WideChangelistAdmin
from dpo.review import patron_reads
from staff.actor import actor_from_request
from staff.admin_bounds import BoundedInputsAdmin


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows: an exact count of millions of events costs seconds on every page.

    The page list then ends at the cap; narrow the filters to reach older events.
    """

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return cast(QuerySet, self.object_list)[: self.CAP].count()  # the admin pages a queryset


class InputFilter(admin.SimpleListFilter):
    """A free-text filter box (Django's list filters only offer fixed choices)."""

    template = "admin/input_filter.html"

    def lookups(self, request, model_admin):
        return ((None, None),)  # the filter must have a choice to be shown

    def choices(self, changelist):
        query = {k: v for k, v in changelist.get_filters_params().items() if k != self.parameter_name}
        yield {
            "query_parts": [
                (k, v) for k, values in query.items() for v in (values if isinstance(values, list) else [values])
            ]
        }


class PatronFilter(InputFilter):
    title = _("patron id")
    parameter_name = "patron"

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        patron_id = parse_id(value)
        if patron_id is None:
            message = ID_OUT_OF_RANGE % {"max": ID_MAX}
            messages.error(request, message)
            raise IncorrectLookupParameters(message)
        # Browsing one patron's events is reading their access log: logged like the API's read.
        access_event_record(
            actor=actor_from_request(request),
            action=Action.ACCESS_LOG_VIEW,
            patron_ids=[patron_id],
            data_categories=[DataCategory.ACCESS_LOG],
        )
        return queryset.about_patron(patron_id)


class ActorFilter(InputFilter):
    title = _("user")
    parameter_name = "actor"

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(actor_username=value) if value else queryset


class ActionFilter(admin.SimpleListFilter):
    """The actions of audit.models.Action (the field has no choices), under the parameter a field's filter uses."""

    title = _("action")
    parameter_name = "action__exact"

    def lookups(self, request, model_admin):
        return Action.choices

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(action=value) if value else queryset


class PatronReadFilter(admin.SimpleListFilter):
    """Only patron reads, as the daily access review counts them (its finding links use this)."""

    title = _("patron reads")
    parameter_name = "reads"

    def lookups(self, request, model_admin):
        return [("yes", _("Only patron reads"))]

    def queryset(self, request, queryset):
        return patron_reads(queryset) if self.value() == "yes" else queryset


# The stored fields shown on an event's page through a column that says them in words.
READABLE = {"action": "action_label", "data_categories": "categories", "patron_ids": "all_patrons"}


@admin.register(AccessEvent)
class AccessEventAdmin(WideChangelistAdmin, BoundedInputsAdmin):
    code_search_action = Action.ACCESS_LOG_VIEW  # a code typed here looks for a person's events
    # Fits a 1,280 px screen beside the admin's menu: the time short, the categories shortened (in full on the
    # event's page, with the client address and the resource).
    list_display = [
        "id",
        "time",
        "actor_username",
        "action_label",
        "outcome",
        "patrons",
        "categories_short",
    ]
    # A date filter with fixed ranges; date_hierarchy would scan the whole log for its dates.
    list_filter = [PatronFilter, ActorFilter, PatronReadFilter, ActionFilter, "outcome", "at"]
    list_per_page = 100
    paginator = CappedCountPaginator
    show_full_result_count = False  # counting millions of rows on every page is not worth it
    show_facets = admin.ShowFacets.NEVER
    # Every column, read-only, in words: the action and the data categories by their labels, the patrons as a
    # list of ids (the stored JSON is for machines).
    fields = readonly_fields = tuple(READABLE.get(field.name, field.name) for field in AccessEvent._meta.fields)

    @admin.display(description=_("action"), ordering="action")
    def action_label(self, event: AccessEvent) -> str:
        return event.action_label

    @admin.display(description=_("time"), ordering="at")
    def time(self, event: AccessEvent) -> str:
        return formats.date_format(timezone.localtime(event.at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("data categories"))
    def categories(self, event: AccessEvent) -> str:
        return ", ".join(self._category_labels(event))

    @admin.display(description=_("data categories"))
    def categories_short(self, event: AccessEvent) -> str:
        """The first two categories and how many more; an access report's event names a dozen."""
        labels = self._category_labels(event)
        if len(labels) <= 2:
            return ", ".join(labels)
        return format_html(
            '<span title="{}">{} (+{})</span>', ", ".join(labels), ", ".join(labels[:2]), len(labels) - 2
        )

    @staticmethod
    def _category_labels(event: AccessEvent) -> list[str]:
        labels = dict(DataCategory.choices)
        return [str(labels.get(category, category)) for category in event.data_categories]

    @admin.display(description=_("patrons"))
    def patrons(self, event: AccessEvent) -> str:
        """The first few patron ids; a search can list dozens."""
        ids = event.patron_ids
        shown = ", ".join(str(i) for i in ids[:5])
        return f"{shown} (+{len(ids) - 5})" if len(ids) > 5 else shown

    @admin.display(description=_("patrons"))
    def all_patrons(self, event: AccessEvent) -> str:
        return ", ".join(str(i) for i in event.patron_ids)

    def get_queryset(self, request):
        return without_unsealed_forgeries(access_event_queryset_for_user(request.user))

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("audit.view_access_log")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
