"""The DPO's erasure page: the dry run of an erasure request, and the erasure after a confirmation.

Opening the page is the dry run (and is logged as one). A broken rule (not an erasure request, refused,
already carried out) is shown on the page with status 400; refusing is done on the request's own page.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.errors import RuleBroken
from dpo.services.erasure import ErasurePlan, subject_request_erase
from staff.access import subject_request_actor


class ErasureConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I have checked the list above. Erase the patron's data now; this cannot be undone."),
        error_messages={"required": _("Tick the box to confirm the erasure.")},
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
            result = subject_request_erase(actor=actor, request_id=request_id, dry_run=False)
            messages.success(
                request,
                _(
                    "Patron %(patron)d was erased and the request is marked answered. A tombstone without personal "
                    "data lets `manage.py reapply_erasures` erase them again after a backup restore."
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
        "rows": _rows(plan),
        "keeps": [(line.label, line.count) for line in plan.kept_lines],
        "form": form,
    }
    return _render(request, request_id, status=400 if form.is_bound else 200, **context)
