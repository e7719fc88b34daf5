"""The DPO's erasure page: the dry run of an erasure request, and the erasure after a confirmation.

Opening the page is the dry run (logged as a read of the plan, naming the patron's basic details it shows: name,
card number and date of birth, so that the DPO sees whom they erase). The erasure needs the card number typed.
A broken rule (not an erasure request, refused, already carried out) is shown on the page with status 400;
refusing is done on the request's own page. Reapplying the erasures after a backup restore is a page too.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.errors import RuleBroken
from dpo.services.erasure import ErasurePlan, erasures_reapply, subject_request_erase
from staff.access import subject_request_actor


class ErasureConfirmForm(forms.Form):
    """The typed confirmation of the irreversible step: the card number shown above, typed again (checked by the
    service, which refuses anything else)."""

    confirm = forms.CharField(
        label=_("Type the patron's card number to confirm the erasure"),
        max_length=32,
        error_messages={"required": _("Type the patron's card number to confirm the erasure.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "numeric"}),
    )


def _ids(values) -> str:
    return ", ".join(map(str, values))


def _rows(plan: ErasurePlan) -> list[tuple]:
    """(label, count, opaque ids) for each line of the plan."""
    return [(line.label, line.count, _ids(line.ids)) for line in plan.removal_lines]


def _render(request: HttpRequest, request_id: int, status: int = 200, **context) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": _("Erasure of request #%(id)d") % {"id": request_id},
        "request_id": request_id,
        **context,
    }
    return render(request, "dpo/erase.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def request_erase_view(request: HttpRequest, request_id: int) -> HttpResponse:
    actor = subject_request_actor(request)
    form = ErasureConfirmForm(request.POST if request.method == "POST" else None)
    try:
        if form.is_valid():
            try:
                result = subject_request_erase(
                    actor=actor, request_id=request_id, dry_run=False, confirm=form.cleaned_data["confirm"]
                )
            except RuleBroken as broken:
                if broken.rule != "confirmation_mismatch":
                    raise
                form.add_error("confirm", broken)
            else:
                messages.success(
                    request,
                    _(
                        "Patron %(patron)d was erased and the request is marked answered. A tombstone without "
                        "personal data lets the erasure be applied again after a backup restore."
                    )
                    % {"patron": result.patron_id},
                )
                return redirect("admin:dpo_subjectrequest_change", request_id)
        result = subject_request_erase(actor=actor, request_id=request_id, dry_run=True)
    except RuleBroken as error:
        return _render(request, request_id, status=400, error=" ".join(error.messages))
    plan = result.plan
    context = {
        "plan": plan,
        "subject": result.subject,
        "rows": _rows(plan),
        "keeps": [(line.label, line.count) for line in plan.kept_lines],
        "form": form,
    }
    return _render(request, request_id, status=400 if form.is_bound else 200, **context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def erasures_reapply_view(request: HttpRequest) -> HttpResponse:
    """After a backup restore: GET counts what would be erased again (a dry run, which changes nothing), POST
    erases it, for the DPO's own consortium (dpo.services.erasure.erasures_reapply)."""
    actor = subject_request_actor(request)
    if request.method == "POST":
        result = erasures_reapply(actor=actor)
        messages.success(
            request,
            ngettext(
                "Erasures reapplied: %(count)d patron erased again.",
                "Erasures reapplied: %(count)d patrons erased again.",
                result.erased_again,
            )
            % {"count": result.erased_again},
        )
        return redirect("dpo:erasures-reapply")
    result = erasures_reapply(actor=actor, dry_run=True)
    context = {
        **admin.site.each_context(request),
        "title": _("Reapply erasures after a backup restore"),
        "result": result,
        "to_do": result.erased_again + result.tombstones_written_back + result.silo_entries_written_back,
    }
    return render(request, "dpo/erasures_reapply.html", context)
