"""The daily access review page for the DPO, /admin/dpo/access-review/ (admin look, ordinary view).

The reviewed day is `?day=YYYY-MM-DD`, yesterday by default. Reading the page is logged with the
patron ids it lists (dpo.review).
"""

import datetime

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.dates import today
from dpo.forms import AccessReviewDayForm
from dpo.review import FindingKind, access_review_read, default_review_day
from staff.access import access_review_actor


@never_cache
@login_required
@require_GET
def access_review_view(request: HttpRequest) -> HttpResponse:
    actor = access_review_actor(request)
    form = AccessReviewDayForm(request.GET)
    context = {**admin.site.each_context(request), "title": _("Access review"), "form": form}
    if not form.is_valid():
        return render(request, "dpo/access_review.html", context, status=400)
    day = form.cleaned_data["day"] or default_review_day()
    try:
        review = access_review_read(actor=actor, day=day)
    except ValidationError as error:
        form.add_error("day", error)
        return render(request, "dpo/access_review.html", context, status=400)
    next_day = day + datetime.timedelta(days=1)
    context |= {
        "form": AccessReviewDayForm(initial={"day": day}),
        "review": review,
        "findings": [f for f in review.findings if f.kind != FindingKind.OWN_RECORD],
        "own_records": [f for f in review.findings if f.kind == FindingKind.OWN_RECORD],
        "previous_day": day - datetime.timedelta(days=1),
        "next_day": next_day if next_day <= today() else None,
    }
    return render(request, "dpo/access_review.html", context)
