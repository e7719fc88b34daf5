"""The billing clerk's view, and the desk's write-only identity-code form.

Codes travel only in POST bodies, are never put in a URL, a session, a message
or a cache, and a revealed code is rendered once; `never_cache` on every view
sends `Cache-Control: no-store`.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.actor import Actor
from audit.models import Action
from core.errors import NotFound, Refused
from core.free_text_fields import shown_back
from patrons.selectors import SEARCH_BOX_CATEGORIES
from patrons.views import posted_search, render_patron_page, search_address_dropped
from sotu_silo.access import billing_actor, identity_code_writer_actor
from sotu_silo.billing_worklists import billing_worklist_links
from sotu_silo.conflicts import (
    ConflictUnreadable,
    identity_code_conflict_count,
    identity_code_conflict_list,
    identity_code_conflict_resolve,
)
from sotu_silo.models import ConflictResolution
from sotu_silo.services import (
    IdentityCodeStoreRateLimited,
    IdentityCodeUnreadable,
    identity_code_lookup,
    identity_code_patron_ids,
    identity_code_reveal_with_holder,
    identity_code_store,
)
from staff.access import patron_data_actor
from staff.actor import actor_from_request


def _billing_page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    listed = [*context.get("found", []), *(context["page"].object_list if context.get("page") else [])]
    context["coded_ids"] = identity_code_patron_ids(patron_ids=[patron.pk for patron in listed])
    actor = actor_from_request(request)
    context["conflict_count"] = identity_code_conflict_count(actor=actor)
    context["worklists"] = billing_worklist_links(actor=actor)
    return render(request, "billing/index.html", context, status=status)


@search_address_dropped
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def billing_index_view(request: HttpRequest) -> HttpResponse:
    """GET: the empty page. POST: the name or card-number search, in the body like every search."""
    return _billing_page(request, posted_search(request, billing_actor(request)))


@sensitive_post_parameters("identity_code")
@sensitive_variables("code")
@never_cache
@login_required
@require_POST
def billing_lookup_view(request: HttpRequest) -> HttpResponse:
    actor = billing_actor(request, action=Action.IDENTITY_CODE_LOOKUP)
    code = request.POST.get("identity_code", "")
    reason = request.POST.get("reason", "")
    try:
        # The patron found is shown in a row of the search's results (billing/patron_rows.html).
        patron = identity_code_lookup(actor=actor, code=code, reason=reason, patron_shown_as=SEARCH_BOX_CATEGORIES)
    except ValidationError as error:
        context = {"lookup_error": " ".join(error.messages), "lookup_reason": shown_back(reason)}
        return _billing_page(request, context, 400)
    except NotFound:
        # A message on the same page, the reason kept for the next try; the same whether the code is held in
        # another consortium or nowhere (identity_code_lookup).
        return _billing_page(request, {"lookup_not_found": True, "lookup_reason": shown_back(reason)}, 404)
    except Refused as refused:
        return _billing_page(request, {"lookup_error": str(refused)}, refused.status)
    return _billing_page(request, {"found": [patron], "lookup_reason": reason})


@sensitive_post_parameters()
@sensitive_variables("revealed")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def billing_reveal_view(request: HttpRequest, patron_id: int) -> HttpResponse:
    """GET: the reason form alone (where the link in Koha's privacy panel leads; it reads nothing about the
    patron, so it is no access event). POST: the reveal, with its reason, logged; the page names the patron and
    offers to show the code again with the same reason (typed once per search; each showing is a reveal)."""
    actor = billing_actor(request, action=Action.IDENTITY_CODE_REVEAL, patron_id=patron_id)
    if request.method == "GET":
        return render(request, "billing/reveal_form.html", {"patron_id": patron_id})
    reason = request.POST.get("reason", "")
    try:
        revealed = identity_code_reveal_with_holder(actor=actor, patron_id=patron_id, reason=reason)
    except ValidationError as error:
        return _billing_page(request, {"reveal_error": " ".join(error.messages), "reveal_patron_id": patron_id}, 400)
    except IdentityCodeUnreadable as error:
        return _billing_page(request, {"reveal_error": error.message, "reveal_patron_id": patron_id}, 409)
    except NotFound:
        message = _("No identity code is stored for this patron.")
        return _billing_page(request, {"reveal_error": message, "reveal_patron_id": patron_id}, 404)
    except Refused as refused:
        return _billing_page(request, {"reveal_error": str(refused), "reveal_patron_id": patron_id}, refused.status)
    seconds = settings.SOTU_REVEAL_SECONDS
    countdown = f"{seconds // 60}:{seconds % 60:02d}"  # as reveal.js counts it down
    context = {"revealed": revealed, "reason": reason, "seconds": seconds, "countdown": countdown}
    return render(request, "billing/revealed.html", context)


@sensitive_post_parameters("identity_code")
@sensitive_variables("code")
@never_cache
@login_required
@require_POST
def identity_code_store_view(request: HttpRequest, patron_id: int) -> HttpResponse:
    """The desk's form on the patron page: the code goes in and never comes back out."""
    actor = identity_code_writer_actor(request, patron_id=patron_id)
    code = request.POST.get("identity_code", "")
    try:
        identity_code_store(actor=actor, patron_id=patron_id, code=code)
    except ValidationError as error:
        return render_patron_page(
            request, patron_data_actor(request), patron_id, status=400, identity_code_error=" ".join(error.messages)
        )
    except Refused as refused:
        return render_patron_page(
            request, patron_data_actor(request), patron_id, status=refused.status, identity_code_error=str(refused)
        )
    except IdentityCodeStoreRateLimited as limited:
        response = render_patron_page(
            request, patron_data_actor(request), patron_id, status=429, identity_code_error=limited.message
        )
        response["Retry-After"] = str(limited.retry_after)
        return response
    # The same message whether the code was stored or entered as a conflict for billing.
    messages.success(request, _("The identity code was stored. It cannot be shown here."))
    return redirect("patrons:detail", patron_id=patron_id)


def _conflicts_page(request: HttpRequest, actor: Actor, status: int = 200, **extra) -> HttpResponse:
    context = {"page": identity_code_conflict_list(actor=actor), "resolutions": ConflictResolution.choices, **extra}
    return render(request, "billing/conflicts.html", context, status=status)


@never_cache
@login_required
@require_GET
def billing_conflicts_view(request: HttpRequest) -> HttpResponse:
    """Codes entered for one patron while another holds them: billing decides whose code it is."""
    return _conflicts_page(request, billing_actor(request, action=Action.IDENTITY_CODE_CONFLICT))


@never_cache
@login_required
@require_POST
def billing_conflict_resolve_view(request: HttpRequest, conflict_id: int) -> HttpResponse:
    actor = billing_actor(request, action=Action.IDENTITY_CODE_CONFLICT)
    try:
        identity_code_conflict_resolve(
            actor=actor,
            conflict_id=conflict_id,
            resolution=request.POST.get("resolution", ""),
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as error:
        error_context = {"resolve_error": " ".join(error.messages), "error_conflict_id": conflict_id}
        return _conflicts_page(request, actor, 400, **error_context)
    except ConflictUnreadable as error:
        return _conflicts_page(request, actor, 409, resolve_error=error.message, error_conflict_id=conflict_id)
    messages.success(request, _("The conflict was resolved and the reason recorded."))
    return redirect("billing:conflicts")
