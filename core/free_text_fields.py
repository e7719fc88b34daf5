"""Model fields for typed text: what people write or type must never hold a personal identity code.

Notes, reasons, ban, DPO and breach texts are read by many and some (an access event's reason) can
never be changed; names, addresses, email addresses and phone numbers typed at registration or for an
adult's guardian are shown and sent on; a code written in any of them escapes the silo. Every such field
is a FreeTextField, FreeTextCharField, FreeTextEmailField or PhoneNumberField (the last read with the
phone number rule of core.identity_code_text, so that no phone number is refused), and a test fails for
a text field of ours that is none of them nor listed as structured (tests/sotu_silo/test_free_text.py),
so a new field cannot forget the rule. It is checked:

- by the services first (staff.typed_text.free_text_check): with the consortium's rule for bare
  digit runs, a denied access event where the text belongs to patron data, and nothing written;
- when a model form validates the row (Field.validate): the admin shows it as the field's error;
- when the row is saved (Field.pre_save): a write that skipped both still writes nothing.

The last two read bare digit runs as in Finland (contains_identity_code with country=None), which is
part of every consortium's rule, so they never refuse what a service let through.

A refused form is shown again for correction, but never with the code in it: FreeTextFormField and
FreeTextEmailFormField (the form fields of these model fields, and of every such field of our forms)
leave out a submitted text that holds a code, read as widely as in any consortium, when they render the
form again.

The columns are ordinary text columns: the fields deconstruct as Django's own, so they need no migration.
"""

from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.deconstruct import deconstructible
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from core.identity_code_text import contains_identity_code

CODE_IN_TEXT = "identity_code_in_text"
CODE_IN_TEXT_MESSAGE = _(
    "“%(field)s” must not contain a personal identity code: identity codes are kept only in the separate "
    "identity-code store."
)


@deconstructible
class NoIdentityCodeValidator:
    """Refuses a text that holds an identity code; the message names the field, never the text.

    `phone_number`: the text is a phone number, read with the phone number rule.
    """

    def __init__(self, field_label, *, phone_number: bool = False) -> None:
        self.field_label = field_label
        self.phone_number = phone_number

    def __call__(self, value) -> None:
        if value and contains_identity_code(str(value), phone_number=self.phone_number):
            raise ValidationError(CODE_IN_TEXT_MESSAGE, code=CODE_IN_TEXT, params={"field": capfirst(self.field_label)})

    def __eq__(self, other) -> bool:
        same_kind = isinstance(other, NoIdentityCodeValidator)
        return same_kind and (self.field_label, self.phone_number) == (other.field_label, other.phone_number)


def shown_back(text: str, *, phone_number: bool = False) -> str:
    """`text` to put back into a form shown again, or "" when it holds a code (read as widely as in any
    consortium: a form shown again may lose a number, never echo a code)."""
    return "" if contains_identity_code(text, country="SE", phone_number=phone_number) else text


# The mixins below extend a field's methods through super(); the checker reads them as the field they mix into.
if TYPE_CHECKING:
    _FormField = forms.Field
    _ModelField = models.Field
else:
    _FormField = _ModelField = object


class _NotShownBack(_FormField):
    """A form field whose submitted text is not rendered back when it holds an identity code.

    It does not refuse the text itself: the service does, so that the refusal is logged where it must be.
    """

    def __init__(self, *args, phone_number: bool = False, **kwargs) -> None:
        self.phone_number = phone_number
        super().__init__(*args, **kwargs)

    def bound_data(self, data, initial):
        value = super().bound_data(data, initial)
        return shown_back(value, phone_number=self.phone_number) if isinstance(value, str) else value


class FreeTextFormField(_NotShownBack, forms.CharField):
    """A form's text field that holds no identity code (`phone_number=True` for a phone number)."""


class FreeTextEmailFormField(_NotShownBack, forms.EmailField):
    """A form's email address field that holds no identity code."""


class _FreeText(_ModelField):
    free_text = True  # what find_identity_codes_in_text and the field inventory test look for
    phone_number = False  # read with the phone number rule
    form_class: type[forms.Field] = FreeTextFormField
    column_field_path: str  # the Django field it deconstructs as

    def formfield(self, **kwargs):
        extra = {"phone_number": True} if self.phone_number else {}
        return super().formfield(**{"form_class": self.form_class, **extra, **kwargs})

    def _check(self, value) -> None:
        NoIdentityCodeValidator(self.verbose_name, phone_number=self.phone_number)(value)

    def validate(self, value, model_instance):
        # Not among the field's `validators`: an API serializer built from the model would refuse first,
        # before the service could log the refusal.
        super().validate(value, model_instance)
        self._check(value)

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        self._check(value)
        return value

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, self.column_field_path, args, kwargs


class FreeTextField(_FreeText, models.TextField):
    """A TextField people write freely (see the module docstring)."""

    column_field_path = "django.db.models.TextField"


class FreeTextCharField(_FreeText, models.CharField):
    """A CharField people write freely or type (a name, an address; see the module docstring)."""

    column_field_path = "django.db.models.CharField"


class FreeTextEmailField(_FreeText, models.EmailField):
    """An EmailField typed by hand (see the module docstring)."""

    column_field_path = "django.db.models.EmailField"
    form_class = FreeTextEmailFormField


class PhoneNumberField(_FreeText, models.CharField):
    """A phone number typed by hand: checked with the phone number rule, which refuses no phone number."""

    column_field_path = "django.db.models.CharField"
    phone_number = True
