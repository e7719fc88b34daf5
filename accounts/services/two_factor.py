"""Two-factor authentication with django-otp: an authenticator app (TOTP, RFC 6238) and recovery codes.

Billing clerks, data protection officers and superusers (accounts/roles.py) enrol once: the service
makes an unconfirmed TOTP device, the user scans its QR code and confirms it with a first code, and gets
RECOVERY_CODE_COUNT single-use recovery codes, shown once. A lost device is reset by a superuser (never
by the user themself), after which the user enrols again.

Guessing codes is bounded twice: django-otp's own throttle makes each device wait 2^(n-1) seconds after
n successive failures, and every wrong code counts as a failed log-in in django-axes, so
settings.AXES_FAILURE_LIMIT failures (passwords and codes together) lock the account for the cool-off
and end the session. The waits keep doubling until a right code, so a guesser who has the password gets
about 17 codes in a day (2^16 s is most of one) and fewer after, against three valid codes in a million
(one step of clock difference either way): about one chance in 20,000 a day. NIST SP 800-63B 5.2.2
asks for no more than 100 consecutive failed attempts on one account.

Every step is an access event (Action.TWO_FACTOR): `enrolled`, `verified`, `recovery_code_used`,
`wrong_code`, `throttled`, `lockout`, and `reset:user=<id>` by a superuser (refusals: `reset_refused:…`).
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp import verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.actor import Actor
from audit.models import Action, Outcome
from audit.services import access_event_record
from core.errors import RuleBroken

TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery"
RECOVERY_CODE_COUNT = 10
TOTP_DIGITS = 6


def has_confirmed_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_enrolment_start(*, user) -> TOTPDevice:
    """The user's device waiting for confirmation: the same one until confirmed, so a reload keeps the QR code.

    Only for a user without a confirmed device: a new device never replaces one without a reset.
    """
    if has_confirmed_device(user):
        raise RuleBroken("two_factor_already_enrolled", _("Two-factor authentication is already set up."))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


def two_factor_enrol(*, actor: Actor, user, code: str) -> tuple[list[str] | None, str]:
    """Confirm the waiting device with its first code.

    Returns the new recovery codes (None when refused) and the event's detail: `enrolled`, `wrong_code`
    or `throttled`.
    """
    with transaction.atomic():
        device = two_factor_enrolment_start(user=user)
        if not device.verify_is_allowed()[0]:
            detail = "throttled"
        elif not device.verify_token(normalized_code(code)):
            detail = "wrong_code"
        else:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = recovery_codes_replace(user=user)
            access_event_record(actor=actor, action=Action.TWO_FACTOR, detail="enrolled")
            return codes, "enrolled"
    access_event_record(actor=actor, action=Action.TWO_FACTOR, outcome=Outcome.DENIED, detail=detail)
    return None, detail


def recovery_codes_replace(*, user) -> list[str]:
    """New single-use recovery codes for the user; any earlier ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def normalized_code(code: str) -> str:
    """What the user typed, without the spaces and dashes people add, in lower case (recovery codes)."""
    return "".join(code.split()).replace("-", "").lower()


def two_factor_verify(*, actor: Actor, user, code: str) -> tuple[Device | None, str]:
    """Check a code: six digits against the authenticator, anything else as a recovery code.

    Returns the device that accepted it (None when refused) and the event's detail: `verified`,
    `recovery_code_used`, `wrong_code` or `throttled` (the device is still waiting out earlier failures).
    """
    code = normalized_code(code)
    is_totp = code.isdigit() and len(code) == TOTP_DIGITS
    model = TOTPDevice if is_totp else StaticDevice
    device = model.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is not None and not device.verify_is_allowed()[0]:
        detail, accepted = "throttled", None
    else:
        accepted = verify_token(user, device.persistent_id, code) if device is not None else None
        success = "verified" if is_totp else "recovery_code_used"
        detail = success if accepted is not None else "wrong_code"
    access_event_record(
        actor=actor,
        action=Action.TWO_FACTOR,
        outcome=Outcome.ALLOWED if accepted is not None else Outcome.DENIED,
        detail=detail,
    )
    return accepted, detail


def two_factor_lockout_record(*, actor: Actor) -> None:
    access_event_record(actor=actor, action=Action.TWO_FACTOR, outcome=Outcome.DENIED, detail="lockout")


def two_factor_reset(*, actor: Actor, user) -> None:
    """Remove the user's authenticator and recovery codes (a lost phone); they enrol again at the next log-in.

    Only a superuser may, and never for themself: whoever could reset their own second factor would not
    need it.
    """
    assert actor.user_id is not None  # a reset is made by a logged-in user
    acting_user = get_user_model().objects.get(pk=actor.user_id)
    refusal = None
    if not acting_user.is_superuser:
        refusal = "not_superuser", _("Only a superuser may reset two-factor authentication.")
    elif acting_user.pk == user.pk:
        refusal = "own", _("Nobody may reset their own two-factor authentication; ask another superuser.")
    if refusal is not None:
        access_event_record(
            actor=actor,
            action=Action.TWO_FACTOR,
            outcome=Outcome.DENIED,
            detail=f"reset_refused:{refusal[0]}:user={user.pk}",
        )
        raise RuleBroken(f"two_factor_reset_{refusal[0]}", refusal[1])
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        access_event_record(actor=actor, action=Action.TWO_FACTOR, detail=f"reset:user={user.pk}")
