"""The demo world of `seed_demo`: the Swedish consortium next to the Finnish ones, and a stable seed."""

import datetime
import hashlib
import io
import json
import random
import re

import pytest
from django.core.management import call_command

from audit.models import AccessEvent
from demo.identity_codes import demo_hetu, demo_identity_code, demo_personnummer
from demo.patron_data import (
    CONSORTIA,
    FEMALE_FIRST_NAMES,
    MALE_FIRST_NAMES,
    REFERENCE_DATE,
    SURNAMES,
    SWEDISH_FEMALE_FIRST_NAMES_BY_ERA,
    SWEDISH_MALE_FIRST_NAMES_BY_ERA,
    SWEDISH_SURNAMES,
    generate_patrons,
)
from patrons.models import Guardianship, Patron
from sotu_silo.models import IdentityCode
from sotu_silo.validation import identity_code_validate
from staff.models import AllowedNetwork, Consortium, Library, StaffProfile
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ESLOV = "eslovs-bibliotek"
ADULT_BORN_BEFORE = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - 18)
SWEDISH_FIRST_NAMES = {
    name
    for names in (SWEDISH_FEMALE_FIRST_NAMES_BY_ERA, SWEDISH_MALE_FIRST_NAMES_BY_ERA)
    for era in names.values()
    for name in era
}
# sha256 of the generated patrons (json, sorted keys) of the Finnish consortia. The tests and the
# demo rely on these exact patrons: a change here means every Finnish demo patron changed.
FINNISH_PATRONS_SHA256 = {
    "lapin-kirjastot": "94ec40809945cb413111c371fe7b30599c9e380c5aab3f7b3158f225f3ce65a9",
    "mikkelin-seutukirjasto": "258cfe03cbe29afc23be2aca0506e6cf9d6b7761d50c84cddbccb0a9365d8cc0",
}


def eslov_patrons():
    return Patron.objects.filter(consortium__slug=ESLOV)


def test_the_finnish_patrons_are_exactly_the_seeded_ones():
    for spec in CONSORTIA:
        if spec.jurisdiction == "FI":
            generated = json.dumps(generate_patrons(spec), default=str, sort_keys=True)
            assert hashlib.sha256(generated.encode()).hexdigest() == FINNISH_PATRONS_SHA256[spec.slug], spec.slug
    assert {spec.slug for spec in CONSORTIA if spec.jurisdiction == "FI"} == set(FINNISH_PATRONS_SHA256)


def test_koha_ids_and_card_numbers_do_not_collide_across_consortia():
    patrons = [record for spec in CONSORTIA for record in generate_patrons(spec)]
    assert len({record["koha_patron_id"] for record in patrons}) == len(patrons)
    assert len({record["cardnumber"] for record in patrons}) == len(patrons)


def test_the_swedish_consortium_its_networks_libraries_and_staff():
    eslov = Consortium.objects.get(slug=ESLOV)
    assert (eslov.name, eslov.jurisdiction) == ("Eslövs bibliotek", "SE")
    networks = AllowedNetwork.objects.filter(municipality__consortium=eslov)
    assert set(networks.values_list("municipality__name", "cidr")) == {
        ("Eslöv", "127.0.0.0/8"),
        ("Eslöv", "::1/128"),
        ("Eslöv", "10.40.0.0/16"),
    }
    assert networks.get(cidr="10.40.0.0/16").description == "Eslövs kommuns nät"
    assert not AllowedNetwork.objects.filter(consortium=eslov).exists()  # no consortium-wide gateway
    libraries = Library.objects.filter(municipality__consortium=eslov)
    assert set(libraries.values_list("koha_library_id", flat=True)) == {"ESL", "ESLMA"}
    profile = StaffProfile.objects.select_related("user", "home_library").get(user__username="eslov.staff")
    assert profile.home_library.koha_library_id == "ESL"
    assert profile.confidentiality_signed_on is not None
    assert list(profile.user.groups.values_list("name", flat=True)) == ["staff"]
    assert profile.user.check_password("kirjasto-demo-2026")


def test_eslov_staff_lists_only_eslov_patrons(eslov_patron, lapland_patron, mikkeli_patron):
    client = client_for("eslov.staff")
    listed, url = [], "/api/v1/patrons/"
    while url:
        page = client.get(url)
        assert page.status_code == 200
        body = page.json()
        listed += [row["id"] for row in body["results"]]
        url = body["next"]
    assert body["count"] == len(listed) == eslov_patrons().count() >= 50
    assert set(listed) == set(eslov_patrons().values_list("pk", flat=True))
    assert client.get("/api/v1/patrons/", {"search": lapland_patron.cardnumber}).json()["count"] == 0
    assert client.get(f"/api/v1/patrons/{lapland_patron.pk}/").status_code == 404
    assert client.get(f"/api/v1/patrons/{mikkeli_patron.pk}/").status_code == 404
    assert client.get(f"/api/v1/patrons/{eslov_patron.pk}/").status_code == 200
    # And the other way round: Finnish staff do not see Eslöv's patrons.
    assert client_for("mikkeli.staff").get(f"/api/v1/patrons/{eslov_patron.pk}/").status_code == 404
    assert client_for("rovaniemi.staff").get(f"/api/v1/patrons/{eslov_patron.pk}/").status_code == 404


def test_swedish_patrons_have_swedish_names_and_contact_details():
    patrons = list(eslov_patrons())
    assert len(patrons) == 60
    assert {p.last_name for p in patrons} <= set(SWEDISH_SURNAMES)
    assert not {p.last_name for p in patrons} & set(SURNAMES)  # no Finnish surnames
    assert {p.first_name for p in patrons} <= SWEDISH_FIRST_NAMES
    finnish_only = (set(FEMALE_FIRST_NAMES) | set(MALE_FIRST_NAMES)) - SWEDISH_FIRST_NAMES
    assert not {p.first_name for p in patrons} & finnish_only
    assert sum(p.language == "sv" for p in patrons) >= 0.8 * len(patrons)
    assert all(re.fullmatch(r"\+46 7\d \d{3} \d\d \d\d|0413-\d{3} \d\d", p.phone) for p in patrons if p.phone)
    assert all(re.fullmatch(r"241 \d\d", p.postal_code) for p in patrons)
    assert {p.city for p in patrons} <= {"Eslöv", "Marieholm"}
    assert all(p.cardnumber.startswith("2460") and p.koha_patron_id > 9000 for p in patrons)


def test_swedish_minors_have_guardians_like_the_finnish_ones():
    minors = eslov_patrons().filter(date_of_birth__gte=ADULT_BORN_BEFORE)
    under_15 = minors.filter(data_provided_by_guardian=True)
    assert under_15.count() >= 5 and minors.count() - under_15.count() >= 5
    for minor in minors:
        links = Guardianship.objects.filter(ward=minor).select_related("guardian")
        assert links.exists(), minor.pk
        assert all(link.guardian.consortium_id == minor.consortium_id for link in links)
        assert all(link.guardian.date_of_birth < ADULT_BORN_BEFORE for link in links)


def test_most_swedish_adults_have_a_swedish_identity_code():
    eslov = Consortium.objects.get(slug=ESLOV)
    adults = set(eslov_patrons().filter(date_of_birth__lt=ADULT_BORN_BEFORE).values_list("pk", flat=True))
    codes = IdentityCode.objects.filter(consortium_id=eslov.pk)
    assert set(codes.values_list("country", flat=True)) == {"SE"}
    assert set(codes.values_list("patron_id", flat=True)) <= adults
    assert codes.count() >= 0.7 * len(adults)
    finnish = IdentityCode.objects.exclude(consortium_id=eslov.pk)
    assert set(finnish.values_list("country", flat=True)) == {"FI"}


@pytest.mark.parametrize(
    "born",
    [datetime.date(1934, 3, 9), datetime.date(1936, 2, 29), datetime.date(1989, 12, 31), datetime.date(2008, 1, 1)],
)
def test_demo_personnummer_is_valid_and_nobodys(born):
    code = demo_personnummer(born)
    valid = identity_code_validate(code=code, country="SE", today=REFERENCE_DATE)
    assert (valid.country, valid.kind) == ("SE", "personnummer")
    assert valid.normalized[:8] == f"{born:%Y%m%d}"
    assert valid.normalized[8:11] == "000"  # Skatteverket assigns birth numbers 001-999 only
    assert demo_identity_code(country="SE", date_of_birth=born, rng=None) == code


def test_demo_code_generator_follows_the_jurisdiction():
    born = datetime.date(1970, 6, 15)
    assert demo_identity_code(country="FI", date_of_birth=born, rng=random.Random(1)) == demo_hetu(
        born, random.Random(1)
    )
    with pytest.raises(ValueError):
        demo_identity_code(country="NO", date_of_birth=born, rng=random.Random(1))


def test_seed_demo_again_changes_nothing():
    def state():
        return (
            Patron.objects.count(),
            max(Patron.objects.values_list("updated_at", flat=True)),
            Guardianship.objects.count(),
            IdentityCode.objects.count(),
            AccessEvent.objects.count(),
        )

    before = state()
    out = io.StringIO()
    call_command("seed_demo", verbosity=1, stdout=out)
    assert state() == before
    summary = re.findall(r"^\s+(.+): \d+ \((\d+) created, (\d+) updated, \d+ unchanged\)$", out.getvalue(), re.M)
    assert summary, out.getvalue()
    assert [(label, created, updated) for label, created, updated in summary if (created, updated) != ("0", "0")] == []


def test_the_demo_records_loan_history_choices_and_some_await_confirmation():
    """Keeping loan history is an opt-in: the demo's keepers have a recorded choice (a guardian's while under
    13), and some chose before turning 15 or 18, so the staff's confirmation list shows them."""
    from patrons.services.choices import loan_history_confirmation_due

    keepers = Patron.objects.filter(consortium__slug="lapin-kirjastot", loan_history=0)
    assert keepers.exists() and not keepers.filter(loan_history_chosen_on=None).exists()
    assert not Patron.objects.exclude(loan_history=0).exclude(loan_history_chosen_on=None).exists()
    assert any(loan_history_confirmation_due(patron, REFERENCE_DATE) for patron in keepers)
