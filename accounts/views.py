"""Log-in (password, then the network), the second factor (enrolment and verification)."""

from base64 import b32encode
from typing import Any
from urllib.parse import urlsplit

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from accounts.forms import TwoFactorCodeForm
from accounts.landing import landing_url
from accounts.lockout import REFUSED_WHILE_LOCKED
from accounts.roles import is_privileged
from accounts.services.login import login_failure_record, login_success_record
from accounts.services.two_factor import (
    has_confirmed_device,
    two_factor_enrol,
    two_factor_enrolment_start,
    two_factor_lockout_record,
    two_factor_verify,
)
from accounts.sessions import login_notice_pop, session_end, session_limits_refresh
from audit.models import Action
from staff.actor import actor_from_request
from staff.client_ip import client_ip
from staff.ip_allowlist import Verdict, mark_reported, network_verdict, record_network_refusal

LOCKED_STATUS = 429


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return ngettext(
        "Log-in is locked after too many failed attempts. Try again in %(minutes)d minute, or ask your administrator.",
        "Log-in is locked after too many failed attempts. Try again in %(minutes)d minutes, or ask your administrator.",
        minutes,
    ) % {"minutes": minutes}


def login_notice(reason: str | None) -> str | None:
    """Why the last session ended, for the log-in page."""
    if reason == "idle_timeout":
        return _("You were logged out because the session was idle for too long. Log in again.")
    if reason == "two_factor_lockout":
        return lockout_message()
    return None


@method_decorator([sensitive_post_parameters("password"), never_cache], name="dispatch")
class LoginView(auth_views.LoginView):
    """Password first, then the user's networks; every attempt is an access event, refusals count towards
    the lockout (accounts/lockout.py).

    A correct password from a network the user may not work from gets exactly the answer a wrong
    password gets, and counts like one: otherwise the refusal would confirm the password to whoever
    tries stolen ones from outside (and not counting it would leak the same through the lockout).
    """

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_redirect_url(self, request=None):
        """Where to go after the log-in: the path of `next` only, never its query (it may hold a search)."""
        return _path_only(super().get_redirect_url(request))

    def get_default_redirect_url(self) -> str:
        """Without a `next`: the user's landing page (accounts.landing), never a page their role cannot open."""
        return landing_url(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.method == "GET":
            context["notice"] = login_notice(login_notice_pop(self.request))
        return context

    def form_valid(self, form):
        user = form.get_user()
        address = client_ip(self.request)
        verdict = network_verdict(user=user, address=address)
        if verdict is Verdict.DENY:
            record_network_refusal(request=self.request, user=user, action=Action.LOGIN, verdict=verdict)
            user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=self.request)
            form.add_error(None, form.get_invalid_login_error())
            return self.failure_response(form)
        response = super().form_valid(form)
        if verdict is Verdict.REPORT:
            record_network_refusal(request=self.request, user=user, action=Action.LOGIN, verdict=verdict)
            mark_reported(self.request, address)  # logged once here, not again on the next request
        else:
            login_success_record(request=self.request, user=user, two_factor_pending=is_privileged(user))
        return response

    def form_invalid(self, form):
        if getattr(self.request, REFUSED_WHILE_LOCKED, False):
            detail = "locked_out"
        elif form.has_error("username") or form.has_error("password"):
            detail = "incomplete"
        else:
            detail = "wrong_password"
        login_failure_record(request=self.request, typed_username=form.data.get("username"), detail=detail)
        return self.failure_response(form)

    def failure_response(self, form) -> HttpResponse:
        locked = getattr(self.request, "axes_locked_out", False)
        if locked and not getattr(self.request, REFUSED_WHILE_LOCKED, False):
            login_failure_record(request=self.request, typed_username=form.data.get("username"), detail="lockout")
        context = self.get_context_data(form=form, locked_out=lockout_message() if locked else None)
        return self.render_to_response(context, status=LOCKED_STATUS if locked else 200)


login_view = LoginView.as_view()


@never_cache
@login_required
def home_view(request: HttpRequest) -> HttpResponse:
    """`/`: the user's landing page (accounts.landing); a privileged user passes the second factor first."""
    return redirect(landing_url(request.user))


# --- The second factor -------------------------------------------------------------------------------


def _path_only(url: str) -> str:
    return urlsplit(url).path if url else url


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return _path_only(target) or reverse(settings.LOGIN_REDIRECT_URL)
    return reverse(settings.LOGIN_REDIRECT_URL)


def _with_next(view_name: str, next_url: str) -> str:
    return f"{reverse(view_name)}?{urlencode({'next': next_url})}"


def _passed(request: HttpRequest, device) -> None:
    """The session is verified from now on: a new session key, and the idle limit for the user's roles now."""
    otp_login(request, device)
    request.session.cycle_key()
    session_limits_refresh(request, request.user)


def _failed(request: HttpRequest, form: TwoFactorCodeForm, detail: str) -> HttpResponse | None:
    """A refused code: counted as a failed log-in; at the limit the session ends (a redirect to log in)."""
    if detail == "throttled":
        form.add_error(None, _("Too many wrong codes in a row. Wait a few seconds and try again."))
        return None
    form.add_error("code", _("The code is not correct. Check the time on your phone, or use a recovery code."))
    user = request.user
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
    if getattr(request, "axes_locked_out", False):
        two_factor_lockout_record(actor=actor_from_request(request))
        session_end(request, reason="two_factor_lockout")
        return redirect("login")
    return None


@sensitive_post_parameters("code")
@never_cache
@login_required
def two_factor_verify_view(request: HttpRequest) -> HttpResponse:
    user: Any = request.user  # django_otp's OTPMiddleware gave it is_verified()
    next_url = _next_url(request)
    if user.is_verified() or not is_privileged(user):
        return redirect(next_url)
    if not has_confirmed_device(user):
        return redirect(_with_next("two-factor-setup", next_url))
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, detail = two_factor_verify(actor=actor_from_request(request), user=user, code=form.cleaned_data["code"])
        if device is not None:
            _passed(request, device)
            if detail == "recovery_code_used":
                left = device.token_set.count()
                message = ngettext(
                    "You used a recovery code; %(count)d is left. If you have lost your phone, ask a superuser "
                    "to reset your two-factor authentication so that you can set up a new one.",
                    "You used a recovery code; %(count)d are left. If you have lost your phone, ask a superuser "
                    "to reset your two-factor authentication so that you can set up a new one.",
                    left,
                )
                messages.warning(request, message % {"count": left})
            return redirect(next_url)
        if (response := _failed(request, form, detail)) is not None:
            return response
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": next_url})


@sensitive_post_parameters("code")
@never_cache
@login_required
def two_factor_setup_view(request: HttpRequest) -> HttpResponse:
    user, next_url = request.user, _next_url(request)
    if not is_privileged(user):
        return redirect(next_url)
    if has_confirmed_device(user):
        return redirect(_with_next("two-factor", next_url))
    device = two_factor_enrolment_start(user=user)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes, detail = two_factor_enrol(actor=actor_from_request(request), user=user, code=form.cleaned_data["code"])
        if codes is not None:
            device.refresh_from_db()
            _passed(request, device)
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": next_url})
        if (response := _failed(request, form, detail)) is not None:
            return response
    secret = b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "next": next_url,
        "qr_code": segno.make(device.config_url, error="m").svg_data_uri(scale=4, border=4, light="#fff"),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    }
    return render(request, "accounts/two_factor_setup.html", context)
