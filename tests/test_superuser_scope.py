"""A superuser administers their own consortium only, like the DPO (issue 10).

The attack: `admin` (a superuser whose home library is in Rovaniemi, Lapin kirjastot) lists and opens
Mikkeli's and Eslöv's networks, staff, requests, breaches, events... in the admin. Each admin
changelist must not list another consortium's object, and its change, history and delete pages must
not open it; the superuser's own consortium's object is listed and opens (so the test can fail).
"""

import datetime
import ipaddress

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from audit.actor import Actor
from audit.models import Action
from audit.services import access_event_record
from dpo.models import Breach, Register, RegisterDescription, SubjectRequest
from koha.models import KohaConnection, KohaDeparture, SyncRun
from patrons.models import ClosurePeriod, Patron
from staff.models import AllowedNetwork, Consortium, Library, MachineKey, Municipality, StaffProfile
from tests.conftest import client_for
from tests.koha.connected import push_record, restriction_row

pytestmark = pytest.mark.django_db

CONSORTIA = {"own": "lapin-kirjastot", "mikkeli": "mikkelin-seutukirjasto", "eslov": "eslovs-bibliotek"}
HOME_MUNICIPALITY = {"own": "Rovaniemi", "mikkeli": "Mikkeli", "eslov": "Eslöv"}
STAFF = {"own": "rovaniemi.staff", "mikkeli": "mikkeli.staff", "eslov": "eslov.staff"}


def objects_of(which: str) -> dict[str, int]:
    """One object per admin model, of the consortium `which`: admin URL prefix -> primary key."""
    consortium = Consortium.objects.get(slug=CONSORTIA[which])
    municipality = Municipality.objects.get(name=HOME_MUNICIPALITY[which])
    staff = StaffProfile.objects.select_related("user").get(user__username=STAFF[which])
    patron = Patron.objects.filter(consortium=consortium).order_by("id").first()
    event = access_event_record(
        actor=Actor(
            user_id=staff.user_id,
            username=staff.user.username,
            municipality_id=municipality.pk,
            consortium_id=consortium.pk,
            client_ip=ipaddress.ip_address("127.0.0.1"),
        ),
        action=Action.PATRON_VIEW,
        patron_ids=[patron.pk],
    )
    today = timezone.localdate()
    request = SubjectRequest.objects.create(
        consortium=consortium,
        patron_id=patron.pk,
        kind="access",
        received_on=today,
        identity_document="passport",
        identity_verified_by="dpo",
        identity_verified_on=today,
        due_on=today + datetime.timedelta(days=30),
        recorded_at=timezone.now(),
        recorded_by="dpo",
    )
    breach = Breach.objects.create(
        consortium=consortium,
        aware_at=timezone.now(),
        description="Overdue notices sent to the wrong addresses.",
        authority_deadline=timezone.now() + datetime.timedelta(hours=72),
        recorded_at=timezone.now(),
        recorded_by="dpo",
    )
    description, _created = RegisterDescription.objects.get_or_create(
        consortium=consortium, register=Register.LIBRARY_SYSTEM
    )
    closure = ClosurePeriod.objects.create(
        consortium=consortium, starts_on=datetime.date(2020, 3, 18), ends_on=datetime.date(2020, 5, 31)
    )
    koha, _created = KohaConnection.objects.get_or_create(
        consortium=consortium,
        defaults={"base_url": f"https://koha.{consortium.slug}.example", "client_id": "privacy-service"},
    )
    return {
        "koha/kohaconnection": koha.pk,
        "koha/syncrun": SyncRun.objects.create(consortium=consortium, kind="full", started_at=timezone.now()).pk,
        "koha/kohadeparture": KohaDeparture.objects.get_or_create(
            patron=patron, defaults={"noticed_at": timezone.now()}
        )[0].pk,
        "koha/koharestriction": restriction_row(consortium, patron).pk,
        "koha/koharestrictionpush": push_record(consortium).pk,
        "staff/consortium": consortium.pk,
        "staff/municipality": municipality.pk,
        "staff/allowednetwork": AllowedNetwork.objects.filter(municipality=municipality).first().pk,
        "staff/library": Library.objects.filter(municipality=municipality).first().pk,
        "staff/staffprofile": staff.pk,
        "patrons/closureperiod": closure.pk,
        "auth/user": staff.user_id,
        "audit/accessevent": event.pk,
        "dpo/subjectrequest": request.pk,
        "dpo/breach": breach.pk,
        "dpo/registerdescription": description.pk,
        "staff/machinekey": MachineKey.objects.create_key(name="koha", consortium=consortium, networks="127.0.0.0/8")[
            0
        ].pk,
    }


def listed(changelist, pk: int) -> bool:
    """Whether the changelist lists the object, on any of its pages."""
    return changelist.context["cl"].queryset.filter(pk=pk).exists()


@pytest.fixture
def superuser():
    return client_for("admin")


@pytest.mark.parametrize("other", ["mikkeli", "eslov"])
def test_a_superuser_neither_lists_nor_opens_another_consortiums_objects(superuser, other):
    own, theirs = objects_of("own"), objects_of(other)
    failures = []
    for model in own:
        changelist = superuser.get(f"/admin/{model}/")
        assert changelist.status_code == 200, model
        if not listed(changelist, own[model]):
            failures.append(f"{model}: the own consortium's object is not listed")
        if listed(changelist, theirs[model]):
            failures.append(f"{model}: {other}'s object is listed")
        assert superuser.get(f"/admin/{model}/{own[model]}/change/").status_code == 200, model
        for view in ("change", "history", "delete"):
            response = superuser.get(f"/admin/{model}/{theirs[model]}/{view}/")
            # The admin answers a missing object by going back to its index (302), or 404/403.
            if response.status_code == 200:
                failures.append(f"{model}: {other}'s object opens ({view})")
    assert not failures, "\n".join(failures)


def test_a_superuser_cannot_reach_another_consortiums_breach_steps_or_request_pages(superuser):
    theirs = objects_of("mikkeli")
    breach, request = theirs["dpo/breach"], theirs["dpo/subjectrequest"]
    for path in (
        f"/admin/dpo/breach/{breach}/affected-contacts/",
        f"/admin/dpo/breach/{breach}/update/",
        f"/admin/dpo/requests/{request}/report/",
        f"/admin/dpo/requests/{request}/erase/",
    ):
        assert superuser.get(path).status_code == 404, path


def test_the_superusers_dashboard_counts_only_their_own_consortium(superuser):
    Breach.objects.create(
        consortium=Consortium.objects.get(slug="mikkelin-seutukirjasto"),
        aware_at=timezone.now(),
        description="Mikkeli's own breach.",
        authority_deadline=timezone.now() + datetime.timedelta(hours=71),
        recorded_at=timezone.now(),
        recorded_by="dpo",
    )
    breach = Breach.objects.latest("id")
    assert f"/admin/dpo/breach/{breach.pk}/change/" not in superuser.get("/admin/").content.decode()


def test_a_superuser_cannot_place_staff_or_networks_in_another_consortium(superuser):
    mikkeli = Municipality.objects.get(name="Mikkeli")
    user = get_user_model().objects.create_user("new.colleague", password="kirjasto-demo-2026")
    response = superuser.post(
        "/admin/staff/staffprofile/add/",
        {"user": user.pk, "home_library": Library.objects.filter(municipality=mikkeli).first().pk},
    )
    assert response.status_code == 200 and not StaffProfile.objects.filter(user=user).exists()
    response = superuser.post("/admin/staff/allowednetwork/add/", {"municipality": mikkeli.pk, "cidr": "10.77.0.0/16"})
    assert response.status_code == 200 and not AllowedNetwork.objects.filter(cidr="10.77.0.0/16").exists()
    response = superuser.post(
        "/admin/patrons/closureperiod/add/",
        {"consortium": mikkeli.consortium_id, "starts_on": "2020-03-18", "ends_on": "2020-05-31"},
    )
    assert response.status_code == 200 and not ClosurePeriod.objects.filter(consortium=mikkeli.consortium).exists()
    # Their own consortium: the same forms work (the refusals above are about the consortium).
    rovaniemi = Library.objects.get(koha_library_id="ROV")
    assert (
        superuser.post("/admin/staff/staffprofile/add/", {"user": user.pk, "home_library": rovaniemi.pk}).status_code
        == 302
    )
