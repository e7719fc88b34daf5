"""Django form fields with the service's bounds (core.bounds): the pages' and the admin's parsers.

A date or time outside the bounds, or an id or count too large for its column, is a form error in the
user's language, never a server error further on.
"""

from django import forms

from core.bounds import COUNT_MAX, ID_MAX, validate_date_in_range


class DateField(forms.DateField):
    default_validators = [validate_date_in_range]


class DateTimeField(forms.DateTimeField):
    default_validators = [validate_date_in_range]


class SplitDateTimeField(forms.SplitDateTimeField):
    default_validators = [validate_date_in_range]


class IdField(forms.IntegerField):
    """An object's id, as a number typed into a form."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=ID_MAX, **kwargs)


class CountField(forms.IntegerField):
    """A count of people or records: 0 up to what a 32-bit column holds."""

    def __init__(self, **kwargs):
        super().__init__(min_value=0, max_value=COUNT_MAX, **kwargs)


def bound_form_field(field: forms.Field | None) -> forms.Field | None:
    """The same field with the date bounds added: for the fields Django builds from model fields (the admin's).

    Integers need nothing here: a model form checks the model field's own range before it saves.
    """
    dated = (forms.DateField, forms.DateTimeField, forms.SplitDateTimeField)
    if isinstance(field, dated) and validate_date_in_range not in field.validators:
        field.validators.append(validate_date_in_range)
    return field
