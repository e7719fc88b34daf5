"""`manage.py consortium_create`: the operator sets up a consortium no superuser may set up in the admin."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from staff.models import Consortium, Municipality
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ARGUMENTS = {
    "name": "Kainuun kirjastot",
    "slug": "kainuun-kirjastot",
    "jurisdiction": "FI",
    "municipality": "Kajaani",
    "network": ["10.60.0.0/16"],
    "library": "KAJ",
    "library_name": "Kajaanin kaupunginkirjasto",
}


def test_the_new_consortiums_administrator_administers_it_and_nobody_elses():
    get_user_model().objects.create_superuser("kajaani.admin", password="kirjasto-demo-2026")
    call_command("consortium_create", **ARGUMENTS, administrator="kajaani.admin")
    kajaani = Municipality.objects.get(name="Kajaani")
    administrator = client_for("kajaani.admin", address="10.60.4.4")
    listed = administrator.get("/admin/staff/municipality/").context["cl"].queryset
    assert list(listed) == [kajaani]
    assert administrator.get("/admin/staff/municipality/").status_code == 200
    # Lapland's superuser does not see it.
    assert kajaani not in client_for("admin").get("/admin/staff/municipality/").context["cl"].queryset


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"administrator": "mikkeli.staff"}, "already works in a consortium"),
        ({"administrator": "nobody"}, "No user account"),
        ({"network": ["10.60.0.1/16"]}, "is not a valid network"),
        ({"network": []}, "at least one network"),
        ({"library": "ROV"}, "Koha library id"),
    ],
)
def test_a_refused_setup_writes_nothing(change, message, settings):
    settings.LANGUAGE_CODE = "en"
    get_user_model().objects.create_user("kajaani.admin", password="kirjasto-demo-2026")
    with pytest.raises(CommandError, match=message):
        call_command("consortium_create", **{**ARGUMENTS, "administrator": "kajaani.admin", **change})
    assert not Consortium.objects.filter(slug="kainuun-kirjastot").exists()
