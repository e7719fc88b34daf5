"""Demo notes, choices, an adult under guardianship and bans for `seed_demo`.

Created once and never re-dated: a second run finds each row by its natural key and leaves it, so the
demo's active ban ends by itself like a real one. Rows are written directly (the demo's history is not
patron processing by anyone) except where a service must check a rule on the way in.
"""

import datetime
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils import timezone

from bans.models import AccessProhibition, Ban, BanStatus, DecisionCompetence, HearingMethod, NotificationMethod
from bans.services import LEGAL_BASIS, appeal_deadline_for, authority_of, deemed_received_on
from core import dates
from patrons.models import Note, NoteCategory, Patron, RegisterKind, RegisterMembership, Trusteeship
from staff.models import Consortium, Jurisdiction, Library

SEEDER = "seed_demo"
# The demo deciders' delegations hold from this day on.
DELEGATION_FROM = datetime.date(2020, 1, 1)
# A ban decider's title and delegation; the board's secretary records the board's rectification decisions.
DEFAULT_DELEGATION = ("Kirjastotoimenjohtaja", "Hallintosääntö 45 § (demo), kaupunginvaltuusto 1.1.2020")
DELEGATIONS: dict[str, tuple[str, str]] = {
    "rovaniemi.secretary": (
        "Sivistyslautakunnan sihteeri",
        "Sivistyslautakunta 14.1.2020 § 3 (demo): lautakunnan oikaisuvaatimuspäätösten kirjaaminen",
    ),
}

NOTE_TEXTS: dict[str, dict[str, str]] = {
    Jurisdiction.FINLAND: {
        NoteCategory.GENERAL: "Toivoo ilmoitukset varattavista kirjoista tekstiviestillä.",
        NoteCategory.BEHAVIOUR: "Häiritsi lukusalissa muita asiakkaita äänekkäästi; huomautettu.",
        NoteCategory.GUARDIANSHIP: "Huoltajuus: lapsen asioista sovitaan äidin kanssa.",
        NoteCategory.ACCESSIBILITY: "Celia-palvelun asiakkaaksi rekisteröity (lukemisesteisyys).",
        NoteCategory.PIN_BY_PHONE: "PIN-koodi annettu puhelimessa; henkilöllisyys varmistettu soittamalla takaisin.",
        NoteCategory.IDENTITY_CHECK: "Henkilöllisyys tarkistettu ajokortista.",
    },
    Jurisdiction.SWEDEN: {
        NoteCategory.GENERAL: "Vill ha meddelanden om reservationer per sms.",
        NoteCategory.BEHAVIOUR: "Störde andra besökare högljutt i läsesalen; tillsagd.",
        NoteCategory.GUARDIANSHIP: "Vårdnad: barnets ärenden sköts med modern.",
        NoteCategory.ACCESSIBILITY: "Registrerad som Legimus-låntagare (läsnedsättning).",
        NoteCategory.PIN_BY_PHONE: "PIN-kod lämnad per telefon; identiteten kontrollerad genom återuppringning.",
        NoteCategory.IDENTITY_CHECK: "Identiteten kontrollerad mot körkort.",
    },
}


# The second incident of the demo's ban in force.
REPEATED_TEXT = {
    Jurisdiction.FINLAND: "Häiritsi jälleen lukusalissa; toinen huomautus.",
    Jurisdiction.SWEDEN: "Störde igen i läsesalen; andra tillsägelsen.",
}


@dataclass
class DemoCounts:
    notes: int = 0
    registers: int = 0
    trusteeships: int = 0
    bans: int = 0


def _adults(consortium: Consortium) -> list[Patron]:
    born_before = dates.today().replace(year=dates.today().year - 20)
    return list(Patron.objects.filter(consortium=consortium, date_of_birth__lt=born_before).order_by("koha_patron_id"))


def _note(
    patron: Patron, category: str, text: str, days_ago: int, counts: DemoCounts, library: Library | None = None
) -> Note:
    """The demo's note of this category and text (an incident at the patron's home library that day)."""
    note = Note.objects.filter(patron=patron, category=category, text=text, created_by=SEEDER).first()
    if note is None:
        note = Note.objects.create(
            patron=patron,
            category=category,
            text=text,
            created_at=timezone.now() - datetime.timedelta(days=days_ago),
            created_by=SEEDER,
            library=library or patron.home_library,
        )
        counts.notes += 1
    return note


def seed_procedures(consortium: Consortium) -> DemoCounts:
    counts = DemoCounts()
    if consortium.jurisdiction == Jurisdiction.FINLAND:
        _seed_delegations(consortium)
    texts = NOTE_TEXTS[consortium.jurisdiction]
    rng = random.Random(f"procedures:{consortium.slug}")
    adults = _adults(consortium)
    if len(adults) < 12:
        return counts
    chosen = rng.sample(adults, 12)
    # Notes of every category, on different patrons.
    for index, category in enumerate(NoteCategory.values):
        _note(chosen[index], category, texts[category], days_ago=10 + index, counts=counts)
    # Choices: registers.
    for patron, register in zip(chosen[6:9], RegisterKind.values, strict=True):
        if register == RegisterKind.NEWSLETTER and not patron.email:
            continue
        _, created = RegisterMembership.objects.get_or_create(
            patron=patron,
            register=register,
            defaults={
                "joined_on": datetime.date(2025, 3, 1),
                "consent_on": datetime.date(2025, 3, 1) if register == RegisterKind.NEWSLETTER else None,
            },
        )
        counts.registers += created
    # An adult under guardianship (edunvalvonta).
    _, created = Trusteeship.objects.get_or_create(
        patron=chosen[9],
        defaults={
            "guardian_name": "Yleinen edunvalvonta" if consortium.jurisdiction == "FI" else "Överförmyndare",
            "guardian_phone": "029 56 60000" if consortium.jurisdiction == "FI" else "0413-620 00",
            "recorded_at": timezone.now(),
            "recorded_by": SEEDER,
        },
    )
    counts.trusteeships += created
    library = Library.objects.filter(municipality__consortium=consortium).order_by("pk").first()
    if consortium.jurisdiction == Jurisdiction.FINLAND:
        _seed_bans(consortium, library, chosen[10:12], texts, counts)
    else:
        _seed_prohibition(library, chosen[10], counts)
    return counts


def _seed_delegations(consortium: Consortium) -> None:
    """Each ban decider of the consortium decides for every library of their home municipality (the demo
    director for Rovaniemi's libraries), by a demo delegation in the competence table."""
    deciders = (
        get_user_model()
        .objects.filter(groups__name="ban_decider", staff_profile__home_library__municipality__consortium=consortium)
        .select_related("staff_profile__home_library")
    )
    for decider in deciders:
        title, delegation = DELEGATIONS.get(decider.username, DEFAULT_DELEGATION)
        DecisionCompetence.objects.get_or_create(
            decider=decider,
            municipality_id=decider.staff_profile.home_library.municipality_id,
            library=None,
            defaults={"title": title, "delegation": delegation, "valid_from": DELEGATION_FROM},
        )


def _seed_bans(consortium, library, patrons, texts, counts: DemoCounts) -> None:
    """One ban in force (decided, notified) and one proposed and waiting for the hearing."""
    today = dates.today()
    prefix = library.koha_library_id
    in_force, proposed = patrons
    if not Ban.objects.filter(library=library, decision_number=f"{prefix}-DEMO-1").exists():
        # Repeatedly and substantially (Library Act 1492/2016 s. 15): incidents of two different days.
        notes = [
            _note(
                in_force,
                NoteCategory.BEHAVIOUR,
                texts[NoteCategory.BEHAVIOUR],
                days_ago=20,
                counts=counts,
                library=library,
            ),
            _note(
                in_force,
                NoteCategory.BEHAVIOUR,
                REPEATED_TEXT[consortium.jurisdiction],
                days_ago=16,
                counts=counts,
                library=library,
            ),
        ]
        decided_on = today - datetime.timedelta(days=5)
        received = deemed_received_on(NotificationMethod.IN_PERSON, decided_on)
        ban = Ban.objects.create(
            patron=in_force,
            library=library,
            grounds=["repeated_substantial_disturbance"],
            starts_on=decided_on,
            ends_on=decided_on + datetime.timedelta(days=20),
            status=BanStatus.NOTIFIED,
            proposed_at=timezone.now() - datetime.timedelta(days=12),
            proposed_by=SEEDER,
            heard_on=today - datetime.timedelta(days=8),
            hearing_method=HearingMethod.IN_PERSON,
            statement="Asiakas kertoi olleensa huonolla tuulella.",
            hearing_recorded_by=SEEDER,
            decision_number=f"{prefix}-DEMO-1",
            decided_on=decided_on,
            decided_by=SEEDER,
            decider_name="Kirjastotoimenjohtaja (demo)",
            decider_title=DEFAULT_DELEGATION[0],
            delegation=DEFAULT_DELEGATION[1],
            authority=authority_of(library.municipality),
            reasons="Toistuva häiriökäyttäytyminen huomautuksista huolimatta.",
            legal_basis=LEGAL_BASIS,
            enforcement_reasons="Häiriöt jatkuivat varoituksista huolimatta; kielto tarvitaan heti muiden turvaksi.",
            length_days=21,
            contact_person="Kirjaston asiakaspalvelu, 040 123 4567",
            notification_method=NotificationMethod.IN_PERSON,
            notified_on=decided_on,
            deemed_received_on=received,
            appeal_deadline=appeal_deadline_for(received),
        )
        ban.notes.set(notes)
        counts.bans += 1
    if not Ban.objects.filter(patron=proposed, proposed_by=SEEDER).exists():
        note = _note(
            proposed, NoteCategory.BEHAVIOUR, texts[NoteCategory.BEHAVIOUR], days_ago=3, counts=counts, library=library
        )
        ban = Ban.objects.create(
            patron=proposed,
            library=library,
            grounds=["endangering_safety"],
            starts_on=today + datetime.timedelta(days=14),
            ends_on=today + datetime.timedelta(days=27),
            proposed_at=timezone.now() - datetime.timedelta(days=1),
            proposed_by=SEEDER,
        )
        ban.notes.set([note])
        counts.bans += 1


def _seed_prohibition(library, patron, counts: DemoCounts) -> None:
    today = dates.today()
    if AccessProhibition.objects.filter(patron=patron, recorded_by=SEEDER).exists():
        return
    AccessProhibition.objects.create(
        patron=patron,
        library=library,
        applied_on=today - datetime.timedelta(days=30),
        application_reference="KS 2026/114",
        prosecutor_reference="AM-41872-26",
        decided_on=today - datetime.timedelta(days=10),
        starts_on=today - datetime.timedelta(days=9),
        ends_on=today + datetime.timedelta(days=80),
        recorded_at=timezone.now(),
        recorded_by=SEEDER,
    )
    counts.bans += 1
