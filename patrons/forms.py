"""Forms for the staff pages. They only parse input; the rules live in patrons.services."""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from core import form_fields
from core.free_text_fields import FreeTextEmailFormField, FreeTextFormField
from core.process_cache import ProcessCache
from patrons.models import LoanHistoryChooser, LoanHistoryPreference, NoteCategory
from staff.models import Library


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


# The consortium's libraries as the note form offers them (Koha id, name), read once per CONFIGURATION_CACHE_SECONDS
# per process: the patron's page shows the form on every read (issue 16). A library added in another worker is
# offered within that time; a posted library is always checked against the database.
_library_choices: ProcessCache[list[tuple[str, str]]] = ProcessCache()


def library_choices(consortium_id: int | None) -> list[tuple[str, str]]:
    return _library_choices.get(
        consortium_id,
        lambda: list(Library.objects.of_consortium(consortium_id).values_list("koha_library_id", "name")),
    )


def library_choices_forget(**_signal_kwargs) -> None:
    """A signal receiver (libraries and municipalities): the choices are read afresh from the next form on."""
    _library_choices.clear()


class NoteForm(forms.Form):
    """A note, with where and when the incident happened (a ban rests only on its own library's notes)."""

    category = forms.ChoiceField(label=_("Category"), choices=NoteCategory.choices)
    text = FreeTextFormField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}))
    library = forms.ModelChoiceField(
        label=_("Library where it happened"), queryset=Library.objects.none(), to_field_name="koha_library_id"
    )
    incident_on = form_fields.DateField(label=_("Date of the incident"), widget=DateInput())

    def __init__(self, *args, consortium_id: int | None, **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["library"])
        field.queryset = Library.objects.of_consortium(consortium_id)  # what a posted library is checked against
        field.choices = [("", field.empty_label), *library_choices(consortium_id)]  # what the select offers

    def clean_library(self) -> str:
        """The service takes the Koha library id."""
        return self.cleaned_data["library"].koha_library_id


class NoteEditForm(forms.Form):
    text = FreeTextFormField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 4}))


class ReasonForm(forms.Form):
    reason = FreeTextFormField(label=_("Reason"), max_length=300)


class ChoicesForm(forms.Form):
    loan_history = forms.TypedChoiceField(label=_("Loan history"), choices=LoanHistoryPreference.choices, coerce=int)
    loan_history_chosen_by = forms.ChoiceField(
        label=_("Loan history chosen by"),
        choices=[("", "---------"), *LoanHistoryChooser.choices],
        required=False,
        help_text=_("Needed when the loan history changes: saving it is the patron's own choice."),
    )
    newsletter = forms.BooleanField(label=_("Newsletter (email only)"), required=False)
    home_service = forms.BooleanField(label=_("Home service"), required=False)
    interlibrary_loans = forms.BooleanField(label=_("Interlibrary loans"), required=False)


class LoanHistoryConfirmForm(forms.Form):
    """The patron confirms their loan-history choice (at 15 or 18): only they may."""

    chosen_by = forms.ChoiceField(
        label=_("Confirmed by"),
        choices=[(value, label) for value, label in LoanHistoryChooser.choices if value != LoanHistoryChooser.GUARDIAN],
        initial=LoanHistoryChooser.PATRON,
    )


class TrusteeshipForm(forms.Form):
    guardian_name = FreeTextFormField(label=_("Guardian's name"), max_length=200)
    guardian_phone = FreeTextFormField(label=_("Guardian's phone"), max_length=40, required=False, phone_number=True)
    guardian_email = FreeTextEmailFormField(label=_("Guardian's email"), required=False)
