"""The DPO's read-only lists of what koha_sync recorded: the runs and the patrons gone from Koha."""

import pytest
from django.conf import settings
from django.utils import timezone

from koha.models import KohaDeparture, SyncRun, SyncStatus
from patrons.models import Patron
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def departures(lapland_patron, mikkeli_patron, eslov_patron):
    now = timezone.now()
    return {
        "marked": KohaDeparture.objects.create(patron=lapland_patron, noticed_at=now),
        "flagged": KohaDeparture.objects.create(patron=eslov_patron, noticed_at=now, open_matters=["ban"]),
        "mikkeli": KohaDeparture.objects.create(patron=mikkeli_patron, noticed_at=now, open_matters=[]),
    }


def dpo_client():
    client = client_for("dpo")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def listed(response) -> set[int]:
    return set(response.context["cl"].queryset.values_list("pk", flat=True))


def test_the_dpo_lists_their_consortiums_departures_only_by_patron_id(departures, lapland_patron):
    response = dpo_client().get("/admin/koha/kohadeparture/")
    assert response.status_code == 200
    assert listed(response) == {departures["marked"].pk}
    page = response.content.decode()
    assert f'href="/patrons/{lapland_patron.pk}/"' in page
    assert lapland_patron.last_name not in page
    assert "Marked removed: waiting for an erasure" in page


def test_flagged_and_marked_are_told_apart(departures, lapland_patron):
    other = Patron.objects.filter(consortium=lapland_patron.consortium).exclude(pk=lapland_patron.pk).first()
    flagged = KohaDeparture.objects.create(patron=other, noticed_at=timezone.now(), open_matters=["subject_request"])
    dpo = dpo_client()
    assert listed(dpo.get("/admin/koha/kohadeparture/?flagged=yes")) == {flagged.pk}
    assert listed(dpo.get("/admin/koha/kohadeparture/?flagged=no")) == {departures["marked"].pk}
    page = dpo.get(f"/admin/koha/kohadeparture/{flagged.pk}/change/").content.decode()
    assert "an unanswered data-subject request" in page


def test_another_consortiums_departure_and_run_do_not_open(departures, mikkeli_patron):
    run = SyncRun.objects.create(consortium=mikkeli_patron.consortium, kind="full", started_at=timezone.now())
    dpo = dpo_client()
    for path in (
        f"/admin/koha/kohadeparture/{departures['mikkeli'].pk}/change/",
        f"/admin/koha/syncrun/{run.pk}/change/",
    ):
        assert dpo.get(path).status_code in (302, 404)
    assert run.pk not in listed(dpo.get("/admin/koha/syncrun/"))


def test_staff_see_neither_list(departures):
    staff = client_for("rovaniemi.staff")
    assert staff.get("/admin/koha/kohadeparture/").status_code in (302, 403)
    assert staff.get("/admin/koha/syncrun/").status_code in (302, 403)


def test_a_run_shows_its_counts_and_refused_ids_read_only(lapland_patron):
    run = SyncRun.objects.create(
        consortium=lapland_patron.consortium,
        kind="incremental",
        status=SyncStatus.FAILED,
        started_at=timezone.now(),
        pages_done=3,
        counts={"created": 5, "refused": 2, "updated": 0},
        refused_ids=[907, 31],
        pending_guardians=[[12, "99000000000077", "mother"]],
        error_code="koha_unreachable",
    )
    dpo = dpo_client()
    listing = dpo.get("/admin/koha/syncrun/").content.decode()
    assert "created 5, refused 2" in listing
    page = dpo.get(f"/admin/koha/syncrun/{run.pk}/change/")
    content = page.content.decode()
    assert "31, 907" in content and "koha_unreachable" in content
    assert "99000000000077" not in content  # a guarantor's card number is not shown
    assert dpo.post(f"/admin/koha/syncrun/{run.pk}/change/", {"kind": "full"}).status_code == 403
    assert dpo.post(f"/admin/koha/syncrun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert SyncRun.objects.filter(pk=run.pk, kind="incremental").exists()
