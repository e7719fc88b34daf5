"""Demo data for `manage.py seed_demo`: the tenancy layout, staff users and a deterministic patron generator.

Everything here is plain data and pure functions; the management command does the writing.
The patron generator uses a seeded `random.Random` per consortium and a fixed reference date,
so every run produces exactly the same patrons. No identity codes (HETU) are generated.
"""

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

DEMO_PASSWORD = "kirjasto-demo-2026"  # noqa: S105 - published demo password, see DESIGN.md
DEMO_SEED = 2026
# Ages and card expiry dates are computed against this date, never today, so runs are reproducible.
REFERENCE_DATE = date(2026, 11, 1)
CONFIDENTIALITY_SIGNED_ON = date(2026, 1, 15)


def _words(text: str) -> tuple[str, ...]:
    """A whitespace-separated word list as a tuple (keeps long name lists compact)."""
    return tuple(text.split())


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


# --- Names -------------------------------------------------------------------------------------------
# First names by the era they were popular in, so a 80-year-old is not called Nooa.
# Keys: "older" (born before 1960), "middle" (1960-1989), "younger" (1990 on).

FEMALE_FIRST_NAMES_BY_ERA: dict[str, tuple[str, ...]] = {
    "older": _words(
        """
        Aila Aili Anja Anneli Annikki Aune Eeva Eila Elsa Helena Helvi Hilkka Irja Kaarina Liisa Maija Marja
        Marjatta Martta Orvokki Pirjo Pirkko Raija Ritva Seija Sinikka Sirkka Terttu Tuula Leila
        """
    ),
    "middle": _words(
        """
        Anne Anu Eija Elina Hanna Heidi Heli Jaana Jenni Johanna Katja Kirsi Kristiina Laura Leena Maria Merja
        Mervi Minna Niina Outi Päivi Riikka Salla Sanna Sari Satu Susanna Suvi Taina Tarja Tiina
        """
    ),
    "younger": _words(
        """
        Aada Aino Aliisa Aurora Eevi Ella Elli Emilia Emma Enni Eveliina Helmi Iida Ilona Isla Julia Kerttu
        Linnea Lotta Lumi Nella Noora Olivia Oona Pihla Saara Siiri Sofia Veera Venla Viivi Vilma
        """
    ),
}

MALE_FIRST_NAMES_BY_ERA: dict[str, tuple[str, ...]] = {
    "older": _words(
        """
        Antero Arvo Eero Erkki Esko Heikki Jorma Kalevi Kari Kauko Keijo Lauri Markku Martti Matti Mauri Olavi
        Osmo Paavo Pekka Pentti Raimo Reijo Reino Seppo Tapani Tapio Unto Veikko Väinö
        """
    ),
    "middle": _words(
        """
        Antti Ari Hannu Harri Jani Janne Jari Jarmo Joni Juha Jukka Jussi Kai Kimmo Marko Mika Mikael Mikko
        Olli Pasi Petri Sami Sampo Teemu Tero Timo Tommi Toni Tuomas Vesa Ville Juho
        """
    ),
    "younger": _words(
        """
        Aapo Aatu Akseli Aleksi Eelis Eemeli Eetu Eino Elias Emil Hugo Ilmari Joel Kalle Kasper Lenni Leevi
        Leo Luka Niilo Nooa Oliver Onni Oskari Otso Rasmus Toivo Valtteri Veeti Vilho Väinö Juho
        """
    ),
}


FEMALE_FIRST_NAMES: list[str] = _unique([n for era in FEMALE_FIRST_NAMES_BY_ERA.values() for n in era])
MALE_FIRST_NAMES: list[str] = _unique([n for era in MALE_FIRST_NAMES_BY_ERA.values() for n in era])

SURNAMES: list[str] = _unique(
    [
        # The most common surnames in Finland.
        *_words(
            """
            Virtanen Korhonen Mäkinen Nieminen Mäkelä Hämäläinen Laine Heikkinen Koskinen Järvinen Lehtonen
            Lehtinen Saarinen Salminen Heinonen Niemi Heikkilä Kinnunen Salonen Turunen Salo Laitinen Tuominen
            Rantanen Karjalainen Jokinen Mattila Savolainen Lahtinen Ahonen Hiltunen Kallio Hirvonen Leinonen
            Miettinen Pitkänen Aaltonen Manninen Hakala Laaksonen Anttila Hyvönen Väisänen Ojala Kärkkäinen
            Räsänen Leppänen Kettunen Seppälä Toivonen Peltonen Kauppinen Nurmi Kokkonen Kemppainen Huttunen
            Mustonen Lehto Harju Pesonen Vainio Oksanen Moilanen Korpela Rissanen Koivisto Lindholm Lindroos
            Lindberg
            """
        ),
        # Typical in Lapland, including Sámi surnames.
        *_words(
            """
            Lehtola Niskala Ylitalo Kangas Aikio Magga Näkkäläjärvi Rautio Keskitalo Alatalo Kyrö Jomppanen
            Sammallahti Länsman Palismaa Paadar Valle Guttorm Kukkola Pöykkö Autto Kumpula Luiro Ollila Tervo
            Hietala Kivelä
            """
        ),
        # Typical in Savo (Mikkeli).
        *_words(
            """
            Hyvärinen Pulkkinen Hytönen Leskinen Vesterinen Ruotsalainen Kosonen Tolvanen Hokkanen Partanen
            Markkanen Pylkkänen Kontinen Kaikkonen
            """
        ),
    ]
)

LAPLAND_SURNAMES: frozenset[str] = frozenset(
    _words(
        """
        Lehtola Niskala Ylitalo Kangas Aikio Magga Näkkäläjärvi Rautio Keskitalo Alatalo Kyrö Jomppanen
        Sammallahti Länsman Palismaa Paadar Valle Guttorm Kukkola Pöykkö Autto Kumpula Luiro Ollila Tervo
        Harju Ojala Kemppainen
        """
    )
)
SAVO_SURNAMES: frozenset[str] = frozenset(
    _words(
        """
        Hyvärinen Pulkkinen Hytönen Leskinen Vesterinen Ruotsalainen Kosonen Tolvanen Hokkanen Partanen
        Markkanen Pylkkänen Kontinen Kaikkonen Savolainen Kärkkäinen Räsänen Pesonen Kinnunen Kauppinen
        Huttunen Mustonen
        """
    )
)

# --- Addresses ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    """Where a library's patrons live: street names, (postal code, post town) pairs."""

    streets: tuple[str, ...]
    postal_codes: tuple[tuple[str, str], ...]


ROVANIEMI = Area(
    streets=_words(
        """
        Koskikatu Rovakatu Valtakatu Hallituskatu Korkalonkatu Pohjolankatu Ounasjoentie Lapinkävijäntie
        Ratakatu Maakuntakatu Sairaalakatu Jääkärinkatu Poromiehentie Santamäentie Pohjoisranta Revontulentie
        Ylikyläntie Nivankyläntie Kairatie Hiihtomajantie Ounaskoskentie Kemijoentie
        """
    ),
    postal_codes=(
        ("96100", "Rovaniemi"),
        ("96190", "Rovaniemi"),
        ("96200", "Rovaniemi"),
        ("96300", "Rovaniemi"),
        ("96400", "Rovaniemi"),
        ("96440", "Rovaniemi"),
        ("96460", "Rovaniemi"),
        ("96500", "Rovaniemi"),
        ("96900", "Saarenkylä"),
        ("96930", "Rovaniemi"),
    ),
)
MUUROLA = Area(
    streets=_words(
        """
        Muurolantie Jaatilantie Petäjäskoskentie Kivitaipaleentie Muurolanranta Koulutie
        """
    ),
    postal_codes=(("97140", "Muurola"),),
)
KEMI = Area(
    streets=_words(
        """
        Keskuspuistokatu Kauppakatu Meripuistokatu Asemakatu Pohjoisrantakatu Urheilukatu Hahtisaarenkatu
        Sauvosaarenkatu Karjalahdenkatu Peurasaarentie Rytikarintie Pajusaarentie Valtakatu Tervahovintie
        """
    ),
    postal_codes=(
        ("94100", "Kemi"),
        ("94200", "Kemi"),
        ("94300", "Kemi"),
        ("94400", "Kemi"),
        ("94450", "Kemi"),
        ("94500", "Lautiosaari"),
        ("94600", "Kemi"),
        ("94700", "Kemi"),
        ("94830", "Kemi"),
        ("94900", "Kemi"),
    ),
)
MIKKELI = Area(
    streets=_words(
        """
        Hallituskatu Porrassalmenkatu Maaherrankatu Raatihuoneenkatu Savilahdenkatu Jääkärinkatu Otavankatu
        Ristimäenkatu Graanintie Lähemäentie Kalevankatu Linnankatu Vuorikatu Sairaalakatu Tuppuralantie
        Rantakatu Kirkkopuistonkatu
        """
    ),
    postal_codes=(
        ("50100", "Mikkeli"),
        ("50120", "Mikkeli"),
        ("50130", "Mikkeli"),
        ("50150", "Mikkeli"),
        ("50160", "Mikkeli"),
        ("50170", "Mikkeli"),
        ("50180", "Mikkeli"),
        ("50190", "Mikkeli"),
        ("50200", "Mikkeli"),
    ),
)
RISTIINA = Area(
    streets=_words(
        """
        Brahentie Pappilantie Kirkkotie Uimarannantie Ristiinantie Linnanrauniontie
        """
    ),
    postal_codes=(("52300", "Ristiina"),),
)

# --- Tenancy and staff -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LibrarySpec:
    koha_library_id: str
    name: str
    area: Area
    weight: float  # share of the consortium's patrons whose home library this is


@dataclass(frozen=True)
class MunicipalitySpec:
    name: str
    networks: tuple[tuple[str, str], ...]  # (cidr, description)
    libraries: tuple[LibrarySpec, ...]


@dataclass(frozen=True)
class ConsortiumSpec:
    slug: str
    name: str
    jurisdiction: str
    municipalities: tuple[MunicipalitySpec, ...]
    networks: tuple[tuple[str, str], ...] = ()  # consortium-wide (cidr, description)
    patron_count: int = 0
    koha_id_base: int = 0  # patron i (1-based) gets koha_patron_id koha_id_base + i
    cardnumber_prefix: str = ""
    regional_surnames: frozenset[str] = field(default_factory=frozenset)
    other_region_surnames: frozenset[str] = field(default_factory=frozenset)

    @property
    def libraries(self) -> tuple[LibrarySpec, ...]:
        return tuple(library for municipality in self.municipalities for library in municipality.libraries)


LOCALHOST_NETWORKS = (("127.0.0.0/8", "Localhost (development)"), ("::1/128", "Localhost IPv6 (development)"))

CONSORTIA: tuple[ConsortiumSpec, ...] = (
    ConsortiumSpec(
        slug="lapin-kirjastot",
        name="Lapin kirjastot",
        jurisdiction="FI",
        networks=(("10.99.0.0/24", "Citrix"),),
        municipalities=(
            MunicipalitySpec(
                name="Rovaniemi",
                networks=(*LOCALHOST_NETWORKS, ("10.10.0.0/16", "Rovaniemen kaupungin verkko")),
                libraries=(
                    LibrarySpec("ROV", "Rovaniemen pääkirjasto", ROVANIEMI, 0.52),
                    LibrarySpec("ROVMU", "Muurolan kirjasto", MUUROLA, 0.13),
                ),
            ),
            MunicipalitySpec(
                name="Kemi",
                networks=(("10.20.0.0/16", "Kemin kaupungin verkko"),),
                libraries=(LibrarySpec("KEM", "Kemin kaupunginkirjasto", KEMI, 0.35),),
            ),
        ),
        patron_count=220,
        koha_id_base=1000,
        cardnumber_prefix="2440",
        regional_surnames=LAPLAND_SURNAMES,
        other_region_surnames=SAVO_SURNAMES,
    ),
    ConsortiumSpec(
        slug="mikkelin-seutukirjasto",
        name="Mikkelin seutukirjasto",
        jurisdiction="FI",
        municipalities=(
            MunicipalitySpec(
                name="Mikkeli",
                networks=(*LOCALHOST_NETWORKS, ("10.30.0.0/16", "Mikkelin kaupungin verkko")),
                libraries=(
                    LibrarySpec("MIK", "Mikkelin pääkirjasto", MIKKELI, 0.75),
                    LibrarySpec("MIKRI", "Ristiinan kirjasto", RISTIINA, 0.25),
                ),
            ),
        ),
        patron_count=60,
        koha_id_base=5000,
        cardnumber_prefix="2450",
        regional_surnames=SAVO_SURNAMES,
        other_region_surnames=LAPLAND_SURNAMES,
    ),
)


@dataclass(frozen=True)
class StaffUserSpec:
    username: str
    first_name: str
    last_name: str
    home_library: str  # koha_library_id
    groups: tuple[str, ...] = ()
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@example.fi"


STAFF_USERS: tuple[StaffUserSpec, ...] = (
    StaffUserSpec("rovaniemi.staff", "Sanna", "Kallio", "ROV", ("staff",)),
    StaffUserSpec("rovaniemi.billing", "Jari", "Lehtola", "ROV", ("staff", "billing")),
    StaffUserSpec("rovaniemi.director", "Marjatta", "Ylitalo", "ROV", ("staff", "ban_decider")),
    StaffUserSpec("dpo", "Tuomas", "Heikkilä", "ROV", ("dpo",), is_staff=True),
    StaffUserSpec("kemi.staff", "Päivi", "Rautio", "KEM", ("staff",)),
    StaffUserSpec("mikkeli.staff", "Mikko", "Hyvärinen", "MIK", ("staff",)),
    StaffUserSpec("admin", "Antti", "Korpela", "ROV", (), is_staff=True, is_superuser=True),
)

# --- Patron generator --------------------------------------------------------------------------------

UNDER_15_SHARE = 0.10
AGED_15_17_SHARE = 0.06
MIN_PER_MINOR_GROUP = 5
EXPIRED_SHARE = 0.10
ADULT_AGE_BANDS = ((18, 29), (30, 44), (45, 64), (65, 79), (80, 92))
ADULT_AGE_BAND_WEIGHTS = (18, 25, 30, 20, 7)


def ascii_fold(text: str) -> str:
    """Lower-case ASCII spelling for email addresses: "Näkkäläjärvi" -> "nakkalajarvi"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch in "-."))


def date_of_birth_for_age(rng: random.Random, age: int, reference: date = REFERENCE_DATE) -> date:
    """A birth date giving exactly `age` on `reference`.

    For the ages right below a threshold (14, 17) the birthday falls in the half-year before the
    reference date, so the patron stays in the same age group for a few months after it.
    """
    latest = reference.replace(year=reference.year - age)
    max_days_back = 180 if age in (14, 17) else 364
    return latest - timedelta(days=rng.randint(0, max_days_back))


def age_on(born: date, reference: date = REFERENCE_DATE) -> int:
    """Whole years between `born` and `reference`."""
    return reference.year - born.year - ((reference.month, reference.day) < (born.month, born.day))


def _era(born: date) -> str:
    if born.year < 1960:
        return "older"
    if born.year < 1990:
        return "middle"
    return "younger"


def _first_name(rng: random.Random, female: bool, born: date) -> str:
    names = FEMALE_FIRST_NAMES_BY_ERA if female else MALE_FIRST_NAMES_BY_ERA
    return rng.choice(names[_era(born)])


def _surname(rng: random.Random, spec: ConsortiumSpec) -> str:
    weights = [
        4.0 if name in spec.regional_surnames else 0.25 if name in spec.other_region_surnames else 1.0
        for name in SURNAMES
    ]
    return rng.choices(SURNAMES, weights=weights)[0]


def _phone(rng: random.Random) -> str:
    prefix = rng.choice(("40", "40", "44", "45", "50", "50"))
    return f"+358 {prefix} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def _address(rng: random.Random, area: Area) -> dict[str, str]:
    postal_code, city = rng.choice(area.postal_codes)
    street = f"{rng.choice(area.streets)} {rng.randint(1, 60)}"
    if rng.random() < 0.45:  # a block of flats
        street += f" {rng.choice('ABCDEF')} {rng.randint(1, 40)}"
    return {"street_address": street, "postal_code": postal_code, "city": city}


def _age_for_group(rng: random.Random, group: str) -> int:
    if group == "child":
        return rng.randint(4, 14)
    if group == "teen":
        return rng.randint(15, 17)
    low, high = rng.choices(ADULT_AGE_BANDS, weights=ADULT_AGE_BAND_WEIGHTS)[0]
    return rng.randint(low, high)


def _age_groups(rng: random.Random, count: int) -> list[str]:
    """Shuffled age group per patron: "child" (4-14), "teen" (15-17) or "adult"."""
    children = max(MIN_PER_MINOR_GROUP, round(count * UNDER_15_SHARE))
    teens = max(MIN_PER_MINOR_GROUP, round(count * AGED_15_17_SHARE))
    groups = ["child"] * children + ["teen"] * teens + ["adult"] * (count - children - teens)
    rng.shuffle(groups)
    return groups


def _card(rng: random.Random) -> tuple[date, str]:
    if rng.random() < EXPIRED_SHARE:
        return REFERENCE_DATE - timedelta(days=rng.randint(60, 900)), "expired"
    return REFERENCE_DATE + timedelta(days=rng.randint(120, 1460)), "active"


def _email(first_name: str, last_name: str, number: int, rng: random.Random) -> str:
    domain = "example.com" if rng.random() < 0.2 else "example.fi"
    return f"{ascii_fold(first_name)}.{ascii_fold(last_name)}+{number}@{domain}"


def generate_patrons(spec: ConsortiumSpec, seed: int = DEMO_SEED) -> list[dict[str, Any]]:
    """All demo patrons of one consortium as dicts of Patron field values, ordered by koha_patron_id.

    Pure and deterministic: the same spec and seed always give the same list. `home_library` is the
    library's koha id. Minors carry `guardians`, a list of (guardian koha_patron_id, relationship)
    pointing to adults in the same list; adults have an empty list.
    """
    # A separate stream per consortium; str seeds are hashed deterministically (not by PYTHONHASHSEED).
    rng = random.Random(f"{seed}:{spec.slug}")
    libraries = spec.libraries
    groups = _age_groups(rng, spec.patron_count)
    patrons: dict[int, dict[str, Any]] = {}

    def base_record(index: int, group: str) -> dict[str, Any]:
        koha_id = spec.koha_id_base + index
        age = _age_for_group(rng, group)
        expires, status = _card(rng)
        return {
            "koha_patron_id": koha_id,
            "cardnumber": f"{spec.cardnumber_prefix}{koha_id:010d}",
            "date_of_birth": date_of_birth_for_age(rng, age),
            "card_expires_on": expires,
            "status": status,
            "language": rng.choices(("fi", "sv", "en"), weights=(88, 7, 5))[0],
            "loan_history": rng.choices((0, 1, 2), weights=(25, 55, 20))[0],
            "data_provided_by_guardian": age < 15,
            "guardians": [],
        }

    # Adults first, so that minors can be placed in their families.
    for index, group in enumerate(groups, start=1):
        if group != "adult":
            continue
        record = base_record(index, group)
        library = rng.choices(libraries, weights=[lib.weight for lib in libraries])[0]
        female = rng.random() < 0.55  # women use libraries more
        record["first_name"] = _first_name(rng, female, record["date_of_birth"])
        record["last_name"] = _surname(rng, spec)
        record["home_library"] = library.koha_library_id
        record.update(_address(rng, library.area))
        has_email = rng.random() < 0.85
        record["email"] = (
            _email(record["first_name"], record["last_name"], record["koha_patron_id"], rng) if has_email else ""
        )
        record["phone"] = _phone(rng) if rng.random() < 0.85 else ""
        patrons[record["koha_patron_id"]] = record

    adults = list(patrons.values())
    for index, group in enumerate(groups, start=1):
        if group == "adult":
            continue
        record = base_record(index, group)
        age = age_on(record["date_of_birth"])
        # A parent is 20-48 years older; fall back to any adult if the list has none of that age.
        candidates = [a for a in adults if 20 <= age_on(a["date_of_birth"]) - age <= 48] or adults
        first = rng.choice(candidates)
        relationship = "guardian" if rng.random() < 0.08 else "parent"
        record["guardians"].append((first["koha_patron_id"], relationship))
        # The minor carries the first guardian's surname; a second guardian is added when the family
        # has another adult of the same surname and age.
        record["last_name"] = first["last_name"]
        if rng.random() < 0.6:
            same_name = [a for a in candidates if a is not first and a["last_name"] == record["last_name"]]
            if same_name:
                record["guardians"].append((rng.choice(same_name)["koha_patron_id"], relationship))
        record["first_name"] = _first_name(rng, rng.random() < 0.5, record["date_of_birth"])
        # A minor lives with the first guardian and usually uses the same library.
        record["home_library"] = first["home_library"]
        record.update({key: first[key] for key in ("street_address", "postal_code", "city")})
        if group == "teen":
            record["email"] = (
                _email(record["first_name"], record["last_name"], record["koha_patron_id"], rng)
                if rng.random() < 0.5
                else ""
            )
            record["phone"] = _phone(rng) if rng.random() < 0.7 else ""
        else:
            record["email"] = ""
            record["phone"] = ""
        patrons[record["koha_patron_id"]] = record

    return [patrons[koha_id] for koha_id in sorted(patrons)]
