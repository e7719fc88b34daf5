"""The ban procedure's pages: proposing a ban (Finland) or recording a prosecutor's access prohibition
(Sweden), one page per ban with the form for its next step, and the decision archive.

Who may do which step is decided in staff.access (one place per rule); the rules of the
procedure in bans.services. A broken rule is shown on the page (status 400) and nothing is written.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.actor import Actor
from bans import forms
from bans.guidance import next_step_text, prohibition_next_step_text
from bans.models import AccessProhibition, BanGround, ProhibitionWarning
from bans.selectors import (
    access_prohibition_get,
    ban_archive_page,
    ban_citable_notes,
    ban_decider_queue,
    ban_get,
    ban_notified_guardians,
    ban_party_guardians,
    guardian_choices,
    notified_guardian_choices,
)
from bans.services import (
    access_prohibition_court_record,
    access_prohibition_record,
    access_prohibition_revoke,
    access_prohibition_warnings,
    ban_appeal_record,
    ban_cancel,
    ban_court_appeal_record,
    ban_days,
    ban_decide,
    ban_hearing_record,
    ban_notification_record,
    ban_propose,
    ban_receipt_record,
    ban_rectification_notification_record,
)
from bans.state import Step, next_steps
from patrons.forms import ReasonForm
from patrons.selectors import patron_record_for_staff
from patrons.views import run_service
from staff.access import ban_archive_actor, ban_decider_actor, ban_preparer_actor

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


def ban_for_reader(request: HttpRequest, ban_id: int):
    """The ban for whoever reads it: the archive (ban deciders, DPO) sees every ban, staff the ones in procedure."""
    if request.user.has_perm("bans.view_ban_archive"):
        return ban_get(actor=ban_archive_actor(request), ban_id=ban_id, archive=True)
    return ban_get(actor=ban_preparer_actor(request), ban_id=ban_id)


# step: (form class, actor function, service, success message); which step comes next is bans.state's to say.
# By the step's value (a str, as in the URL): the form, who may take it, the service, the message on success.
STEPS: dict[str, tuple[type[django_forms.Form], Callable[[HttpRequest], Actor], Callable[..., Any], "StrPromise"]] = {
    Step.HEARING: (forms.HearingForm, ban_preparer_actor, ban_hearing_record, _("The hearing was recorded.")),
    Step.DECISION: (forms.DecisionForm, ban_decider_actor, ban_decide, _("The decision was recorded.")),
    Step.NOTIFICATION: (
        forms.NotificationForm,
        ban_preparer_actor,
        ban_notification_record,
        _("The notification was recorded."),
    ),
    Step.RECEIPT: (forms.ReceiptForm, ban_preparer_actor, ban_receipt_record, _("The receipt was recorded.")),
    Step.APPEAL: (
        forms.AppealForm,
        ban_decider_actor,
        ban_appeal_record,
        _("The rectification request was recorded."),
    ),
    Step.RECTIFICATION_NOTICE: (
        forms.RectificationNoticeForm,
        ban_preparer_actor,
        ban_rectification_notification_record,
        _("The notification of the rectification decision was recorded."),
    ),
    Step.COURT_APPEAL: (
        forms.CourtAppealForm,
        ban_decider_actor,
        ban_court_appeal_record,
        _("The appeal to the administrative court was recorded."),
    ),
    Step.CANCEL: (ReasonForm, ban_decider_actor, ban_cancel, _("The ban was cancelled.")),
}


def _forms_for(ban, user, bound: dict | None = None) -> dict:
    """The forms for the steps this user may take next on this ban (a bound one replaces its blank twin)."""
    bound = bound or {}
    steps = next_steps(ban, may_prepare=user.has_perm("bans.prepare_ban"), may_decide=user.has_perm("bans.decide_ban"))
    initial = {
        Step.DECISION: {
            "starts_on": ban.starts_on,
            "ends_on": ban.ends_on,
            "decided_on": None,
            "enforced_before_final": True,
            "length_days": ban.length_days or ban_days(ban.starts_on, ban.ends_on),
        },
    }
    guardians, notified = guardian_choices(ban.patron), notified_guardian_choices(ban)
    return {
        step: bound.get(step)
        or STEPS[step][0](initial=initial.get(step), prefix=step, **_form_kwargs(step, guardians, notified))
        for step in steps
    }


def _form_kwargs(step: str, guardians: list[tuple[int, str]], notified: list[tuple[int, str]]) -> dict:
    """A minor party's guardians are heard and notified with the party (Administrative Procedure Act s. 14);
    a later receipt is proven for the party or a guardian who was notified."""
    if step == Step.RECEIPT:
        return {"guardians": notified}
    return {"guardians": guardians} if step in (Step.HEARING, Step.NOTIFICATION) else {}


def _render_ban(request: HttpRequest, ban, status: int = 200, bound: dict | None = None) -> HttpResponse:
    context = {
        "ban": ban,
        "patron": ban.patron,
        "grounds": [BanGround(ground).label for ground in ban.grounds],
        "step_forms": _forms_for(ban, request.user, bound),
        "next_step": next_step_text(ban, ban.state),
    }
    return render(request, "bans/detail.html", context, status=status)


@never_cache
@login_required
@require_GET
def ban_detail_view(request: HttpRequest, ban_id: int) -> HttpResponse:
    return _render_ban(request, ban_for_reader(request, ban_id))


@never_cache
@login_required
@require_POST
def ban_step_view(request: HttpRequest, ban_id: int, step: str) -> HttpResponse:
    if step not in STEPS:
        raise Http404
    form_class, actor_for, service, success = STEPS[step]
    actor = actor_for(request)
    guardians = ban_party_guardians(actor=actor, ban_id=ban_id)
    notified = ban_notified_guardians(actor=actor, ban_id=ban_id)
    form = form_class(request.POST, prefix=step, **_form_kwargs(step, guardians, notified))
    if form.is_valid():
        data = form.service_arguments() if isinstance(form, forms.GuardianFieldsMixin) else dict(form.cleaned_data)
        if step == Step.DECISION and data.get("decided_on") is None:
            data.pop("decided_on")
        if run_service(form, service, actor=actor, ban_id=ban_id, **data):
            messages.success(request, success)
            return redirect("bans:detail", ban_id=ban_id)
    return _render_ban(request, ban_for_reader(request, ban_id), status=400, bound={step: form})


@never_cache
@login_required
@require_GET
def ban_queue_view(request: HttpRequest) -> HttpResponse:
    """The ban decider's landing page: the bans of their libraries waiting for their step."""
    return render(request, "bans/queue.html", {"queue": ban_decider_queue(actor=ban_decider_actor(request))})


@never_cache
@login_required
@require_GET
def ban_archive_view(request: HttpRequest) -> HttpResponse:
    page = ban_archive_page(actor=ban_archive_actor(request), page_number=request.GET.get("page", 1))
    return render(request, "bans/archive.html", {"page": page})


# --- Starting a ban (Finland) or recording a prosecutor's prohibition (Sweden) -----------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def ban_propose_view(request: HttpRequest, patron_id: int) -> HttpResponse:
    actor = ban_preparer_actor(request)
    record = patron_record_for_staff(actor=actor, patron_id=patron_id)
    behaviour = ban_citable_notes(actor=actor, patron_id=patron_id)
    form = forms.BanProposeForm(request.POST or None, consortium_id=actor.consortium_id, behaviour_notes=behaviour)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ban = run_service(
            form,
            ban_propose,
            actor=actor,
            patron_id=patron_id,
            library=data["library"].koha_library_id,
            grounds=data["grounds"],
            note_ids=data["note_ids"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
        )
        if ban is not None:
            messages.success(request, gettext("The ban was proposed. Next, hear the patron."))
            return redirect("bans:detail", ban_id=ban.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "bans/propose.html", {"record": record, "patron": record.patron, "form": form}, status=status
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def access_prohibition_view(request: HttpRequest, patron_id: int) -> HttpResponse:
    """Record a prosecutor's decision. A decision with something unusual in it (a year or more) is shown back with
    the warnings, and recorded once the staff member confirms the dates are the prosecutor's."""
    actor = ban_preparer_actor(request)
    record = patron_record_for_staff(actor=actor, patron_id=patron_id)
    form = forms.AccessProhibitionForm(request.POST or None, consortium_id=actor.consortium_id)
    warnings: list[ProhibitionWarning] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        data = {**form.cleaned_data, "library": form.cleaned_data["library"].koha_library_id}
        confirmed = data.pop("confirm_warnings")
        warnings = access_prohibition_warnings(starts_on=data["starts_on"], ends_on=data["ends_on"])
        if not warnings or confirmed:
            if run_service(form, access_prohibition_record, actor=actor, patron_id=patron_id, **data):
                messages.success(request, gettext("The prosecutor's access prohibition was recorded."))
                for warning in warnings:
                    messages.warning(request, warning.detail)
                return redirect("patrons:detail", patron_id=patron_id)
            status = 400
    elif request.method == "POST":
        status = 400
    context = {"record": record, "patron": record.patron, "form": form, "warnings": warnings}
    return render(request, "bans/access_prohibition.html", context, status=status)


# --- One access prohibition: its history, the prosecutor's revocation and the court's outcome (Sweden) -------

# step: (form class, service, success message)
PROHIBITION_STEPS: dict[str, tuple[type[django_forms.Form], Callable[..., AccessProhibition], "StrPromise"]] = {
    "revocation": (
        forms.ProhibitionRevocationForm,
        access_prohibition_revoke,
        _("The prosecutor's revocation was recorded."),
    ),
    "court": (forms.ProhibitionCourtForm, access_prohibition_court_record, _("The court's outcome was recorded.")),
}


def _render_prohibition(
    request: HttpRequest, prohibition_id: int, status: int = 200, bound: dict | None = None
) -> HttpResponse:
    """The prohibition for whoever reads it: the archive (ban deciders, DPO) sees ended and revoked ones too."""
    if request.user.has_perm("bans.view_ban_archive"):
        prohibition = access_prohibition_get(
            actor=ban_archive_actor(request), prohibition_id=prohibition_id, archive=True
        )
    else:
        prohibition = access_prohibition_get(actor=ban_preparer_actor(request), prohibition_id=prohibition_id)
    step_forms: dict[str, django_forms.Form] = {}
    if request.user.has_perm("bans.prepare_ban"):
        if prohibition.revoked_on is None:
            step_forms["revocation"] = forms.ProhibitionRevocationForm(prefix="revocation")
        if not prohibition.court_outcome:
            step_forms["court"] = forms.ProhibitionCourtForm(prefix="court")
    step_forms.update(bound or {})
    context = {
        "prohibition": prohibition,
        "patron": prohibition.patron,
        "step_forms": step_forms,
        "next_step": prohibition_next_step_text(prohibition),
    }
    return render(request, "bans/access_prohibition_detail.html", context, status=status)


@never_cache
@login_required
@require_GET
def access_prohibition_detail_view(request: HttpRequest, prohibition_id: int) -> HttpResponse:
    return _render_prohibition(request, prohibition_id)


@never_cache
@login_required
@require_POST
def access_prohibition_step_view(request: HttpRequest, prohibition_id: int, step: str) -> HttpResponse:
    if step not in PROHIBITION_STEPS:
        raise Http404
    form_class, service, success = PROHIBITION_STEPS[step]
    actor = ban_preparer_actor(request)
    form = form_class(request.POST, prefix=step)
    if form.is_valid():
        prohibition = run_service(form, service, actor=actor, prohibition_id=prohibition_id, **form.cleaned_data)
        if prohibition is not None:
            messages.success(request, success)
            for warning in getattr(prohibition, "warnings", []):
                messages.warning(request, warning.detail)
            return redirect("bans:prohibition", prohibition_id=prohibition_id)
    return _render_prohibition(request, prohibition_id, status=400, bound={step: form})
