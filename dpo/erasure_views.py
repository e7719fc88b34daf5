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

REMOVES = {
    "patron": _("Patron record"),
    "notes": _("Notes"),
    "sensitive_notes": _("of which sensitive (behaviour, guardianship, accessibility)"),
    "note_revisions": _("Earlier versions of notes"),
    "guardian_links": _("Guardian links to the patrons listed, as ward and as guardian (those patrons stay)"),
    "trusteeship": _("Adult guardianship and the guardian's contact"),
    "register_memberships": _("Register memberships and consents"),
    "bans": _("Library-use bans and their decisions"),
    "access_prohibitions": _("Access prohibitions"),
    "identity_code": _("Identity code in the silo"),
    "staff_profile_links": _("Link from a staff member's profile (cleared; the staff member stays)"),
}
KEEPS = {
    "access_events": _(
        "Access events about the patron: only the patron's id stays, until the access log's own retention ends"
    ),
    "subject_requests": _("Data-subject requests: how the patron's requests were answered"),
}


class ErasureConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I have checked the list above. Erase the patron's data now; this cannot be undone."),
        error_messages={"required": _("Tick the box to confirm the erasure.")},
    )


def _ids(values) -> str:
    return ", ".join(map(str, values))


def _rows(plan: ErasurePlan) -> list[tuple]:
    """(label, count, opaque ids) for each line of the plan."""
    ids = {
        "patron": [plan.patron_id],
        "notes": plan.note_ids,
        "sensitive_notes": plan.sensitive_note_ids,
        "guardian_links": plan.guardian_ids + plan.ward_ids,
        "register_memberships": plan.register_membership_ids,
        "bans": [line.id for line in plan.bans],
        "access_prohibitions": [line.id for line in plan.access_prohibitions],
    }
    return [(REMOVES[key], count, _ids(ids.get(key, []))) for key, count in plan.removes.items()]


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
        "keeps": [(KEEPS[key], count) for key, count in plan.keeps.items()],
        "form": form,
    }
    return _render(request, request_id, status=400 if form.is_bound else 200, **context)
