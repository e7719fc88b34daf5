"""seed_demo's part: the demo's billing clerk, DPO and superuser get the authenticators of demo/totp_secrets.py."""

from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services.two_factor import TOTP_DEVICE_NAME
from demo.totp_secrets import DEMO_TOTP_SECRETS, demo_totp_key


def seed_demo_two_factor() -> int:
    """Each of those users gets exactly one confirmed authenticator with the known secret; how many changed.

    Idempotent; after a reset and a new enrolment in the demo, running seed_demo again restores the known one.
    """
    changed = 0
    for user in get_user_model().objects.filter(username__in=DEMO_TOTP_SECRETS):
        key = demo_totp_key(user.username).hex()
        devices = TOTPDevice.objects.filter(user=user)
        if [(device.key, device.confirmed) for device in devices] == [(key, True)]:
            continue
        devices.delete()
        TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, key=key, confirmed=True)
        changed += 1
    return changed
