"""DRF serializer fields with the service's bounds (core.bounds): the API's parsers.

Every date, time, id and count an API request carries goes through one of these, so a value outside the
bounds is a 400 naming the field, in the caller's language, before any service computes with it. The
bounds also reach the OpenAPI schema (minimum, maximum, maxItems), so clients and the fuzz test see them.
"""

import copy
import datetime

from django.db import models
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from core.bounds import COUNT_MAX, ID_LIST_MAX, ID_MAX, date_in_range, date_range_message


class DateField(serializers.DateField):
    def to_internal_value(self, value) -> datetime.date:
        day = super().to_internal_value(value)
        if not date_in_range(day):
            raise serializers.ValidationError(date_range_message(), code="date_out_of_range")
        return day


class DateTimeField(serializers.DateTimeField):
    """Checked before DRF gives a time without a zone the local zone: at year 1 that step itself overflows."""

    def to_internal_value(self, value) -> datetime.datetime:
        try:
            parsed = value if isinstance(value, datetime.datetime) else parse_datetime(str(value))
        except ValueError:  # well-formed but impossible (30 February): DRF's own message follows
            parsed = None
        if parsed is not None and not date_in_range(parsed):
            raise serializers.ValidationError(date_range_message(), code="date_out_of_range")
        return super().to_internal_value(value)


class IdField(serializers.IntegerField):
    """An object's id."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=ID_MAX, **kwargs)


class CountField(serializers.IntegerField):
    """A count of people or records: 0 up to what a 32-bit column holds."""

    def __init__(self, **kwargs):
        super().__init__(min_value=0, max_value=COUNT_MAX, **kwargs)


class IdListField(serializers.ListField):
    """A list of object ids, at most ID_LIST_MAX of them."""

    def __init__(self, **kwargs):
        super().__init__(child=IdField(), max_length=ID_LIST_MAX, **kwargs)


class ModelSerializer(serializers.ModelSerializer):
    """The service's model serializer: its date and time fields are bounded (integer fields carry the model's
    range), and a read-only choice that may be blank says so in the schema (DRF drops `allow_blank` from
    read-only fields, so the schema claimed `""` was not an answer)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: DateField,
        models.DateTimeField: DateTimeField,
    }

    def include_extra_kwargs(self, kwargs, extra_kwargs):
        blank_choice = bool(kwargs.get("allow_blank")) and "choices" in kwargs
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if blank_choice:
            kwargs["allow_blank"] = True
        return kwargs


def _has_child(field: serializers.Field) -> bool:
    return isinstance(field, serializers.BaseSerializer) or hasattr(field, "child") or hasattr(field, "child_relation")


class FieldsBuiltOnce:
    """For a ModelSerializer on a hot read (the patron detail): its fields built from the model once per class and
    process, each instance given its own copies.

    Why: ModelSerializer introspects the model and builds every field again for each instance; for the patron
    detail that was about a tenth of the request's CPU (issue 16). The fields depend only on the class (its Meta,
    declared fields and field mapping): a serializer whose fields depend on its instance or context must not use
    this. Copies, because DRF binds each field to its serializer instance.

    A plain field is copied shallowly: its binding (name, parent, label, source) is all DRF sets on it later, and
    the kept field is never bound. A field with a child (a nested serializer, a list of them, ListField,
    ManyRelatedField) is deep-copied, as before: its __init__ binds the child to it, and a shared child would find
    the kept field's context, not this serializer's. DRF's deep copy of a plain field runs its __init__ again with
    deep copies of its arguments: that was a tenth of the detail API's CPU (issue 16).
    """

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_built_once")  # this class's own, never a parent's
        if built is None:
            built = super().get_fields()  # type: ignore[misc]
            cls._fields_built_once = built  # type: ignore[attr-defined]
        return {name: copy.deepcopy(field) if _has_child(field) else copy.copy(field) for name, field in built.items()}


def validated_body(serializer_class: type[serializers.Serializer], request) -> dict:
    """The request's body as `serializer_class` validates it; invalid input is a 400 naming the fields."""
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data
