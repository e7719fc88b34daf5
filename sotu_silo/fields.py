"""Model fields for free text: what people write freely must never hold a personal identity code.

Notes, reasons, ban, DPO and breach texts are read by many and some (an access event's reason) can
never be changed; a code written there escapes the silo. Every such field is a FreeTextField or a
FreeTextCharField, and a test fails for a text field of ours that is neither nor listed as structured
(tests/sotu_silo/test_free_text.py), so a new field cannot forget the rule. It is checked:

- by the services first (sotu_silo.free_text.free_text_check): with the consortium's rule for bare
  digit runs, a denied access event where the text belongs to patron data, and nothing written;
- when a model form validates the row (Field.validate): the admin shows it as the field's error;
- when the row is saved (Field.pre_save): a write that skipped both still writes nothing.

The last two read bare digit runs as in Finland (contains_identity_code with country=None), which is
part of every consortium's rule, so they never refuse what a service let through.

A refused form is shown again for correction, but never with the code in it: FreeTextFormField (the
form field of these model fields, and of every free-text field of our forms) leaves out a submitted
text that holds a code, read as widely as in any consortium, when it renders the form again.

The columns are ordinary text columns: the fields deconstruct as Django's own, so they need no migration.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.deconstruct import deconstructible
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from sotu_silo.validation import contains_identity_code

CODE_IN_TEXT = "identity_code_in_text"
CODE_IN_TEXT_MESSAGE = _(
    "“%(field)s” must not contain a personal identity code: identity codes are kept only in the separate "
    "identity-code store."
)


@deconstructible
class NoIdentityCodeValidator:
    """Refuses a text that holds an identity code; the message names the field, never the text."""

    def __init__(self, field_label) -> None:
        self.field_label = field_label

    def __call__(self, value) -> None:
        if value and contains_identity_code(str(value)):
            raise ValidationError(CODE_IN_TEXT_MESSAGE, code=CODE_IN_TEXT, params={"field": capfirst(self.field_label)})

    def __eq__(self, other) -> bool:
        return isinstance(other, NoIdentityCodeValidator) and self.field_label == other.field_label


def shown_back(text: str) -> str:
    """`text` to put back into a form shown again, or "" when it holds a code (read as widely as in any
    consortium: a form shown again may lose a phone number, never echo a code)."""
    return "" if contains_identity_code(text, country="SE") else text


class FreeTextFormField(forms.CharField):
    """A form's free-text field: a submitted text holding an identity code is not rendered back.

    It does not refuse the text itself: the service does, so that the refusal is logged where it must be.
    """

    def bound_data(self, data, initial):
        value = super().bound_data(data, initial)
        return shown_back(value) if isinstance(value, str) else value


class _FreeText:
    free_text = True  # what find_identity_codes_in_text and the field inventory test look for

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": FreeTextFormField, **kwargs})

    def validate(self, value, model_instance):
        # Not among the field's `validators`: an API serializer built from the model would refuse first,
        # before the service could log the refusal.
        super().validate(value, model_instance)
        NoIdentityCodeValidator(self.verbose_name)(value)

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        NoIdentityCodeValidator(self.verbose_name)(value)
        return value

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, self.column_field_path, args, kwargs


class FreeTextField(_FreeText, models.TextField):
    """A TextField people write freely (see the module docstring)."""

    column_field_path = "django.db.models.TextField"


class FreeTextCharField(_FreeText, models.CharField):
    """A CharField people write freely (see the module docstring)."""

    column_field_path = "django.db.models.CharField"
