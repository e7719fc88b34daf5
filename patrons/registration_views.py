"""Staff pages: registering a new patron, and recording a PIN given by phone on the patron's page.

Thin like patrons.views: a broken rule is shown next to the form (status 400) and nothing is written.
While a closure period freezes registration the page says so before anyone fills in the form, and
shows no form.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from patrons.closures import registration_freeze, registration_frozen_message
from patrons.registration_forms import PatronRegistrationForm, PinByPhoneForm
from patrons.services.closures import pin_by_phone_record
from patrons.services.registration import patron_register
from patrons.views import render_patron_page, run_service
from staff.access import patron_data_actor
from staff.selectors import jurisdiction_of, staff_profile_of


@never_cache
@sensitive_post_parameters()
@login_required
@require_http_methods(["GET", "POST"])
def patron_register_view(request: HttpRequest) -> HttpResponse:
    actor = patron_data_actor(request)
    profile = staff_profile_of(request.user)
    form = PatronRegistrationForm(
        request.POST or None,
        consortium_id=actor.consortium_id,
        jurisdiction=jurisdiction_of(actor.consortium_id),
        home_library=profile.home_library if profile else None,
    )
    freeze = registration_freeze(consortium_id=actor.consortium_id)
    if request.method == "POST" and freeze is None and form.is_valid():
        patron = run_service(form, patron_register, actor=actor, **form.service_arguments())
        if patron is not None:
            messages.success(request, _("The patron was registered."))
            return redirect("patrons:detail", patron_id=patron.pk)
        freeze = registration_freeze(consortium_id=actor.consortium_id)  # a freeze may have begun meanwhile
    context = {
        "form": None if freeze else form,
        "frozen_message": registration_frozen_message(freeze) if freeze else "",
    }
    return render(request, "patrons/register.html", context, status=400 if request.method == "POST" else 200)


@never_cache
@login_required
@require_POST
def pin_by_phone_view(request: HttpRequest, patron_id: int) -> HttpResponse:
    actor = patron_data_actor(request)
    form = PinByPhoneForm(request.POST)
    if form.is_valid() and run_service(
        form, pin_by_phone_record, actor=actor, patron_id=patron_id, **form.cleaned_data
    ):
        messages.success(request, _("The PIN given by phone was recorded in the patron's notes."))
        return redirect("patrons:detail", patron_id=patron_id)
    return render_patron_page(request, actor, patron_id, status=400, pin_by_phone_form=form)
