"""The admin opens by the staff pages' check: a staff profile and a signed confidentiality agreement."""

import pytest
from django.contrib.auth import get_user_model

from audit.models import AccessEvent, Outcome
from staff.models import StaffProfile
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def last_denial() -> AccessEvent | None:
    return AccessEvent.objects.filter(outcome=Outcome.DENIED).order_by("-id").first()


def test_a_dpo_whose_agreement_is_unsigned_gets_no_admin_page():
    assert client_for("dpo").get("/admin/").status_code == 200
    StaffProfile.objects.filter(user__username="dpo").update(confidentiality_signed_on=None)
    dpo = client_for("dpo")
    for path in ("/admin/", "/admin/staff/staffprofile/", "/admin/audit/accessevent/"):
        response = dpo.get(path)
        assert response.status_code == 403, path
        assert "errors/confidentiality.html" in [template.name for template in response.templates]
        assert (last_denial().actor_username, last_denial().detail) == ("dpo", "confidentiality_not_signed")


def test_an_account_that_is_not_staff_is_still_sent_to_the_log_in():
    assert client_for("rovaniemi.staff").get("/admin/").status_code == 302


def test_a_superuser_records_agreements_their_own_included():
    """A new consortium's administrator is placed unsigned (manage.py consortium_create) and must get in."""
    StaffProfile.objects.filter(user__username="admin").update(confidentiality_signed_on=None)
    assert get_user_model().objects.get(username="admin").is_superuser
    assert client_for("admin").get("/admin/staff/staffprofile/").status_code == 200
