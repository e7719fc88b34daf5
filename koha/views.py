"""Billing's page of the identity codes found in Koha that could not be stored (koha.findings)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from audit.models import Action
from koha.findings import koha_code_finding_check, koha_code_findings_list
from sotu_silo.access import billing_actor


@never_cache
@login_required
@require_GET
def billing_koha_codes_view(request: HttpRequest) -> HttpResponse:
    actor = billing_actor(request, action=Action.KOHA_CODE_FINDING)
    return render(request, "billing/koha_codes.html", {"page": koha_code_findings_list(actor=actor)})


@never_cache
@login_required
@require_POST
def billing_koha_code_check_view(request: HttpRequest, finding_id: int) -> HttpResponse:
    actor = billing_actor(request, action=Action.KOHA_CODE_FINDING)
    koha_code_finding_check(actor=actor, finding_id=finding_id)
    messages.success(request, _("The finding was marked checked."))
    return redirect("koha-billing:codes")
