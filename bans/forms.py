"""Forms for the ban procedure's pages. They only parse input; the rules live in bans.services."""

from collections.abc import Sequence
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from bans.models import (
    AppealOutcome,
    BanGround,
    CourtOutcome,
    ElectronicConsentManner,
    HearingMethod,
    HearingWaiverGround,
    NotificationMethod,
    ReceiptEvidence,
)
from core import form_fields
from core.dates import shown_date
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
        # Each note by its incident's date and library and the start of its text (bans.selectors.ban_citable_notes).
        cast(forms.ChoiceField, self.fields["note_ids"]).choices = [
            (note.pk, f"{shown_date(note.incident_on)} {note.library_name}: “{note.excerpt}” ({note.created_by})")
            for note in behaviour_notes
        ]


class GuardianFieldsMixin:
    """Per-guardian fields of a minor party (Administrative Procedure Act 434/2003 s. 14), named by the
    guardian's patron id; `guardians` (id, name) come from bans.selectors.ban_party_guardians."""

    fields: dict[str, forms.Field]
    cleaned_data: dict
    GUARDIAN_FIELDS: tuple[str, ...] = ()

    def add_guardian_fields(self, guardians: Sequence[tuple[int, str]]) -> None:
        self.guardian_ids = [guardian_id for guardian_id, _name in guardians]
        for guardian_id, name in guardians:
            for key, field in self.guardian_fields(name).items():
                self.fields[f"guardian_{guardian_id}_{key}"] = field

    def guardian_fields(self, name: str) -> dict[str, forms.Field]:
        raise NotImplementedError

    def service_arguments(self) -> dict:
        """The form's data as the service takes it: the guardians whose part was filled in as `guardians`."""
        data = {key: value for key, value in self.cleaned_data.items() if not key.startswith("guardian_")}
        return {**data, "guardians": self.guardian_entries()}

    def guardian_entries(self) -> list[dict]:
        entries = []
        for guardian_id in self.guardian_ids:
            values = {key: self.cleaned_data.get(f"guardian_{guardian_id}_{key}") for key in self.GUARDIAN_FIELDS}
            if any(values.values()):
                entries.append({"guardian": guardian_id, **values})
        return entries


class HearingForm(GuardianFieldsMixin, forms.Form):
    heard_on = _date(_("Heard on"), required=False)
    method = forms.ChoiceField(
        label=_("How the patron was heard"), choices=[("", "-"), *HearingMethod.choices], required=False
    )
    answer_by = _date(_("The party may answer by (Administrative Procedure Act s. 36)"), required=False)
    material_shown = FreeTextFormField(
        label=_("Material shown or sent to the party"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    statement = FreeTextFormField(
        label=_("The patron's statement (leave empty if none came)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    waiver_ground = forms.ChoiceField(
        label=_("Or: the ground of Administrative Procedure Act s. 34(2) on which the hearing is waived"),
        choices=[("", "-"), *HearingWaiverGround.choices],
        required=False,
    )
    waived_reason = FreeTextFormField(
        label=_("More on the waiver ground (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    GUARDIAN_FIELDS = ("heard_on", "method", "statement")

    def __init__(self, *args, guardians: Sequence[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.add_guardian_fields(guardians)

    def guardian_fields(self, name: str) -> dict[str, forms.Field]:
        return {
            "heard_on": _date(_("Guardian %(name)s heard on") % {"name": name}, required=False),
            "method": forms.ChoiceField(
                label=_("How the guardian was heard"), choices=[("", "-"), *HearingMethod.choices], required=False
            ),
            "statement": FreeTextFormField(
                label=_("The guardian's statement (leave empty if none came)"),
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
            ),
        }


class DecisionForm(forms.Form):
    decision_number = FreeTextFormField(label=_("Decision number"), max_length=50)
    decided_on = _date(_("Decided on"))
    enforced_before_final = forms.BooleanField(label=_("Enforced before it is final"), required=False, initial=True)
    enforcement_reasons = FreeTextFormField(
        label=_("Why it is enforced before it is final (Local Government Act s. 143)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    starts_on = _date(_("Starts on (enforced before it is final)"), required=False)
    ends_on = _date(_("Ends on (at most 30 days, first and last day included)"), required=False)
    length_days = form_fields.CountField(
        label=_("Or, not enforced before it is final: how many days it lasts from the day after it is final"),
        required=False,
    )
    reasons = FreeTextFormField(label=_("Reasons"), widget=forms.Textarea(attrs={"rows": 4}))
    decided_text = FreeTextFormField(
        label=_("Further terms of the decision (optional)"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    contact_person = FreeTextFormField(label=_("Contact person (name and phone)"), max_length=200)


def _consent_how(label) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=[("", "-"), *ElectronicConsentManner.choices], required=False)


class NotificationForm(GuardianFieldsMixin, forms.Form):
    method = forms.ChoiceField(label=_("How the decision was sent"), choices=NotificationMethod.choices)
    sent_on = _date(_("Sent or handed over on"))
    electronic_consent_on = _date(_("The party consented to electronic notice on (required for it)"), required=False)
    electronic_consent_how = _consent_how(_("How the party consented"))
    GUARDIAN_FIELDS = ("method", "sent_on", "electronic_consent_on", "electronic_consent_how")

    def __init__(self, *args, guardians: Sequence[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.add_guardian_fields(guardians)

    def guardian_fields(self, name: str) -> dict[str, forms.Field]:
        return {
            "method": forms.ChoiceField(
                label=_("How the decision was sent to guardian %(name)s") % {"name": name},
                choices=[("", "-"), *NotificationMethod.choices],
                required=False,
            ),
            "sent_on": _date(_("Sent or handed over to the guardian on"), required=False),
            "electronic_consent_on": _date(_("The guardian consented to electronic notice on"), required=False),
            "electronic_consent_how": _consent_how(_("How the guardian consented")),
        }


class ReceiptForm(forms.Form):
    """A proven later receipt of the decision (Local Government Act 410/2015 s. 141: "unless shown otherwise")."""

    guardian = forms.TypedChoiceField(label=_("Received by"), coerce=int, empty_value=None, required=False)
    received_on = _date(_("Proven received on"))
    evidence = forms.ChoiceField(label=_("What proves it"), choices=ReceiptEvidence.choices)
    note = FreeTextFormField(label=_("Note on the proof (optional)"), max_length=300, required=False)

    def __init__(self, *args, guardians: Sequence[tuple[int, str]] = (), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("The party")), *((pk, _("Guardian %(name)s") % {"name": name}) for pk, name in guardians)]
        cast(forms.ChoiceField, self.fields["guardian"]).choices = choices


class AppealForm(forms.Form):
    lodged_on = _date(_("Rectification request arrived on"))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=AppealOutcome.choices)
    decided_on = _date(_("Rectification decided on"), required=False)
    body = FreeTextFormField(
        label=_("Body that decided it (empty: the rectification body the decision named)"),
        max_length=200,
        required=False,
    )
    reference = FreeTextFormField(
        label=_("Reference of the body's decision (e.g. minutes' section)"), max_length=100, required=False
    )


class RectificationNoticeForm(forms.Form):
    method = forms.ChoiceField(label=_("How the rectification decision was sent"), choices=NotificationMethod.choices)
    sent_on = _date(_("Sent or handed over on"))


class CourtAppealForm(forms.Form):
    lodged_on = _date(_("Appeal to the administrative court lodged on"))
    court = FreeTextFormField(
        label=_("Administrative court"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("Pohjois-Suomen hallinto-oikeus")}),
    )
    outcome = forms.ChoiceField(label=_("Court's outcome"), choices=AppealOutcome.choices)
    decided_on = _date(_("Court decided on"), required=False)


class AccessProhibitionForm(forms.Form):
    library = forms.ModelChoiceField(
        label=_("Library"), queryset=Library.objects.none(), to_field_name="koha_library_id"
    )
    applied_on = _date(_("The library's application date"))
    application_reference = FreeTextFormField(label=_("The library's application reference"), max_length=100)
    prosecutor_reference = FreeTextFormField(label=_("Prosecutor's decision reference"), max_length=100)
    decided_on = _date(_("Decided on"))
    starts_on = _date(_("Starts on"))
    ends_on = _date(_("Ends on (as the prosecutor decided)"))
    confirm_warnings = forms.BooleanField(
        label=_("I have checked the dates against the prosecutor's decision: record them as they are"),
        required=False,
    )

    def __init__(self, *args, consortium_id: int | None, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["library"]).queryset = Library.objects.of_consortium(consortium_id)


class ProhibitionRevocationForm(forms.Form):
    revoked_on = _date(_("Revoked from (the day of the prosecutor's revocation)"))
    reference = FreeTextFormField(label=_("Prosecutor's revocation reference"), max_length=100)


class ProhibitionCourtForm(forms.Form):
    court = FreeTextFormField(label=_("Court (district court, tingsrätt)"), max_length=200)
    decided_on = _date(_("Court decided on"))
    reference = FreeTextFormField(label=_("Court's case number"), max_length=100)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CourtOutcome.choices)
    new_ends_on = _date(_("New end date (only when the court changed it)"), required=False)
