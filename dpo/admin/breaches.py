"""The breach register in the admin: the DPO's own consortium's breaches (a superuser's too: their own).

The facts are shown read-only; every change goes through a small form that calls the service
(dpo.services.breaches), so the admin keeps the same rules as the API and shows their messages.
Listing the contacts of the people concerned is a logged read (dpo.breach_selectors).
"""

import datetime
import re
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.models import DataCategory
from core import form_fields
from core.bounds import ID_LIST_MAX, ID_MAX, ID_OUT_OF_RANGE, parse_id
from core.dates import shown_date, today
from core.errors import RuleBroken
from core.free_text_fields import FreeTextFormField
from dpo.admin.wide import WideChangelistAdmin
from dpo.breach_selectors import (
    awaits_authority,
    breach_affected_contacts,
    people_must_be_told,
    time_left,
    with_authority_notified_at,
)
from dpo.models import Art34Exemption, AuthorityNotification, Breach, NotificationPhase, RiskLevel
from dpo.services.breaches import (
    art34_exemption_record,
    authority_notification_record,
    breach_close,
    breach_record,
    breach_update,
    people_notification_record,
    supervisory_authority,
)
from staff.access import breach_actor
from staff.admin_bounds import BoundedInputsAdmin
from staff.scoping import ConsortiumScopedQuerySet
from staff.selectors import consortium_id_of

PERMISSION = "dpo.manage_breaches"


def describe_time_left(left: datetime.timedelta) -> str:
    """'41 h 12 min left', or 'overdue by 3 h 5 min'."""
    minutes = int(abs(left.total_seconds()) // 60)
    params = {"hours": minutes // 60, "minutes": minutes % 60}
    if left < datetime.timedelta(0):
        return gettext("overdue by %(hours)d h %(minutes)d min") % params
    return gettext("%(hours)d h %(minutes)d min left") % params


# --- Forms: what each step asks; the services check the rules -----------------------------------------


class PatronIdsField(forms.CharField):
    """Patron ids separated by commas or spaces: ids, never names, so the form holds no personal data."""

    def to_python(self, value) -> list[int]:  # type: ignore[override]  # a list of ids, not CharField's str
        words = [w for w in re.split(r"[\s,;]+", super().to_python(value) or "") if w]
        if not all(w.isascii() and w.isdigit() for w in words):
            raise ValidationError(_("Give patron ids (numbers) separated by commas or spaces."), code="invalid")
        parsed = [parse_id(w) for w in words]
        ids = [i for i in parsed if i is not None]
        if len(ids) < len(parsed):
            raise ValidationError(ID_OUT_OF_RANGE % {"max": ID_MAX}, code="id_out_of_range")
        if len(ids) > ID_LIST_MAX:
            raise ValidationError(_("Give at most %(max)s patron ids.") % {"max": ID_LIST_MAX}, code="too_many_ids")
        return ids

    def prepare_value(self, value):
        return ", ".join(map(str, value)) if isinstance(value, list) else value


class BreachFactsForm(forms.Form):
    occurred_at = form_fields.SplitDateTimeField(
        label=_("happened at"), required=False, widget=widgets.AdminSplitDateTime, help_text=_("If known.")
    )
    description = FreeTextFormField(label=_("nature of the breach"), widget=forms.Textarea, required=False)
    data_categories = forms.MultipleChoiceField(
        label=_("categories of data"), choices=DataCategory.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    people_affected = form_fields.CountField(label=_("people concerned (approx.)"), required=False)
    records_affected = form_fields.CountField(label=_("records concerned (approx.)"), required=False)
    consequences = FreeTextFormField(label=_("likely consequences"), widget=forms.Textarea, required=False)
    measures = FreeTextFormField(label=_("measures taken or proposed"), widget=forms.Textarea, required=False)
    risk = forms.ChoiceField(label=_("risk"), choices=RiskLevel.choices, initial=RiskLevel.RISK)
    affected_patron_ids = PatronIdsField(
        label=_("patrons concerned"),
        required=False,
        help_text=_("Patron ids separated by commas, for telling the people concerned (GDPR Art. 34)."),
    )


class BreachRecordForm(BreachFactsForm):
    aware_at = form_fields.SplitDateTimeField(
        label=_("became aware at"),
        widget=widgets.AdminSplitDateTime,
        help_text=_("The authority must be notified within 72 hours of this moment."),
    )
    field_order = ["aware_at"]


class AuthorityNotificationForm(forms.Form):
    notified_at = form_fields.SplitDateTimeField(label=_("notified at"), widget=widgets.AdminSplitDateTime)
    phase = forms.ChoiceField(
        label=_("phase"),
        choices=[("", _("Initial first, then supplementary")), *NotificationPhase.choices],
        required=False,
    )
    late_reason = FreeTextFormField(
        label=_("reason for the delay"),
        widget=forms.Textarea,
        required=False,
        help_text=_("Required when the initial notification is made after the 72-hour deadline."),
    )
    reference = FreeTextFormField(label=_("authority's reference"), max_length=100, required=False)


class PeopleNotificationForm(forms.Form):
    notified_on = form_fields.DateField(label=_("people concerned told on"), widget=widgets.AdminDateWidget)


class Art34ExemptionForm(forms.Form):
    exemption = forms.ChoiceField(label=_("not told because"), choices=Art34Exemption.choices)
    details = FreeTextFormField(label=_("details of the exemption"), widget=forms.Textarea, required=False)


class BreachCloseForm(forms.Form):
    closed_on = form_fields.DateField(label=_("closed on"), widget=widgets.AdminDateWidget)


# --- The admin --------------------------------------------------------------------------------------


class AuthorityNotificationInline(admin.TabularInline):
    model = AuthorityNotification
    fields = readonly_fields = ("phase", "notified_at", "late_reason", "reference", "recorded_at", "recorded_by")
    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(PERMISSION)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OpenFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("Open")), ("no", _("Closed"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(closed_on__isnull=self.value() == "yes")
        return queryset


@admin.register(Breach)
class BreachAdmin(WideChangelistAdmin, BoundedInputsAdmin):
    """The breach register (Art. 33(5)): recorded, notified, told and closed through the services."""

    list_display = [
        "id",
        "aware_column",
        "risk",
        "deadline_column",
        "deadline_status",
        "authority_notified",
        "people_status",
        "closed_column",
    ]
    list_display_links = ["id"]
    list_filter = [OpenFilter, "risk"]
    inlines = [AuthorityNotificationInline]
    fieldsets = [
        (None, {"fields": ["consortium", "aware_at", "occurred_at", "description", "risk"]}),
        (
            _("Scope"),
            {
                "fields": [
                    "data_category_labels",
                    "people_affected",
                    "records_affected",
                    "affected_patrons",
                    "consequences",
                    "measures",
                ]
            },
        ),
        (_("Supervisory authority (GDPR Art. 33)"), {"fields": ["authority", "authority_deadline", "deadline_status"]}),
        (
            _("People concerned (GDPR Art. 34)"),
            {"fields": ["people_status", "people_notified_on", "art34_exemption", "art34_exemption_details"]},
        ),
        (None, {"fields": ["recorded_at", "recorded_by", "closed_on"]}),
    ]
    readonly_fields = ["data_category_labels", "affected_patrons", "authority", "deadline_status", "people_status"]

    # --- who sees what

    def has_module_permission(self, request):
        return request.user.has_perm(PERMISSION)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return False  # the facts change only through the forms below, which call the services

    def has_delete_permission(self, request, obj=None):
        return False  # the register is kept (Art. 33(5))

    def get_queryset(self, request):
        queryset = with_authority_notified_at(super().get_queryset(request).select_related("consortium"))
        return cast(ConsortiumScopedQuerySet, queryset).of_consortium(consortium_id_of(request.user))

    # --- columns and read-only fields

    # The times short, so that the list fits a 1,280 px screen.

    @admin.display(description=_("became aware at"), ordering="aware_at")
    def aware_column(self, breach: Breach) -> str:
        return formats.date_format(timezone.localtime(breach.aware_at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("authority to be notified by"), ordering="authority_deadline")
    def deadline_column(self, breach: Breach) -> str:
        return formats.date_format(timezone.localtime(breach.authority_deadline), "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("closed on"), ordering="closed_on")
    def closed_column(self, breach: Breach) -> str:
        return formats.date_format(breach.closed_on, "SHORT_DATE_FORMAT") if breach.closed_on else "—"

    @admin.display(description=_("time left"))
    def deadline_status(self, breach):
        if not awaits_authority(breach):
            return "—"
        left = time_left(breach)
        css = "breach-overdue" if left < datetime.timedelta(0) else "breach-running"
        return format_html('<strong class="{}">{}</strong>', css, describe_time_left(left))

    @admin.display(description=_("authority notified"))
    def authority_notified(self, breach):
        notified_at = getattr(breach, "authority_notified_at", None)
        if notified_at is not None:
            return formats.date_format(timezone.localtime(notified_at), "SHORT_DATETIME_FORMAT")
        return gettext("not required") if breach.risk == RiskLevel.UNLIKELY else gettext("no")

    @admin.display(description=_("people concerned"))
    def people_status(self, breach):
        if breach.people_notified_on:
            return gettext("told on %(date)s") % {"date": shown_date(breach.people_notified_on)}
        if breach.art34_exemption:
            return breach.get_art34_exemption_display()
        if people_must_be_told(breach):
            return format_html('<strong class="breach-overdue">{}</strong>', gettext("must be told"))
        return "—"

    @admin.display(description=_("supervisory authority"))
    def authority(self, breach):
        return supervisory_authority(breach.consortium.jurisdiction)

    @admin.display(description=_("patrons concerned"))
    def affected_patrons(self, breach):
        """Their ids only; names and contacts open through the logged contact list."""
        return ", ".join(map(str, breach.affected_patron_ids)) or "—"

    @admin.display(description=_("categories of data"))
    def data_category_labels(self, breach):
        labels = dict(DataCategory.choices)
        return ", ".join(str(labels.get(code, code)) for code in breach.data_categories) or "—"

    # --- the steps

    def get_urls(self):
        def view(function, suffix: str):
            return path(
                f"<path:object_id>/{suffix}/",
                self.admin_site.admin_view(function),
                name=f"dpo_breach_{suffix.replace('-', '_')}",
            )

        return [
            view(self.update_view, "update"),
            view(self.authority_notification_view, "authority-notification"),
            view(self.people_notification_view, "people-notification"),
            view(self.art34_exemption_view, "art34-exemption"),
            view(self.close_view, "close"),
            view(self.affected_contacts_view, "affected-contacts"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        breach = self.get_object(request, object_id)
        own = breach is not None and breach.consortium_id == consortium_id_of(request.user)
        extra_context = {
            **(extra_context or {}),
            "breach_steps": own and breach is not None and breach.closed_on is None,
            "breach_own": own,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        def perform(actor, _breach, data):
            return breach_record(actor=actor, **data)

        return self._step(
            request, None, BreachRecordForm, perform, title=_("Record a personal-data breach"), initial={}
        )

    def update_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        def perform(actor, breach, data):
            return breach_update(actor=actor, breach_id=breach.pk, **data)

        def initial(breach):
            return {name: getattr(breach, name) for name in BreachFactsForm.base_fields}

        return self._step(request, object_id, BreachFactsForm, perform, title=_("Update the facts"), initial=initial)

    def authority_notification_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        def perform(actor, breach, data):
            return authority_notification_record(
                actor=actor, breach_id=breach.pk, **{**data, "phase": data["phase"] or None}
            )

        return self._step(
            request, object_id, AuthorityNotificationForm, perform, title=_("Notify the supervisory authority")
        )

    def people_notification_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        def perform(actor, breach, data):
            return people_notification_record(actor=actor, breach_id=breach.pk, **data)

        return self._step(
            request, object_id, PeopleNotificationForm, perform, title=_("Record that the people concerned were told")
        )

    def art34_exemption_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        def perform(actor, breach, data):
            return art34_exemption_record(actor=actor, breach_id=breach.pk, **data)

        return self._step(
            request, object_id, Art34ExemptionForm, perform, title=_("Record why the people are not told")
        )

    def close_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        def perform(actor, breach, data):
            return breach_close(actor=actor, breach_id=breach.pk, **data)

        return self._step(
            request,
            object_id,
            BreachCloseForm,
            perform,
            title=_("Close the breach"),
            initial={"closed_on": today()},
        )

    def affected_contacts_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        actor = breach_actor(request)
        breach = self._breach(request, object_id)
        contacts = breach_affected_contacts(actor=actor, breach_id=breach.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": breach,
            "title": gettext("Contacts of the people concerned"),
            "contacts": contacts,
        }
        return TemplateResponse(request, "admin/dpo/breach/affected_contacts.html", context)

    def _breach(self, request: HttpRequest, object_id: str) -> Breach:
        breach = self.get_object(request, object_id)
        if breach is None:
            raise Http404
        return breach

    def _step(self, request: HttpRequest, object_id: str | None, form_class, perform, *, title, initial=None):
        """One step's form page: on a valid POST the service runs; a broken rule is shown on the form."""
        actor = breach_actor(request)
        breach = self._breach(request, object_id) if object_id is not None else None
        if callable(initial):
            initial = initial(breach)
        form = form_class(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                result = perform(actor, breach, form.cleaned_data)
            except RuleBroken as error:
                form.add_error(None, error)
            else:
                self.message_user(request, gettext("Saved."), messages.SUCCESS)
                target = breach or result
                return HttpResponseRedirect(reverse("admin:dpo_breach_change", args=[target.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": breach,
            "title": title,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/dpo/breach/step_form.html", context)
