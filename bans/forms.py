"""Forms for the ban procedure's pages. They only parse input; the rules live in bans.services."""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from bans.models import AppealOutcome, BanGround, HearingMethod, NotificationMethod
from core import form_fields
from core.free_text_fields import FreeTextFormField
from patrons.forms import DateInput
from staff.models import Library


def _date(label, **kwargs) -> forms.DateField:
    return form_fields.DateField(label=label, widget=DateInput(), **kwargs)


class BanProposeForm(forms.Form):
    library = forms.ModelChoiceField(
        label=_("Library the ban concerns"), queryset=Library.objects.none(), to_field_name="koha_library_id"
    )
    grounds = forms.MultipleChoiceField(
        label=_("Grounds (Library Act 1492/2016 s. 15)"), choices=BanGround.choices, widget=forms.CheckboxSelectMultiple
    )
    note_ids = forms.TypedMultipleChoiceField(
        label=_("Behaviour notes the ban rests on"), coerce=int, widget=forms.CheckboxSelectMultiple, required=False
    )
    starts_on = _date(_("Starts on"))
    ends_on = _date(_("Ends on (at most 30 days, first and last day included)"))

    def __init__(self, *args, consortium_id: int | None, behaviour_notes, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["library"]).queryset = Library.objects.of_consortium(consortium_id)
        cast(forms.ChoiceField, self.fields["note_ids"]).choices = [
            (note.pk, f"{note.incident_on:%d.%m.%Y} {note.library.name} ({note.created_by})")
            for note in behaviour_notes
        ]


class HearingForm(forms.Form):
    heard_on = _date(_("Heard on"), required=False)
    method = forms.ChoiceField(
        label=_("How the patron was heard"), choices=[("", "-"), *HearingMethod.choices], required=False
    )
    statement = FreeTextFormField(
        label=_("The patron's statement (leave empty if none came)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    waived_reason = FreeTextFormField(
        label=_("Or: the legal reason the hearing was waived (Administrative Procedure Act s. 34(2))"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


class DecisionForm(forms.Form):
    decision_number = FreeTextFormField(label=_("Decision number"), max_length=50)
    decided_on = _date(_("Decided on"))
    starts_on = _date(_("Starts on"))
    ends_on = _date(_("Ends on (at most 30 days, first and last day included)"))
    reasons = FreeTextFormField(label=_("Reasons"), widget=forms.Textarea(attrs={"rows": 4}))
    decided_text = FreeTextFormField(
        label=_("Further terms of the decision (optional)"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    contact_person = FreeTextFormField(label=_("Contact person (name and phone)"), max_length=200)
    enforced_before_final = forms.BooleanField(label=_("Enforced before it is final"), required=False, initial=True)


class NotificationForm(forms.Form):
    method = forms.ChoiceField(label=_("How the decision was sent"), choices=NotificationMethod.choices)
    sent_on = _date(_("Sent or handed over on"))


class AppealForm(forms.Form):
    lodged_on = _date(_("Rectification request arrived on"))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=AppealOutcome.choices)
    decided_on = _date(_("Rectification decided on"), required=False)


class AccessProhibitionForm(forms.Form):
    library = forms.ModelChoiceField(
        label=_("Library"), queryset=Library.objects.none(), to_field_name="koha_library_id"
    )
    applied_on = _date(_("The library's application date"))
    application_reference = FreeTextFormField(label=_("The library's application reference"), max_length=100)
    prosecutor_reference = FreeTextFormField(label=_("Prosecutor's decision reference"), max_length=100)
    decided_on = _date(_("Decided on"))
    starts_on = _date(_("Starts on"))
    ends_on = _date(_("Ends on (at most one year)"))

    def __init__(self, *args, consortium_id: int | None, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["library"]).queryset = Library.objects.of_consortium(consortium_id)
