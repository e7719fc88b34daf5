"""DRF serializer fields with the service's bounds (core.bounds): the API's parsers.

Every date, time, id and count an API request carries goes through one of these, so a value outside the
bounds is a 400 naming the field, in the caller's language, before any service computes with it. The
bounds also reach the OpenAPI schema (minimum, maximum, maxItems), so clients and the fuzz test see them.
"""

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


def validated_body(serializer_class: type[serializers.Serializer], request) -> dict:
    """The request's body as `serializer_class` validates it; invalid input is a 400 naming the fields."""
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data
