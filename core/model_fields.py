"""A model's own field by name, typed as one."""

from django.db import models


def model_field(model: type[models.Model] | models.Model, name: str) -> models.Field:
    """`_meta.get_field` for a field the model declares: Django's answer may also be a reverse relation,
    which has no verbose name, choices or column, and which no caller here asks for."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model._meta.label}.{name} is a reverse relation, not a field of the model.")
    return field
