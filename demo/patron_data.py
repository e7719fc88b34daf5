"""Demo data for `manage.py seed_demo`: the tenancy layout, staff users and a deterministic patron generator.

Everything here is plain data and pure functions; the management command does the writing.
The patron generator uses a seeded `random.Random` per consortium and a fixed reference date,
so every run produces exactly the same patrons. Who the patrons are (first names by era, surnames,
phone numbers, address style, language) comes from the consortium's `Population`: Finnish for the
Lapland and Mikkeli consortia, Swedish for Eslöv. No identity codes are generated here (see
`demo.identity_codes`).
"""

import random
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from core.dates import age_on

DEMO_PASSWORD = "kirjasto-demo-2026"  # noqa: S105 - published demo password (the README's demo users)
DEMO_SEED = 2026
# Ages and card expiry dates are computed against this date, never today, so runs are reproducible.
REFERENCE_DATE = date(2026, 11, 1)
CONFIDENTIALITY_SIGNED_ON = date(2026, 1, 15)
# The yearly privacy briefing: recent for every demo user but one, who is reminded on every page.
PRIVACY_BRIEFING_ON = date(2026, 9, 16)
OVERDUE_PRIVACY_BRIEFING_ON = date(2025, 9, 1)  # 14 months before REFERENCE_DATE


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

# Swedish names for the Eslöv (Skåne) consortium, by the same eras as the Finnish ones.

SWEDISH_FEMALE_FIRST_NAMES_BY_ERA: dict[str, tuple[str, ...]] = {
    "older": _words(
        """
        Anna Astrid Barbro Berit Birgit Birgitta Brita Britt Elisabeth Elsa Eva Gertrud Gun Gunilla Gunnel
        Inga Ingegerd Inger Ingrid Karin Kerstin Majken Margareta Marianne Monica Siv Solveig Ulla Viola
        """
    ),
    "middle": _words(
        """
        Anna Annika Camilla Carina Cecilia Charlotte Emelie Eva Frida Hanna Helena Jenny Jessica Johanna
        Karolina Katarina Lena Linda Lisa Malin Maria Marie Pernilla Petra Sara Sofia Susanne Therese Ulrika Åsa
        """
    ),
    "younger": _words(
        """
        Agnes Alice Alma Alva Astrid Ebba Edith Elin Ella Ellen Elsa Elvira Emma Felicia Freja Hanna Ida Julia
        Klara Linnea Lova Maja Matilda Moa Nora Olivia Saga Selma Stella Tilda Vera Wilma
        """
    ),
}

SWEDISH_MALE_FIRST_NAMES_BY_ERA: dict[str, tuple[str, ...]] = {
    "older": _words(
        """
        Arne Bengt Bertil Bo Erik Evert Gunnar Gustav Göran Gösta Hans Ingvar Karl Kent Kjell Lars Leif
        Lennart Nils Olle Olof Ove Rolf Rune Sten Stig Sture Sven Tore Ulf Åke
        """
    ),
    "middle": _words(
        """
        Anders Andreas Christian Daniel Erik Fredrik Henrik Håkan Jimmy Joakim Johan Jonas Jörgen Magnus
        Marcus Martin Mats Mattias Mikael Niklas Ola Patrik Per Peter Robert Roger Stefan Thomas Tobias
        """
    ),
    "younger": _words(
        """
        Adam Albin Alexander Alfred Anton Arvid August Axel Ebbe Elias Emil Erik Filip Gustav Hugo Isak Leo
        Liam Lucas Ludvig Melvin Nils Noah Oliver Olle Oscar Sixten Theo Viggo Vincent William
        """
    ),
}

# Patronymic surnames far more common in Skåne than elsewhere in Sweden.
SKANE_SURNAMES: frozenset[str] = frozenset(
    _words(
        """
        Nilsson Persson Jönsson Månsson Mårtensson Pålsson Ohlsson Håkansson Bengtsson Åkesson
        """
    )
)
NORRLAND_SURNAMES: frozenset[str] = frozenset(
    _words(
        """
        Lindström Bergström Nyström Nordström Lundström Wikström Engström Sundström Holmström Öberg Byström
        """
    )
)

SWEDISH_SURNAMES: list[str] = _unique(
    [
        # The most common surnames in Sweden.
        *_words(
            """
            Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson Pettersson
            Jonsson Jansson Hansson Bengtsson Jönsson Carlsson Jakobsson Magnusson Olofsson Lindström Lindqvist
            Lindgren Berg Axelsson Bergström Lundberg Lind Lundgren Lundqvist Mattsson Berglund Fredriksson
            Sandberg Henriksson Forsberg Sjöberg Wallin Engström Eklund Danielsson Lundin Håkansson Björk Bergman
            Gunnarsson Holm Wikström Samuelsson Isaksson Fransson Bergqvist Nyström Holmberg Arvidsson Löfgren
            Söderberg Nyberg Blomqvist Claesson Nordström Mårtensson Lundström
            """
        ),
        # Typical in Skåne (Eslöv), the rarer ones at ordinary weight, and a few typical further north.
        *sorted(SKANE_SURNAMES),
        *_words("Tufvesson Trulsson Ingvarsson Assarsson Paulsson"),
        *sorted(NORRLAND_SURNAMES),
    ]
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
# Swedish postal codes are written "NNN NN".
ESLOV = Area(
    streets=_words(
        """
        Storgatan Västergatan Östergatan Södergatan Norregatan Kvarngatan Bryggaregatan Trädgårdsgatan
        Järnvägsgatan Föreningsgatan Bruksgatan Kanalgatan Villagatan Bergsgatan Skolgatan Kyrkogatan
        Lundavägen Marieholmsvägen Ängsgatan Solvägen Rönnvägen Björkvägen Kastanjevägen Ekevägen
        """
    ),
    postal_codes=(
        ("241 30", "Eslöv"),
        ("241 31", "Eslöv"),
        ("241 32", "Eslöv"),
        ("241 33", "Eslöv"),
        ("241 34", "Eslöv"),
        ("241 35", "Eslöv"),
        ("241 36", "Eslöv"),
        ("241 38", "Eslöv"),
        ("241 92", "Eslöv"),
        ("241 95", "Eslöv"),
    ),
)
MARIEHOLM = Area(
    streets=_words(
        """
        Stationsgatan Storgatan Skolgatan Kyrkogatan Sockerbruksvägen Åvägen Ängsvägen Eslövsvägen
        """
    ),
    postal_codes=(("241 71", "Marieholm"), ("241 72", "Marieholm")),
)

# --- Who the patrons are -----------------------------------------------------------------------------


def _finnish_phone(rng: random.Random) -> str:
    """A Finnish mobile number: "+358 40 123 4567"."""
    prefix = rng.choice(("40", "40", "44", "45", "50", "50"))
    return f"+358 {prefix} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def _finnish_flat(rng: random.Random) -> str:
    """Staircase and flat after the house number: "Koskikatu 5 B 12"."""
    return f" {rng.choice('ABCDEF')} {rng.randint(1, 40)}"


def _swedish_phone(rng: random.Random) -> str:
    """Mostly a Swedish mobile number ("+46 70 123 45 67"), else an Eslöv landline ("0413-620 45")."""
    if rng.random() < 0.8:
        prefix = rng.choice(("70", "70", "72", "73", "76", "79"))
        return f"+46 {prefix} {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    return f"0413-{rng.randint(100, 699)} {rng.randint(10, 99)}"


def _swedish_flat(rng: random.Random) -> str:
    """The four-digit lägenhetsnummer (floor and flat): "Storgatan 5 lgh 1102"."""
    return f" lgh {rng.randint(10, 14)}{rng.randint(1, 6):02d}"


@dataclass(frozen=True)
class Population:
    """Who a consortium's patrons are: first names by era, surnames, contact details and language.

    `female_first_names_by_era` / `male_first_names_by_era` have the keys "older" (born before 1960),
    "middle" (1960-1989) and "younger" (1990 on). `languages` and `language_weights` go to
    `random.choices`; `email_domain` is the usual domain, one address in five is at example.com.
    """

    female_first_names_by_era: Mapping[str, tuple[str, ...]]
    male_first_names_by_era: Mapping[str, tuple[str, ...]]
    surnames: tuple[str, ...]
    phone: Callable[[random.Random], str]
    flat: Callable[[random.Random], str]  # what follows the house number of a block of flats
    languages: tuple[str, ...]
    language_weights: tuple[int, ...]
    email_domain: str


FINNISH = Population(
    female_first_names_by_era=FEMALE_FIRST_NAMES_BY_ERA,
    male_first_names_by_era=MALE_FIRST_NAMES_BY_ERA,
    surnames=tuple(SURNAMES),
    phone=_finnish_phone,
    flat=_finnish_flat,
    languages=("fi", "sv", "en"),
    language_weights=(88, 7, 5),
    email_domain="example.fi",
)
SWEDISH = Population(
    female_first_names_by_era=SWEDISH_FEMALE_FIRST_NAMES_BY_ERA,
    male_first_names_by_era=SWEDISH_MALE_FIRST_NAMES_BY_ERA,
    surnames=tuple(SWEDISH_SURNAMES),
    phone=_swedish_phone,
    flat=_swedish_flat,
    languages=("sv", "en", "fi"),  # Eslöv has Sweden Finns too
    language_weights=(90, 6, 4),
    email_domain="example.se",
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
    # What a ban decision names (staff.models.Municipality): official name, rectification body, its address...
    official_data: tuple[tuple[str, str], ...] = ()


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
    population: Population = FINNISH  # names, phones, addresses and language of the patrons
    regional_surnames: frozenset[str] = field(default_factory=frozenset)  # more common here (x4)
    other_region_surnames: frozenset[str] = field(default_factory=frozenset)  # rarer here (x0.25)

    @property
    def libraries(self) -> tuple[LibrarySpec, ...]:
        return tuple(library for municipality in self.municipalities for library in municipality.libraries)


LOCALHOST_NETWORKS = (("127.0.0.0/8", "Localhost (development)"), ("::1/128", "Localhost IPv6 (development)"))
LOCALHOST_NETWORKS_SV = (("127.0.0.0/8", "Localhost (utveckling)"), ("::1/128", "Localhost IPv6 (utveckling)"))

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
                official_data=(
                    ("official_name", "Rovaniemen kaupunki"),
                    ("official_name_sv", "Rovaniemi stad"),
                    ("rectification_body", "Sivistyslautakunta"),
                    ("rectification_body_sv", "Bildningsnämnden"),
                    ("rectification_address", "Rovaniemen kaupungin kirjaamo, PL 8216, 96101 Rovaniemi"),
                    ("rectification_email", "kirjaamo@rovaniemi.example.fi"),
                    ("office_hours", "ma-pe 9-15"),
                ),
                libraries=(
                    LibrarySpec("ROV", "Rovaniemen pääkirjasto", ROVANIEMI, 0.52),
                    LibrarySpec("ROVMU", "Muurolan kirjasto", MUUROLA, 0.13),
                ),
            ),
            MunicipalitySpec(
                name="Kemi",
                networks=(("10.20.0.0/16", "Kemin kaupungin verkko"),),
                official_data=(
                    ("official_name", "Kemin kaupunki"),
                    ("official_name_sv", "Kemi stad"),
                    ("rectification_body", "Sivistyslautakunta"),
                    ("rectification_body_sv", "Bildningsnämnden"),
                    ("rectification_address", "Kemin kaupungin kirjaamo, PL 86, 94101 Kemi"),
                    ("rectification_email", "kirjaamo@kemi.example.fi"),
                ),
                libraries=(LibrarySpec("KEM", "Kemin kaupunginkirjasto", KEMI, 0.35),),
            ),
        ),
        patron_count=220,
        koha_id_base=1000,
        cardnumber_prefix="2440",
        population=FINNISH,
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
                official_data=(
                    ("official_name", "Mikkelin kaupunki"),
                    ("official_name_sv", "S:t Michels stad"),
                    ("rectification_body", "Hyvinvointilautakunta"),
                    ("rectification_body_sv", "Välfärdsnämnden"),
                    ("rectification_address", "Mikkelin kaupungin kirjaamo, PL 33, 50101 Mikkeli"),
                    ("rectification_email", "kirjaamo@mikkeli.example.fi"),
                    ("office_hours", "ma-pe 9-15"),
                ),
                libraries=(
                    LibrarySpec("MIK", "Mikkelin pääkirjasto", MIKKELI, 0.75),
                    LibrarySpec("MIKRI", "Ristiinan kirjasto", RISTIINA, 0.25),
                ),
            ),
        ),
        patron_count=60,
        koha_id_base=5000,
        cardnumber_prefix="2450",
        population=FINNISH,
        regional_surnames=SAVO_SURNAMES,
        other_region_surnames=LAPLAND_SURNAMES,
    ),
    ConsortiumSpec(
        slug="eslovs-bibliotek",
        name="Eslövs bibliotek",
        jurisdiction="SE",
        municipalities=(
            MunicipalitySpec(
                name="Eslöv",
                official_data=(("official_name", "Eslövs kommun"),),
                networks=(*LOCALHOST_NETWORKS_SV, ("10.40.0.0/16", "Eslövs kommuns nät")),
                libraries=(
                    LibrarySpec("ESL", "Eslövs stadsbibliotek", ESLOV, 0.8),
                    LibrarySpec("ESLMA", "Marieholms bibliotek", MARIEHOLM, 0.2),
                ),
            ),
        ),
        patron_count=60,
        koha_id_base=9000,
        cardnumber_prefix="2460",
        population=SWEDISH,
        regional_surnames=SKANE_SURNAMES,
        other_region_surnames=NORRLAND_SURNAMES,
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
    privacy_briefing_on: date | None = PRIVACY_BRIEFING_ON
    email_domain: str = "example.fi"

    @property
    def email(self) -> str:
        return f"{self.username}@{self.email_domain}"


STAFF_USERS: tuple[StaffUserSpec, ...] = (
    StaffUserSpec("rovaniemi.staff", "Sanna", "Kallio", "ROV", ("staff",)),
    StaffUserSpec("rovaniemi.billing", "Jari", "Lehtola", "ROV", ("staff", "billing")),
    StaffUserSpec(
        "rovaniemi.director",
        "Marjatta",
        "Ylitalo",
        "ROV",
        ("staff", "ban_decider"),
        privacy_briefing_on=OVERDUE_PRIVACY_BRIEFING_ON,
    ),
    # The education board's secretary records the board's rectification decisions (someone other than the decider).
    StaffUserSpec("rovaniemi.secretary", "Leena", "Niemelä", "ROV", ("ban_decider",)),
    StaffUserSpec("dpo", "Tuomas", "Heikkilä", "ROV", ("dpo",), is_staff=True),
    StaffUserSpec("kemi.staff", "Päivi", "Rautio", "KEM", ("staff",)),
    StaffUserSpec("mikkeli.staff", "Mikko", "Hyvärinen", "MIK", ("staff",)),
    StaffUserSpec("eslov.staff", "Karin", "Mårtensson", "ESL", ("staff",), email_domain="example.se"),
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


def _era(born: date) -> str:
    if born.year < 1960:
        return "older"
    if born.year < 1990:
        return "middle"
    return "younger"


def _first_name(rng: random.Random, population: Population, female: bool, born: date) -> str:
    names = population.female_first_names_by_era if female else population.male_first_names_by_era
    return rng.choice(names[_era(born)])


def _surname(rng: random.Random, spec: ConsortiumSpec) -> str:
    surnames = spec.population.surnames
    weights = [
        4.0 if name in spec.regional_surnames else 0.25 if name in spec.other_region_surnames else 1.0
        for name in surnames
    ]
    return rng.choices(surnames, weights=weights)[0]


def _address(rng: random.Random, area: Area, population: Population) -> dict[str, str]:
    postal_code, city = rng.choice(area.postal_codes)
    street = f"{rng.choice(area.streets)} {rng.randint(1, 60)}"
    if rng.random() < 0.45:  # a block of flats
        street += population.flat(rng)
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


def _email(first_name: str, last_name: str, number: int, rng: random.Random, usual_domain: str) -> str:
    domain = "example.com" if rng.random() < 0.2 else usual_domain
    return f"{ascii_fold(first_name)}.{ascii_fold(last_name)}+{number}@{domain}"


def _loan_history_choice(record: dict[str, Any]) -> dict[str, Any]:
    """A recorded choice for the patrons who keep their loan history (an opt-in: patrons.services.choices), made
    at some day of the last six years: by a guardian while the patron was under 13, else by the patron. Some chose
    before turning 15 or 18, so the demo's confirmation list is not empty. Drawn from the patron's own generator,
    so the rest of the demo data stays as it was."""
    if record["loan_history"] != 0:
        return {"loan_history_chosen_on": None, "loan_history_chosen_by": ""}
    own = random.Random(f"loan-history:{record['koha_patron_id']}")
    chosen_on = max(REFERENCE_DATE - timedelta(days=own.randint(30, 6 * 365)), record["date_of_birth"])
    if age_on(record["date_of_birth"], chosen_on) < 13:
        chooser = "guardian"
    else:
        chooser = "patron_online" if own.random() < 0.3 else "patron"
    return {"loan_history_chosen_on": chosen_on, "loan_history_chosen_by": chooser}


def generate_patrons(spec: ConsortiumSpec, seed: int = DEMO_SEED) -> list[dict[str, Any]]:
    """All demo patrons of one consortium as dicts of Patron field values, ordered by koha_patron_id.

    Pure and deterministic: the same spec and seed always give the same list. `home_library` is the
    library's koha id. Minors carry `guardians`, a list of (guardian koha_patron_id, relationship)
    pointing to adults in the same list; adults have an empty list.
    """
    # A separate stream per consortium; str seeds are hashed deterministically (not by PYTHONHASHSEED).
    rng = random.Random(f"{seed}:{spec.slug}")
    people = spec.population
    libraries = spec.libraries
    groups = _age_groups(rng, spec.patron_count)
    patrons: dict[int, dict[str, Any]] = {}

    def base_record(index: int, group: str) -> dict[str, Any]:
        koha_id = spec.koha_id_base + index
        age = _age_for_group(rng, group)
        expires, status = _card(rng)
        record = {
            "koha_patron_id": koha_id,
            "cardnumber": f"{spec.cardnumber_prefix}{koha_id:010d}",
            "date_of_birth": date_of_birth_for_age(rng, age),
            "card_expires_on": expires,
            "status": status,
            "language": rng.choices(people.languages, weights=people.language_weights)[0],
            "loan_history": rng.choices((0, 1, 2), weights=(25, 55, 20))[0],
            "data_provided_by_guardian": age < 15,
            "guardians": [],
        }
        return {**record, **_loan_history_choice(record)}

    # Adults first, so that minors can be placed in their families.
    for index, group in enumerate(groups, start=1):
        if group != "adult":
            continue
        record = base_record(index, group)
        library = rng.choices(libraries, weights=[lib.weight for lib in libraries])[0]
        female = rng.random() < 0.55  # women use libraries more
        record["first_name"] = _first_name(rng, people, female, record["date_of_birth"])
        record["last_name"] = _surname(rng, spec)
        record["home_library"] = library.koha_library_id
        record.update(_address(rng, library.area, people))
        has_email = rng.random() < 0.85
        record["email"] = (
            _email(record["first_name"], record["last_name"], record["koha_patron_id"], rng, people.email_domain)
            if has_email
            else ""
        )
        record["phone"] = people.phone(rng) if rng.random() < 0.85 else ""
        patrons[record["koha_patron_id"]] = record

    adults = list(patrons.values())
    for index, group in enumerate(groups, start=1):
        if group == "adult":
            continue
        record = base_record(index, group)
        age = age_on(record["date_of_birth"], REFERENCE_DATE)
        # A parent is 20-48 years older; fall back to any adult if the list has none of that age.
        candidates = [a for a in adults if 20 <= age_on(a["date_of_birth"], REFERENCE_DATE) - age <= 48] or adults
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
        record["first_name"] = _first_name(rng, people, rng.random() < 0.5, record["date_of_birth"])
        # A minor lives with the first guardian and usually uses the same library.
        record["home_library"] = first["home_library"]
        record.update({key: first[key] for key in ("street_address", "postal_code", "city")})
        if group == "teen":
            record["email"] = (
                _email(record["first_name"], record["last_name"], record["koha_patron_id"], rng, people.email_domain)
                if rng.random() < 0.5
                else ""
            )
            record["phone"] = people.phone(rng) if rng.random() < 0.7 else ""
        else:
            record["email"] = ""
            record["phone"] = ""
        patrons[record["koha_patron_id"]] = record

    return [patrons[koha_id] for koha_id in sorted(patrons)]
