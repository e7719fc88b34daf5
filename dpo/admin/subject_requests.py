"""The DPO's data-subject requests in the admin: the list by deadline, recording a request, and its steps.

Nothing here writes a request directly: the add page and the small forms on the change page call
dpo.services.subject_requests, which checks the rules and logs each step. The change page itself is
read-only. The patron is found on the add page by name or card number (a logged staff search, posted, never in a
URL) or given by id; the change page shows only the id.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core import form_fields
from core.dates import shown_date, today
from core.errors import NotFound, RuleBroken
from core.free_text_fields import FreeTextFormField
from core.privacy_contract import HOLD_LEGAL_CLAIMS
from dpo.admin.wide import WideChangelistAdmin
from dpo.models import (
    AuthorityCheck,
    ClaimSettled,
    DeliveryMethod,
    IdentityDocument,
    KeepingGround,
    LegalHold,
    RefusalGround,
    RequesterRole,
    RequestKind,
    SubjectRequest,
)
from dpo.selectors import (
    RequestState,
    days_left,
    earlier_report,
    held_elsewhere_texts,
    legal_holds_of,
    processing_restriction_of,
    subject_request_state,
    with_deadline,
)
from dpo.services.subject_requests import (
    COMPLETED_BY_HAND,
    ERASURE_REFUSAL_GROUNDS,
    FEE_FINDINGS,
    RESTRICTION_GROUNDS,
    legal_claim_holds_lift,
    subject_request_complete,
    subject_request_deliver,
    subject_request_extend,
    subject_request_fee_decide,
    subject_request_keeping_record,
    subject_request_record,
    subject_request_refuse,
    subject_request_restrict,
    subject_request_restriction_lift,
)
from patrons.koha_link import KOHA_LINK, koha_patron_url_of
from patrons.models import ProcessingRestriction
from patrons.selectors import patron_search_box
from staff.access import subject_request_actor
from staff.admin_bounds import BoundedInputsAdmin
from staff.selectors import consortium_id_of

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

PERMISSION = "dpo.manage_subject_requests"


class DateInput(forms.DateInput):
    """The browser's date picker; it sends ISO dates, which every language's input formats accept."""

    input_type = "date"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


# The record form's patron search: its button and its text box (not fields of the form: never recorded).
FIND = "_find"
FIND_TEXT = "find"


class SubjectRequestRecordForm(forms.Form):
    patron = form_fields.IdField(
        label=_("patron id"), help_text=_("Find the patron by name or card number above, or type their id here.")
    )
    kind = forms.ChoiceField(label=_("kind"), choices=RequestKind.choices)
    received_on = form_fields.DateField(label=_("received on"), widget=DateInput, initial=today)
    requester_role = forms.ChoiceField(
        label=_("requested by"), required=False, choices=RequesterRole.choices, initial=RequesterRole.PATRON
    )
    requester_name = FreeTextFormField(label=_("representative's name"), required=False, max_length=200)
    requester_authority_check = forms.ChoiceField(
        label=_("authority checked by"),
        required=False,
        choices=[("", "---------"), *AuthorityCheck.choices],
        help_text=_("For a representative: how their right to act for the patron was checked."),
    )
    requester_authority_note = FreeTextFormField(
        label=_("note on the authority check"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    identity_document = forms.ChoiceField(
        label=_("identity checked with"),
        choices=IdentityDocument.choices,
        help_text=_("The identity of whoever made the request: the patron, or the representative."),
    )
    identity_verified_by = forms.CharField(
        label=_("identity checked by"), required=False, max_length=150, help_text=_("Empty: you.")
    )
    identity_verified_on = form_fields.DateField(
        label=_("identity checked on"), required=False, widget=DateInput, help_text=_("Empty: today.")
    )

    def clean_requester_role(self) -> str:
        return self.cleaned_data["requester_role"] or RequesterRole.PATRON


class ExtensionForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("extended by"), coerce=int, choices=[(1, _("one month")), (2, _("two months"))]
    )
    reason = FreeTextFormField(
        label=_("reason for the extension"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    notified_on = form_fields.DateField(label=_("patron told of the extension on"), widget=DateInput, initial=today)


class FeeDecisionForm(forms.Form):
    """A finding that lets the copy cost a fee or be refused; without one it is free (Art. 12(5), 15(3))."""

    decision = forms.ChoiceField(label=_("finding for a fee or refusal"), choices=FEE_FINDINGS)
    reason = FreeTextFormField(
        label=_("reasoning of the finding"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Why the request is manifestly unfounded or excessive, or asks for a further copy; the patron is told it."
        ),
    )


class DeliveryForm(forms.Form):
    method = forms.ChoiceField(label=_("delivered"), choices=DeliveryMethod.choices)
    delivered_on = form_fields.DateField(label=_("delivered on"), widget=DateInput, initial=today)


class RefusalForm(forms.Form):
    ground = forms.ChoiceField(label=_("refused under"), choices=RefusalGround.choices)
    details = FreeTextFormField(
        label=_("reasons for refusing"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, kind: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Offer the grounds that can apply; the service checks them either way.
        erasure = kind == RequestKind.ERASURE
        cast(forms.ChoiceField, self.fields["ground"]).choices = [
            (value, label) for value, label in RefusalGround.choices if (value in ERASURE_REFUSAL_GROUNDS) == erasure
        ]


class KeepingForm(forms.Form):
    """The ground on which a system outside this service keeps the patron after the erasure (Art. 17(3))."""

    ground = forms.ChoiceField(label=_("kept elsewhere because"), choices=KeepingGround.choices)
    details = FreeTextFormField(
        label=_("details of the ground"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required for another ground; the patron is told it."),
    )


class CompletionForm(forms.Form):
    completed_on = form_fields.DateField(label=_("answered on"), widget=DateInput, initial=today)


class RestrictionForm(forms.Form):
    """Restrict the patron's processing (GDPR Art. 18(1)): the grounds that fit the request's kind."""

    ground = forms.ChoiceField(label=_("ground"))

    def __init__(self, *args, kind: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["ground"]).choices = [
            (ground.value, ground.label) for ground in RESTRICTION_GROUNDS.get(RequestKind(kind), ())
        ]


class RestrictionLiftForm(forms.Form):
    informed_on = form_fields.DateField(
        label=_("patron told of the lifting on"),
        widget=DateInput,
        initial=today,
        help_text=_("GDPR Art. 18(3): the patron is told before the restriction is lifted."),
    )


class ClaimHoldLiftForm(forms.Form):
    settled = forms.ChoiceField(
        label=_("how the claim ended"),
        choices=ClaimSettled.choices,
        help_text=_(
            "GDPR Art. 17(3)(e): the identity code was kept only to collect the claim; once it is settled it is "
            "erased now. A ban decision in its archive period stays held."
        ),
    )


# The steps on the change page: form, service, heading, button.
STEPS: dict[str, tuple[type[forms.Form], Callable[..., object], "StrPromise", "StrPromise"]] = {
    "extension": (ExtensionForm, subject_request_extend, _("Extend the time to answer"), _("Record the extension")),
    "fee_decision": (
        FeeDecisionForm,
        subject_request_fee_decide,
        _("A fee or a refusal (only with a finding)"),
        _("Record the finding"),
    ),
    "delivery": (DeliveryForm, subject_request_deliver, _("Delivery of the access report"), _("Record the delivery")),
    "completion": (CompletionForm, subject_request_complete, _("Carried out"), _("Record as answered")),
    "refusal": (RefusalForm, subject_request_refuse, _("Refuse the request"), _("Refuse")),
    "restriction": (
        RestrictionForm,
        subject_request_restrict,
        _("Restrict processing (GDPR Art. 18)"),
        _("Restrict processing"),
    ),
    "restriction_lift": (
        RestrictionLiftForm,
        subject_request_restriction_lift,
        _("Lift the restriction of processing"),
        _("Lift the restriction"),
    ),
    "claim_hold_lift": (
        ClaimHoldLiftForm,
        legal_claim_holds_lift,
        _("The claim is settled: erase what was kept for it"),
        _("Lift the claim's hold"),
    ),
    "keeping": (
        KeepingForm,
        subject_request_keeping_record,
        _("Why the patron stays in the other system"),
        _("Record the ground and answer the request"),
    ),
}


def steps_open(
    subject_request: SubjectRequest,
    restriction: ProcessingRestriction | None = None,
    holds: list[LegalHold] | None = None,
) -> list[str]:
    """The steps that can be taken now, in the order they usually come; `restriction` is the one the request put in
    force (processing_restriction_of), which is lifted also after the request was answered, as a claim's hold
    among the erasure's `holds` (legal_holds_of) is lifted when the claim is settled."""
    in_force = restriction is not None and restriction.lifted_at is None
    claim_held = any(hold.ground == HOLD_LEGAL_CLAIMS and hold.lifted_on is None for hold in holds or [])
    claim = ["claim_hold_lift"] if claim_held else []
    if subject_request.completed_on is not None:
        return [*(["restriction_lift"] if in_force else []), *claim]
    access = subject_request.kind == RequestKind.ACCESS
    steps = []
    if subject_request.extended_due_on is None:
        steps.append("extension")
    if subject_request.erased_at is not None:
        # Carried out, and open only because another system still holds the patron: its ground answers it.
        return [*steps, *(["keeping"] if subject_request.held_elsewhere else []), *claim]
    if access and not subject_request.fee_decision:
        steps.append("fee_decision")
    # An incomplete report is not delivered (the service refuses it); the page says why instead. No finding
    # is needed first: a copy is free unless one is recorded.
    if access and subject_request.report_made_at is not None and not subject_request.report_incomplete:
        steps.append("delivery")
    if subject_request.kind in RESTRICTION_GROUNDS:
        steps.append("restriction_lift" if in_force else "restriction")
    if subject_request.kind in COMPLETED_BY_HAND:
        steps.append("completion")
    steps.append("refusal")
    return steps


def _step_form(step: str, subject_request: SubjectRequest, data=None) -> forms.Form:
    form_class = STEPS[step][0]
    extra: dict[str, Any] = {"kind": subject_request.kind} if form_class in (RefusalForm, RestrictionForm) else {}
    return form_class(data, prefix=step, **extra)


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("open", _("Open")),
            (RequestState.OVERDUE, RequestState.OVERDUE.label),
            (RequestState.ANSWERED, RequestState.ANSWERED.label),
            (RequestState.REFUSED, RequestState.REFUSED.label),
        ]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(completed_on__isnull=True)
        if self.value() == RequestState.OVERDUE:
            return queryset.filter(completed_on__isnull=True, deadline_on__lt=today())
        if self.value() == RequestState.ANSWERED:
            return queryset.filter(completed_on__isnull=False, refusal_ground="")
        if self.value() == RequestState.REFUSED:
            return queryset.exclude(refusal_ground="")
        return queryset


@admin.register(SubjectRequest)
class SubjectRequestAdmin(WideChangelistAdmin, BoundedInputsAdmin):
    """Requests of the user's own consortium, for whoever may handle them (`dpo.manage_subject_requests`)."""

    list_display = [
        "id",
        "patron_id",
        "kind",
        "received_column",
        "deadline_column",
        "days_left_column",
        "state_column",
        "answered_by",
    ]
    list_display_links = ["id"]
    list_filter = ["kind", StateFilter]
    search_fields = ["=patron_id"]
    search_help_text = _("A patron id.")
    actions = None
    readonly_fields = ["patron_column", "deadline_column", "days_left_column", "state_column"]
    fieldsets = [
        (
            _("Request"),
            {
                "fields": [
                    "patron_column",
                    "kind",
                    "received_on",
                    "requester_role",
                    "requester_name",
                    "requester_authority_check",
                    "requester_authority_note",
                    "identity_document",
                    "identity_verified_by",
                    "identity_verified_on",
                    "recorded_at",
                    "recorded_by",
                ]
            },
        ),
        (
            _("Time to answer"),
            {
                "fields": [
                    "due_on",
                    "extended_due_on",
                    "extension_reason",
                    "extension_notified_on",
                    "deadline_column",
                    "days_left_column",
                    "state_column",
                ]
            },
        ),
        (
            _("Access report"),
            {
                "fields": [
                    "report_made_at",
                    "report_incomplete",
                    "report_language",
                    "previous_report",
                    "fee_decision",
                    "fee_reason",
                    "delivery_method",
                    "delivered_on",
                    "request_form_destroyed_on",
                ]
            },
        ),
        (
            _("Answer"),
            {
                "fields": [
                    "completed_on",
                    "answered_by",
                    "answered_as",
                    "refusal_ground",
                    "refusal_details",
                    "erased_at",
                    "keeping_ground",
                    "keeping_details",
                ]
            },
        ),
    ]
    change_form_template = "admin/dpo/subjectrequest/change_form.html"

    # --- who may do what ---------------------------------------------------------------------------

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perm(PERMISSION)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # read-only: each step has its own form and service

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the record of how a request was answered is kept (GDPR Art. 5(2))

    def get_queryset(self, request: HttpRequest):
        # The deadline is annotated for the filters and the sorting; every user sees their own consortium only.
        return with_deadline(SubjectRequest.objects.of_consortium(consortium_id_of(request.user))).order_by(
            "deadline_on", "id"
        )

    def get_ordering(self, request: HttpRequest):
        return ["deadline_on", "id"]

    # --- columns -----------------------------------------------------------------------------------

    @admin.display(description=_("patron id"))
    def patron_column(self, subject_request: SubjectRequest) -> str:
        """The id, and the patron in Koha's staff interface when the consortium's Koha is connected."""
        url = koha_patron_url_of(patron_id=subject_request.patron_id, consortium_id=subject_request.consortium_id)
        return format_html("{} {}", subject_request.patron_id, render_to_string(KOHA_LINK, {"url": url}))

    @admin.display(description=_("deadline"), ordering="deadline_on")
    def deadline_column(self, subject_request: SubjectRequest) -> str:
        return formats.date_format(subject_request.deadline, "SHORT_DATE_FORMAT")

    @admin.display(description=_("received on"), ordering="received_on")
    def received_column(self, subject_request: SubjectRequest) -> str:
        return formats.date_format(subject_request.received_on, "SHORT_DATE_FORMAT")

    @admin.display(description=_("days left"))
    def days_left_column(self, subject_request: SubjectRequest) -> int | None:
        return days_left(subject_request)  # None once answered: shown as the admin's empty value

    @admin.display(description=_("state"))
    def state_column(self, subject_request: SubjectRequest) -> "str | StrPromise":
        state = RequestState(subject_request_state(subject_request))
        if state == RequestState.OVERDUE:
            return format_html(
                '<strong class="overdue"><img src="{}" alt=""> {}</strong>',
                static("admin/img/icon-alert.svg"),
                state.label,
            )
        return state.label

    # --- recording a request ----------------------------------------------------------------------

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        actor = subject_request_actor(request)
        found = None
        if request.method == "POST" and FIND in request.POST:
            # Finding the patron: a staff search through patrons' selector (the listed patrons are logged, the
            # text never), posted so that a name never lands in a URL; the typed values stay in the form.
            found = patron_search_box(actor=actor, text=request.POST.get(FIND_TEXT, ""))
            form = SubjectRequestRecordForm(initial=request.POST.dict())
        else:
            form = SubjectRequestRecordForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            data = dict(form.cleaned_data)
            try:
                subject_request = subject_request_record(actor=actor, patron_id=data.pop("patron"), **data)
            except RuleBroken as broken:
                form.add_error(None, broken)
            except NotFound:
                form.add_error("patron", _("Your consortium has no patron with this id."))
            else:
                messages.success(
                    request,
                    _("The request was recorded. The answer is due on %(date)s.")
                    % {"date": shown_date(subject_request.due_on)},
                )
                return redirect(reverse("admin:dpo_subjectrequest_change", args=[subject_request.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Record a data-subject request"),
            "form": form,
            "found": found,
            "find_text": found.query if found is not None else "",
            "has_view_permission": True,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/dpo/subjectrequest/record_form.html", context)

    # --- the steps on the change page ----------------------------------------------------------------

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        if request.method == "POST":
            return self._take_step(request, object_id)
        return self._change_page(request, object_id, form_url, extra_context)

    def _change_page(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context=None,
        refused: tuple[str, forms.Form] | None = None,
    ) -> HttpResponse:
        """The read-only page with the open steps' forms; `refused` is a step's form as the DPO sent it, shown
        again with its values and errors."""
        subject_request = self.get_object(request, unquote(object_id))
        steps = []
        earlier = None
        restriction = None
        holds: list[LegalHold] = []
        held_elsewhere: list[str] = []
        if subject_request is not None:
            # Shown before the report is made: a repeat is free unless the DPO records a finding.
            earlier = earlier_report(subject_request)
            holds = legal_holds_of(subject_request)
            held_elsewhere = held_elsewhere_texts(subject_request)
            restriction = processing_restriction_of(subject_request)
            steps = [
                {
                    "name": step,
                    "heading": STEPS[step][2],
                    "button": STEPS[step][3],
                    "form": refused[1] if refused and refused[0] == step else _step_form(step, subject_request),
                }
                for step in steps_open(subject_request, restriction, holds)
            ]
        context = {
            **(extra_context or {}),
            "request_steps": steps,
            "earlier_report": earlier,
            "legal_holds": holds,
            "held_elsewhere": held_elsewhere,
            "processing_restriction": restriction,
        }
        return super().change_view(request, object_id, form_url, context)

    def _take_step(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """One step's form, handed to its service. Done: a message on the change page. Refused: the page
        again (status 400) with the form as sent and its errors, or only a message when the step is no longer
        open."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        step = request.POST.get("_step", "")
        if step not in STEPS:
            return HttpResponseBadRequest()
        subject_request = self.get_object(request, unquote(object_id))
        if subject_request is None:
            raise Http404
        actor = subject_request_actor(request)
        form = _step_form(step, subject_request, request.POST)
        service = STEPS[step][1]
        if form.is_valid():
            try:
                service(actor=actor, request_id=subject_request.pk, **form.cleaned_data)
            except RuleBroken as broken:
                form.add_error(None, broken)
            else:
                messages.success(request, _("Recorded: %(step)s.") % {"step": STEPS[step][2]})
                return redirect(request.path)
        if step not in steps_open(
            subject_request, processing_restriction_of(subject_request), legal_holds_of(subject_request)
        ):
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                text = " ".join(map(str, errors))
                messages.error(request, f"{label}: {text}" if label else text)
            return redirect(request.path)
        # The admin's own change view would take a POST for a save, which this read-only page never makes.
        request.method = "GET"
        response = self._change_page(request, object_id, refused=(step, form))
        response.status_code = 400
        return response
