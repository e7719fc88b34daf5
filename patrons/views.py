"""Staff pages: patron search and patron detail. Thin: actor from patrons.access, data from selectors."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from patrons.access import patron_data_actor
from patrons.selectors import patron_get_for_staff, patron_search_box
from sotu_silo.services import identity_code_exists


@never_cache
@login_required
@require_GET
def patron_search_view(request: HttpRequest) -> HttpResponse:
    search = patron_search_box(
        actor=patron_data_actor(request), text=request.GET.get("q", ""), page_number=request.GET.get("page", 1)
    )
    template = "patrons/search.html#results" if request.headers.get("HX-Request") else "patrons/search.html"
    return render(request, template, {"query": search.query, "page": search.page, "code_typed": search.code_typed})


@never_cache
@login_required
@require_GET
def patron_detail_view(request: HttpRequest, patron_id: int) -> HttpResponse:
    patron = patron_get_for_staff(actor=patron_data_actor(request), patron_id=patron_id)
    context = {"patron": patron, "identity_code_stored": identity_code_exists(patron_id=patron.pk)}
    return render(request, "patrons/detail.html", context)
