"""Tenancy scoping in one place: a consortium's rows, and another consortium's object is not found."""

import pytest

from audit.actor import Actor
from core.errors import NotFound
from patrons.models import Note, Patron
from staff.models import Library, StaffProfile
from staff.scoping import object_of_consortium_or_404

pytestmark = pytest.mark.django_db


def actor_of(consortium_id: int | None) -> Actor:
    return Actor(user_id=None, username="x", municipality_id=None, consortium_id=consortium_id, client_ip=None)


def test_a_consortium_sees_its_own_rows_only(lapland_patron, mikkeli_patron):
    lapland = actor_of(lapland_patron.consortium_id)
    visible = Patron.objects.visible_to(lapland)
    assert lapland_patron in visible and mikkeli_patron not in visible
    assert set(visible) == set(Patron.objects.filter(consortium_id=lapland_patron.consortium_id))
    libraries = Library.objects.visible_to(lapland)
    assert set(libraries) == set(Library.objects.filter(municipality__consortium_id=lapland_patron.consortium_id))
    staff = StaffProfile.objects.of_consortium(mikkeli_patron.consortium_id)
    assert {profile.user.username for profile in staff} >= {"mikkeli.staff"}
    assert not staff.filter(user__username="rovaniemi.staff").exists()


def test_another_consortiums_object_is_not_found(lapland_patron, mikkeli_patron):
    lapland = actor_of(lapland_patron.consortium_id)
    assert object_of_consortium_or_404(Patron.objects.all(), actor=lapland, pk=lapland_patron.pk) == lapland_patron
    with pytest.raises(NotFound):
        object_of_consortium_or_404(Patron.objects.all(), actor=lapland, pk=mikkeli_patron.pk)
    with pytest.raises(NotFound):
        object_of_consortium_or_404(Patron.objects.all(), actor=lapland, pk=0)


def test_an_actor_without_a_consortium_sees_nothing(lapland_patron):
    assert not Patron.objects.visible_to(actor_of(None)).exists()
    assert not Note.objects.visible_to(actor_of(None)).exists()
