"""Forms for registering a patron and recording a PIN given by phone. They only parse input; the rules
live in patrons.services.registration and patrons.services.closures."""

from typing import cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core import form_fields
from core.bounds import column_length
from core.free_text_fields import FreeTextEmailFormField, FreeTextFormField
from patrons.forms import DateInput
from patrons.models import GuardianRelationship, LoanHistoryPreference, Patron
from patrons.services.closures import PIN_DETAILS_MAX_LENGTH, PinVerification
from patrons.services.registration import DEFAULT_LANGUAGE
from staff.models import Jurisdiction, Library


class PatronRegistrationForm(forms.Form):
    first_name = FreeTextFormField(label=_("First name"), max_length=column_length(Patron, "first_name"))
    last_name = FreeTextFormField(label=_("Last name"), max_length=column_length(Patron, "last_name"))
    date_of_birth = form_fields.DateField(label=_("Date of birth"), widget=DateInput())
    cardnumber = forms.CharField(label=_("Card number"), max_length=column_length(Patron, "cardnumber"))
    home_library = forms.ModelChoiceField(
        label=_("Home library"), queryset=Library.objects.none(), to_field_name="koha_library_id"
    )
    email = FreeTextEmailFormField(label=_("Email"), required=False, max_length=column_length(Patron, "email"))
    phone = FreeTextFormField(
        label=_("Phone"), required=False, max_length=column_length(Patron, "phone"), phone_number=True
    )
    street_address = FreeTextFormField(
        label=_("Street address"), required=False, max_length=column_length(Patron, "street_address")
    )
    postal_code = FreeTextFormField(
        label=_("Postal code"), required=False, max_length=column_length(Patron, "postal_code")
    )
    city = FreeTextFormField(label=_("City"), required=False, max_length=column_length(Patron, "city"))
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    loan_history = forms.TypedChoiceField(
        label=_("Loan history (the patron's own choice)"),
        choices=LoanHistoryPreference.choices,
        coerce=int,
        initial=LoanHistoryPreference.NEVER_KEEP,
    )
    guardian_cardnumber = forms.CharField(
        label=_("Guardian's card number (required for a patron under 15)"),
        required=False,
        max_length=column_length(Patron, "cardnumber"),
        help_text=_(
            "The guardian must be an adult patron of the consortium; they provide the data of a patron under 15."
        ),
    )
    relationship = forms.ChoiceField(
        label=_("Guardian's relationship"),
        choices=GuardianRelationship.choices,
        initial=GuardianRelationship.GUARDIAN,
        required=False,
    )

    def __init__(
        self, *args, consortium_id: int | None, jurisdiction: str | None, home_library: Library | None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["home_library"]).queryset = Library.objects.of_consortium(
            consortium_id
        )
        if home_library is not None:
            self.fields["home_library"].initial = home_library.koha_library_id
        self.fields["language"].initial = DEFAULT_LANGUAGE.get(jurisdiction or Jurisdiction.FINLAND, "fi")

    def service_arguments(self) -> dict:
        return {**self.cleaned_data, "home_library": self.cleaned_data["home_library"].koha_library_id}


class PinByPhoneForm(forms.Form):
    verification = forms.ChoiceField(
        label=_("How the caller's identity was verified"),
        choices=[("", "---------"), *PinVerification.choices],
        required=False,  # the service says why it is needed
    )
    details = FreeTextFormField(
        label=_("Details (optional)"),
        required=False,
        max_length=PIN_DETAILS_MAX_LENGTH,
        help_text=_("Never write the PIN itself or an identity code here."),
    )
