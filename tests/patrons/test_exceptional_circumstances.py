"""Exceptional circumstances (Lapland 2020): closure periods, a PIN given by phone, expired cards extended."""

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from django.utils.translation import ngettext

from audit.models import AccessEvent
from patrons.closures import closure_in_force, closures_for_card_extension, pin_by_phone_closure, registration_freeze
from patrons.models import ClosurePeriod, Note, Patron, PatronStatus
from staff.models import Consortium
from tests.conftest import client_for
from tests.factories import ConsortiumFactory, LibraryFactory, MunicipalityFactory, PatronFactory

pytestmark = pytest.mark.django_db

LAPLAND = "lapin-kirjastot"


def today() -> datetime.date:
    return timezone.localdate()


def lapland_closure(*, days_before: int = 10, days_after: int = 20, **flags) -> ClosurePeriod:
    return ClosurePeriod.objects.create(
        consortium=Consortium.objects.get(slug=LAPLAND),
        starts_on=today() - datetime.timedelta(days=days_before),
        ends_on=today() + datetime.timedelta(days=days_after),
        **flags,
    )


# --- Which closure is in force ---------------------------------------------------------------------------


def test_closure_in_force_counts_the_first_and_last_day_and_only_its_consortium():
    lapland = Consortium.objects.get(slug=LAPLAND)
    mikkeli = Consortium.objects.get(slug="mikkelin-seutukirjasto")
    period = ClosurePeriod.objects.create(
        consortium=lapland,
        starts_on=datetime.date(2020, 3, 18),
        ends_on=datetime.date(2020, 5, 31),
        registration_frozen=True,
        pin_by_phone_allowed=False,
    )
    assert closure_in_force(consortium_id=lapland.pk, day=datetime.date(2020, 3, 17)) is None
    assert closure_in_force(consortium_id=lapland.pk, day=datetime.date(2020, 3, 18)) == period
    assert closure_in_force(consortium_id=lapland.pk, day=datetime.date(2020, 5, 31)) == period
    assert closure_in_force(consortium_id=lapland.pk, day=datetime.date(2020, 6, 1)) is None
    assert closure_in_force(consortium_id=mikkeli.pk, day=datetime.date(2020, 4, 1)) is None
    assert registration_freeze(consortium_id=lapland.pk, day=datetime.date(2020, 4, 1)) == period
    assert pin_by_phone_closure(consortium_id=lapland.pk, day=datetime.date(2020, 4, 1)) is None


def test_overlapping_closures_the_longest_lasting_one_answers():
    lapland = Consortium.objects.get(slug=LAPLAND)
    ClosurePeriod.objects.create(
        consortium=lapland, starts_on=datetime.date(2020, 3, 18), ends_on=datetime.date(2020, 4, 30)
    )
    longer = ClosurePeriod.objects.create(
        consortium=lapland, starts_on=datetime.date(2020, 4, 1), ends_on=datetime.date(2020, 5, 31)
    )
    assert closure_in_force(consortium_id=lapland.pk, day=datetime.date(2020, 4, 15)) == longer


# --- A PIN given by phone --------------------------------------------------------------------------------


@pytest.fixture
def staff():
    return client_for("rovaniemi.staff")


def give_pin(client, patron_id, **body):
    return client.post(f"/api/v1/patrons/{patron_id}/pin-by-phone/", body, content_type="application/json")


def test_pin_by_phone_is_refused_outside_a_closure(staff, lapland_patron):
    lapland_closure(days_before=60, days_after=-30)  # ended a month ago
    response = give_pin(staff, lapland_patron.pk, verification="callback")
    assert response.status_code == 400, response.content
    assert response.json()["rule"] == "pin_by_phone_not_allowed"
    assert not Note.objects.filter(patron=lapland_patron, category="pin_by_phone").exists()


def test_pin_by_phone_is_refused_during_a_closure_that_does_not_allow_it(staff, lapland_patron):
    lapland_closure(pin_by_phone_allowed=False)
    response = give_pin(staff, lapland_patron.pk, verification="callback")
    assert response.status_code == 400 and response.json()["rule"] == "pin_by_phone_not_allowed"


@pytest.mark.parametrize(("verification", "rule"), [("", "verification_required"), ("guessed", "verification_unknown")])
def test_pin_by_phone_needs_to_say_how_the_caller_was_verified(staff, lapland_patron, verification, rule):
    lapland_closure()
    response = give_pin(staff, lapland_patron.pk, verification=verification)
    assert response.status_code == 400 and response.json()["rule"] == rule
    assert give_pin(staff, lapland_patron.pk).json()["rule"] == "verification_required"
    assert not Note.objects.filter(patron=lapland_patron, category="pin_by_phone").exists()


def test_pin_by_phone_during_a_closure_becomes_a_note_in_the_patrons_messages(staff, lapland_patron):
    lapland_closure()
    before = AccessEvent.objects.filter(action="patron_update").count()
    response = give_pin(
        staff, lapland_patron.pk, verification="card_and_birth_date", details="Asked for the PIN for e-books."
    )
    assert response.status_code == 201, response.content
    note = response.json()
    assert note["category"] == "pin_by_phone" and note["created_by"] == "rovaniemi.staff"
    assert note["text"].endswith("Asked for the PIN for e-books.")
    listed = staff.get(f"/api/v1/patrons/{lapland_patron.pk}/notes/").json()
    entry = next(n for n in listed if n["id"] == note["id"])
    assert entry["category"] == "pin_by_phone" and entry["sensitive"] is False
    assert entry["text"] == note["text"]
    assert AccessEvent.objects.filter(action="patron_update").count() == before + 1


def test_pin_by_phone_for_another_consortiums_patron_is_not_found(mikkeli_patron):
    lapland_closure()
    assert give_pin(client_for("rovaniemi.staff"), mikkeli_patron.pk, verification="callback").status_code == 404


def test_the_patron_page_offers_the_pin_form_only_while_allowed(staff, lapland_patron):
    url = f"/patrons/{lapland_patron.pk}/"
    assert 'id="pin-by-phone"' not in staff.get(url).content.decode()
    lapland_closure()
    assert 'id="pin-by-phone"' in staff.get(url).content.decode()

    refused = staff.post(f"/patrons/{lapland_patron.pk}/pin-by-phone/", {"verification": "", "details": ""})
    assert refused.status_code == 400 and 'role="alert"' in refused.content.decode()
    done = staff.post(f"/patrons/{lapland_patron.pk}/pin-by-phone/", {"verification": "known_caller"})
    assert done.status_code == 302 and done["Location"] == url
    assert Note.objects.filter(patron=lapland_patron, category="pin_by_phone").count() == 1


# --- extend_expired_cards -------------------------------------------------------------------------------

SPRING_2020 = datetime.datetime(2020, 5, 4, 12, tzinfo=datetime.UTC)


@pytest.fixture
def world():
    """A consortium closed 18.3.-31.5.2020, patrons whose cards expire before, during and after the closure.

    With CARD_EXTENSION_EXPIRED_SINCE_DAYS = 365 the lower bound is 365 days before 18.3.2020: 19.3.2019."""
    consortium = ConsortiumFactory()
    library = LibraryFactory(municipality=MunicipalityFactory(consortium=consortium))
    closure = ClosurePeriod.objects.create(
        consortium=consortium, starts_on=datetime.date(2020, 3, 18), ends_on=datetime.date(2020, 5, 31)
    )

    def patron(expires, status=PatronStatus.EXPIRED, home_library=library):
        return PatronFactory(home_library=home_library, card_expires_on=expires, status=status)

    lapland_library = LibraryFactory(municipality=MunicipalityFactory(consortium=Consortium.objects.get(slug=LAPLAND)))
    return {
        "consortium": consortium,
        "closure": closure,
        "dormant": patron(datetime.date(2019, 3, 18)),  # the day before the lower bound
        "lower_bound": patron(datetime.date(2019, 3, 19)),
        "before": patron(datetime.date(2020, 3, 17)),  # the day before the closure
        "first_day": patron(datetime.date(2020, 3, 18)),
        "during": patron(datetime.date(2020, 4, 15)),
        "during_locked": patron(datetime.date(2020, 4, 20), status=PatronStatus.LOCKED),
        "later_in_closure": patron(datetime.date(2020, 5, 31), status=PatronStatus.ACTIVE),
        "after": patron(datetime.date(2020, 6, 1), status=PatronStatus.ACTIVE),
        "valid_after_until": patron(datetime.date(2020, 10, 1), status=PatronStatus.ACTIVE),
        "no_expiry": patron(None, status=PatronStatus.ACTIVE),
        "other_consortium": patron(datetime.date(2020, 4, 15), home_library=lapland_library),
    }


def extended_message(consortium, count, until="30.09.2020", dry_run=False, since="19.03.2019"):
    """The command's summary in Finnish (extend() runs it in Finnish: its dates are written d.m.Y)."""
    with translation.override("fi"):
        return _extended_message(consortium, count, until, dry_run, since)


def _extended_message(consortium, count, until, dry_run, since):
    if dry_run:
        message = ngettext(
            "Dry run: %(count)d card of %(consortium)s expiring from %(since)s on would be extended until "
            "%(until)s; nothing was changed.",
            "Dry run: %(count)d cards of %(consortium)s expiring from %(since)s on would be extended until "
            "%(until)s; nothing was changed.",
            count,
        )
    else:
        message = ngettext(
            "Extended %(count)d card of %(consortium)s expiring from %(since)s on until %(until)s.",
            "Extended %(count)d cards of %(consortium)s expiring from %(since)s on until %(until)s.",
            count,
        )
    return message % {"count": count, "consortium": consortium.name, "until": until, "since": since}


def extend(slug, until="2020-09-30", **options):
    out, err = StringIO(), StringIO()
    with translation.override("fi"):  # not the language an earlier test's request left active
        call_command("extend_expired_cards", consortium=slug, until=until, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def snapshot():
    return list(Patron.objects.order_by("pk").values_list("pk", "card_expires_on", "status", "updated_at"))


@time_machine.travel(SPRING_2020, tick=False)
def test_dry_run_changes_nothing_and_says_how_many(world):
    before, events = snapshot(), AccessEvent.objects.count()
    out, _err = extend(world["consortium"].slug, dry_run=True)
    assert extended_message(world["consortium"], 6, dry_run=True) in out
    assert snapshot() == before and AccessEvent.objects.count() == events
    world["closure"].refresh_from_db()
    assert world["closure"].cards_extended_until is None


@time_machine.travel(SPRING_2020, tick=False)
def test_extends_exactly_the_cards_that_expired_before_or_expire_during_the_closure_with_one_summary_event(world):
    events = AccessEvent.objects.count()
    out, err = extend(world["consortium"].slug, until="30.9.2020")
    extended = ["lower_bound", "before", "first_day", "during", "during_locked", "later_in_closure"]
    assert extended_message(world["consortium"], 6) in out
    assert "6/6" in err  # progress
    until = datetime.date(2020, 9, 30)
    for name, patron in world.items():
        if not isinstance(patron, Patron):
            continue
        old_expiry, old_status = patron.card_expires_on, patron.status
        patron.refresh_from_db()
        if name in extended:
            assert patron.card_expires_on == until, name
            assert patron.status == (PatronStatus.ACTIVE if old_status == PatronStatus.EXPIRED else old_status), name
        else:
            assert (patron.card_expires_on, patron.status) == (old_expiry, old_status), name
    assert AccessEvent.objects.count() == events + 1
    event = AccessEvent.objects.order_by("-id").first()
    assert (event.action, event.actor_username, event.detail) == (
        "cards_extended",
        "extend_expired_cards",
        "until=2020-09-30",
    )
    assert event.patron_ids == sorted(world[name].pk for name in extended)
    world["closure"].refresh_from_db()
    assert world["closure"].cards_extended_until == until

    # A second run finds nothing left to extend, and logs nothing.
    again, _err = extend(world["consortium"].slug)
    assert extended_message(world["consortium"], 0) in again and AccessEvent.objects.count() == events + 1


@time_machine.travel(SPRING_2020, tick=False)
def test_batches_report_progress(world, monkeypatch):
    monkeypatch.setattr("patrons.services.closures.CARD_EXTENSION_BATCH", 3)
    _out, err = extend(world["consortium"].slug)
    assert "3/6" in err and "6/6" in err
    assert Patron.objects.filter(card_expires_on=datetime.date(2020, 9, 30)).count() == 6


@time_machine.travel(datetime.datetime(2020, 7, 1, 12, tzinfo=datetime.UTC), tick=False)
def test_after_the_closure_its_cards_are_still_extended(world):
    assert closures_for_card_extension(consortium_id=world["consortium"].pk) == [world["closure"]]
    out, _err = extend(world["consortium"].slug)
    assert extended_message(world["consortium"], 6) in out


@time_machine.travel(SPRING_2020, tick=False)
def test_the_lower_bound_is_a_setting(world, settings):
    settings.CARD_EXTENSION_EXPIRED_SINCE_DAYS = 0  # only the cards that expire during the closure
    out, _err = extend(world["consortium"].slug)
    assert extended_message(world["consortium"], 4, since="18.03.2020") in out
    world["before"].refresh_from_db()
    assert world["before"].card_expires_on == datetime.date(2020, 3, 17)


def test_unknown_consortium_lists_the_slugs():
    with pytest.raises(CommandError, match="lapin-kirjastot"):
        extend("no-such-consortium")


def test_no_closure_period_is_an_error():
    consortium = ConsortiumFactory()
    with pytest.raises(CommandError):
        extend(consortium.slug, until=(today() + datetime.timedelta(days=30)).isoformat())


def test_a_closure_that_has_not_started_is_not_used():
    consortium = ConsortiumFactory()
    ClosurePeriod.objects.create(
        consortium=consortium,
        starts_on=today() + datetime.timedelta(days=5),
        ends_on=today() + datetime.timedelta(days=50),
    )
    with pytest.raises(CommandError):
        extend(consortium.slug, until=(today() + datetime.timedelta(days=90)).isoformat())


@time_machine.travel(SPRING_2020, tick=False)
@pytest.mark.parametrize("until", ["2020-05-04", "2020-03-01", "2020-13-01", "tomorrow"])
def test_until_must_be_a_date_after_today(world, until):
    before = snapshot()
    with pytest.raises(CommandError):
        extend(world["consortium"].slug, until=until)
    assert snapshot() == before
