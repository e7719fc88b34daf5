"""The admin's inputs within the service's bounds (core.bounds), and no identity code searched.

Every ModelAdmin of the service mixes in BoundedInputsAdmin (tests/privacy_service/test_inputs.py checks
that none is left out). Dates in its model forms are bounded (a model form checks integer ranges itself
before saving), and the values of its list filters and date hierarchy are checked before they reach a
query: `?at__gte=0001-01-01` or `?starts_on__year=99999999999999999999` overflowed when the database was
asked. An out-of-range value is refused like any other malformed filter (Django's plain list with
`?e=1`), with a message saying what is allowed.

A list's search box (`?q=`) and filter boxes echo what was typed, in the box, the result count and
every link of the page. A search or filter value that holds a personal identity code (the detector of
staff.typed_text, with the user's consortium's rule) is neither searched with nor shown: the
refusal is a denied access event, and the user is sent to the bare list with a message. Filters kept
for the way back from an object's page (`_changelist_filters`) are dropped when they hold one, and a
related field's autocomplete finds nothing for a term that holds one.
"""

from typing import cast
from urllib.parse import parse_qsl

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import ForeignObjectRel
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from core.bounds import (
    COUNT_MAX,
    EARLIEST_DATE,
    ID_MAX,
    LATEST_DATE,
    date_in_range,
    date_range_message,
)
from core.form_fields import bound_form_field
from core.identity_code_text import contains_identity_code
from staff.actor import actor_from_request
from staff.typed_text import IdentityCodeInSearch, search_text_check

# Lookups and transforms whose value is a number of its own, not a value of the field.
PART_RANGES = {"year": (EARLIEST_DATE.year, LATEST_DATE.year), "month": (1, 12), "day": (1, 31)}
NUMBER_OUT_OF_RANGE = _("Give a whole number from %(min)s to %(max)s.")
CODE_IN_ADMIN_SEARCH = _(
    "That looks like a personal identity code. Identity codes are not searched for here: the search was not made."
)


def _target_field(model: type[models.Model], key: str) -> tuple[models.Field | ForeignObjectRel | None, list[str]]:
    """The field a filter parameter such as `at__gte` or `home_library__id__exact` ends on, and its lookups."""
    opts, parts, field = model._meta, key.split("__"), None
    for index, part in enumerate(parts):
        try:
            field = opts.get_field(part)
        except FieldDoesNotExist:
            return field, parts[index:]
        if not (field.is_relation and field.related_model is not None):
            return field, parts[index + 1 :]
        opts = field.related_model._meta
    return field, []


def _problem(field: models.Field | ForeignObjectRel, lookups: list[str], value: str) -> str | None:
    """Why `value` is out of the bounds for the field and lookups, or None (malformed values are Django's)."""
    if lookups and lookups[-1] in PART_RANGES:
        low, high = PART_RANGES[lookups[-1]]
    elif isinstance(field, models.DateField):  # a DateTimeField too
        try:
            parsed = field.to_python(value)
        except ValidationError:
            return None
        return None if parsed is None or date_in_range(parsed) else date_range_message()
    elif isinstance(field, models.IntegerField):
        low, high = -COUNT_MAX - 1, ID_MAX
    else:
        return None
    text = value.strip()
    if not (text.isascii() and text.lstrip("-").isdigit()) or low <= int(text) <= high:
        return None
    return NUMBER_OUT_OF_RANGE % {"min": low, "max": high}


class BoundedChangeList(ChangeList):
    def get_filters(self, request):
        for key, values in self.get_filters_params().items():
            field, lookups = _target_field(self.model, key)
            problems = [_problem(field, lookups, str(value)) for value in values] if field is not None else []
            for problem in filter(None, problems):
                messages.error(request, problem)
                raise IncorrectLookupParameters(problem)
        return super().get_filters(request)


class BoundedInputsAdmin(admin.ModelAdmin):
    """A ModelAdmin whose forms and list filters keep to the service's bounds, and whose searches and
    filters are never made with an identity code.

    A list is filtered only by what its filters and date hierarchy offer: Django would also take any
    lookup on the model's own fields from the URL (`?id__in=1,99999999999999999999999` overflowed on
    SQLite, `?patron_ids__contains=1` is not supported there), and such a URL is now a 400.
    """

    # The action of the denied event when a search or filter holds an identity code: a search for a person.
    code_search_action = Action.PATRON_SEARCH

    def lookup_allowed(self, lookup, value, request=None):
        field_name = lookup.split("__", 1)[0]
        offered: set[str | None] = {self.date_hierarchy} if self.date_hierarchy else set()
        for item in self.get_list_filter(request):
            if isinstance(item, str):
                offered.add(item.split("__", 1)[0])
            elif isinstance(item, tuple | list):
                offered.add(cast(str, item[0]).split("__", 1)[0])  # (field name, filter class)
            else:
                offered.add(getattr(item, "parameter_name", None))
        # A field's filter offers its lookups (`action__exact`), a simple filter its parameter as it is.
        return (field_name in offered or lookup in offered) and super().lookup_allowed(lookup, value, request)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return bound_form_field(super().formfield_for_dbfield(db_field, request, **kwargs))

    def get_changelist(self, request, **kwargs):
        return BoundedChangeList

    def changelist_view(self, request, extra_context=None):
        typed = [value for _name, values in request.GET.lists() for value in values if value]
        try:
            if typed:
                actor = actor_from_request(request)
                for value in typed:
                    search_text_check(actor=actor, action=self.code_search_action, text=value)
        except IdentityCodeInSearch:
            messages.error(request, CODE_IN_ADMIN_SEARCH)
            return HttpResponseRedirect(request.path)
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        """The autocomplete of a related field (`/admin/autocomplete/?term=`) searches here too: a term holding
        a code finds nothing, and the refusal is logged (the changelist refused it before reaching here)."""
        try:
            search_text_check(actor=actor_from_request(request), action=self.code_search_action, text=search_term)
        except IdentityCodeInSearch:
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    def get_preserved_filters(self, request):
        preserved = super().get_preserved_filters(request)
        # Read as widely as in any consortium: a way back may lose its filters, never show a code.
        if any(contains_identity_code(value, country="SE") for _name, value in parse_qsl(preserved)):
            return ""
        return preserved
