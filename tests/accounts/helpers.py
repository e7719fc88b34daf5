"""Helpers for the log-in tests: codes from the demo authenticators, patrons with a stored code."""

import datetime
from typing import cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.forms import BooleanField, MultiWidget
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo.totp_secrets import demo_totp_key
from sotu_silo.models import IdentityCode
from staff.models import Library, StaffProfile

PASSWORD = "kirjasto-demo-2026"


def demo_code(username: str) -> str:
    """The current code of a demo user's authenticator (the README's one-liner does the same)."""
    return f"{totp(demo_totp_key(username)):06d}"


def device_code(user) -> str:
    device = TOTPDevice.objects.filter(user=user).order_by("-pk").first()
    return f"{totp(device.bin_key):06d}"


def patron_with_code() -> int:
    """A Lapland patron who has an identity code in the silo."""
    lapland = Library.objects.get(koha_library_id="ROV").municipality.consortium_id
    codes = IdentityCode.objects.filter(consortium_id=lapland).order_by("patron_id")
    return codes.values_list("patron_id", flat=True)[0]


def new_staff_user(username: str, *groups: str, is_superuser: bool = False):
    """A Rovaniemi staff member with a signed agreement and no second factor yet."""
    user = get_user_model().objects.create_user(
        username, password=PASSWORD, is_staff=is_superuser, is_superuser=is_superuser
    )
    user.groups.set(Group.objects.filter(name__in=groups))
    StaffProfile.objects.create(
        user=user,
        home_library=Library.objects.get(koha_library_id="ROV"),
        confidentiality_signed_on=datetime.date(2026, 1, 15),
    )
    return user


def admin_form_data(response, **changes) -> dict:
    """The POST an admin change form would send unchanged, with `changes` (field name -> value) applied."""
    form = response.context["adminform"].form
    values = {name: form[name].value() for name in form.fields}
    values.update(changes)
    data: dict[str, str | list[str]] = {}
    for name, field in form.fields.items():
        value = values[name]
        if field.disabled:
            continue
        if isinstance(field.widget, MultiWidget):
            parts = cast(list, field.widget.decompress(value)) if not isinstance(value, list) else value
            data.update({f"{name}_{i}": "" if part is None else str(part) for i, part in enumerate(parts)})
        elif isinstance(field, BooleanField):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple | set):
            data[name] = [str(getattr(item, "pk", item)) for item in value]
        elif value is not None:
            data[name] = str(value)
    data["_save"] = "Save"
    return data
