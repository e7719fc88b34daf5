"""The printable official decision (viranhaltijapäätös / tjänsteinnehavarbeslut) of a library-use ban.

The decision states what the Administrative Procedure Act 434/2003 s. 44 asks for (the deciding
authority and date, the party, exactly what is decided, the grounds and reasons, the hearing of
s. 34, the legal basis, a contact person) and has the rectification-request instructions of the
Local Government Act 410/2015 (ss. 134, 140, 141) attached.

A legal document is written per language, not through gettext: each language has its own template
(templates/bans/decision_fi.html, decision_sv.html), and the wording of the stored codes (grounds,
hearing and notification methods) is in the dicts below, so the document never depends on .po files.
The document never shows the personal identity code (Data Protection Act 1050/2018 s. 29).
"""

import re

from django.http import HttpRequest
from django.template.loader import render_to_string

from bans.models import Ban, BanGround, HearingMethod, HearingWaiverGround, NotificationMethod
from bans.services import APPEAL_DAYS, DEEMED_RECEIVED_AFTER_DAYS, authority_of, ban_days
from core.documents import document_pdf

LANGUAGES = ("fi", "sv")

# The test of the Library Act 1492/2016 s. 15 as the statute writes it: its alternatives, the first of which
# (repeatedly AND substantially) is one ground. The decision quotes it before the grounds found.
STATUTE_TEST = {
    "fi": (
        "Kirjaston käyttäjä voidaan määrätä kirjaston käyttökieltoon enintään 30 päiväksi, jos hän toistuvasti ja "
        "olennaisesti häiritsee kirjaston käyttöä, vaarantaa turvallisuutta tai vahingoittaa kirjaston omaisuutta."
    ),
    "sv": (
        "En biblioteksanvändare kan meddelas förbud att använda biblioteket i högst 30 dagar, om han eller hon "
        "upprepade gånger och väsentligt stör användningen av biblioteket, äventyrar säkerheten eller skadar "
        "bibliotekets egendom."
    ),
}
# The grounds of the Library Act 1492/2016 s. 15, as a sentence about the patron ("Kirjaston käyttäjä ...").
GROUNDS = {
    "fi": {
        BanGround.REPEATED_SUBSTANTIAL_DISTURBANCE: "on toistuvasti ja olennaisesti häirinnyt kirjaston käyttöä",
        BanGround.ENDANGERING_SAFETY: "on vaarantanut kirjaston turvallisuutta",
        BanGround.DAMAGING_PROPERTY: "on vahingoittanut kirjaston omaisuutta",
    },
    "sv": {
        BanGround.REPEATED_SUBSTANTIAL_DISTURBANCE: (
            "har upprepade gånger och väsentligt stört användningen av biblioteket"
        ),
        BanGround.ENDANGERING_SAFETY: "har äventyrat säkerheten i biblioteket",
        BanGround.DAMAGING_PROPERTY: "har skadat bibliotekets egendom",
    },
}
HEARING_METHODS: dict[str, dict[str, str]] = {
    "fi": {
        HearingMethod.IN_PERSON: "henkilökohtaisesti",
        HearingMethod.PHONE: "puhelimitse",
        HearingMethod.LETTER: "kirjeitse",
        HearingMethod.ELECTRONIC: "sähköisesti",
    },
    "sv": {
        HearingMethod.IN_PERSON: "personligen",
        HearingMethod.PHONE: "per telefon",
        HearingMethod.LETTER: "per brev",
        HearingMethod.ELECTRONIC: "elektroniskt",
    },
}
NOTIFICATION_METHODS: dict[str, dict[str, str]] = {
    "fi": {
        NotificationMethod.LETTER: "kirjeellä",
        NotificationMethod.ELECTRONIC: "sähköisellä viestillä",
        NotificationMethod.IN_PERSON: "henkilökohtaisesti luovuttamalla",
    },
    "sv": {
        NotificationMethod.LETTER: "per brev",
        NotificationMethod.ELECTRONIC: "med ett elektroniskt meddelande",
        NotificationMethod.IN_PERSON: "genom personlig överlämning",
    },
}
# The grounds of the Administrative Procedure Act 434/2003 s. 34(2) a ban may be decided on without a hearing.
WAIVER_GROUNDS: dict[str, dict[str, str]] = {
    "fi": {
        HearingWaiverGround.WOULD_ENDANGER_PURPOSE: (
            "kuuleminen saattaisi vaarantaa päätöksen tarkoituksen toteutumisen"
        ),
        HearingWaiverGround.DELAY_WOULD_HARM: (
            "asian ratkaisemisen viivytyksestä aiheutuisi huomattavaa haittaa ihmisten terveydelle, yleiselle "
            "turvallisuudelle tai ympäristölle"
        ),
        HearingWaiverGround.MANIFESTLY_UNNECESSARY: "kuuleminen on muusta syystä ilmeisen tarpeetonta",
    },
    "sv": {
        HearingWaiverGround.WOULD_ENDANGER_PURPOSE: "hörandet kunde äventyra syftet med beslutet",
        HearingWaiverGround.DELAY_WOULD_HARM: (
            "ett uppskov med avgörandet skulle medföra avsevärd olägenhet för människors hälsa, den allmänna "
            "säkerheten eller miljön"
        ),
        HearingWaiverGround.MANIFESTLY_UNNECESSARY: "hörandet av någon annan orsak är uppenbart onödigt",
    },
}
# The file name of the PDF: the decision number only, never the patron's name.
FILENAME_PREFIX = {"fi": "paatos", "sv": "beslut"}


def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"A ban decision is written in Finnish or Swedish, not {language!r}.")
    return language


def _days_phrase(days: int, language: str) -> str:
    if language == "fi":
        return f"{days} päivä" if days == 1 else f"{days} päivää"
    return f"{days} dag" if days == 1 else f"{days} dagar"


def decision_filename(ban: Ban, language: str) -> str:
    """'paatos-ROV-12-2025.pdf': ASCII letters, digits, dots, underscores and hyphens of the decision number."""
    number = re.sub(r"[^A-Za-z0-9_.-]+", "-", ban.decision_number).strip("-.") or str(ban.pk)
    return f"{FILENAME_PREFIX[_check_language(language)]}-{number}.pdf"


def decision_context(ban: Ban, language: str) -> dict:
    """What the decision template of `language` ("fi" or "sv") needs; anything else is a ValueError."""
    _check_language(language)
    patron, library = ban.patron, ban.library
    municipality = library.municipality
    grounds = [GROUNDS[language].get(code, code) for code in ban.grounds or []]
    days = ban.length_days or ban_days(ban.starts_on, ban.ends_on)
    # As the decision named them when it was made; a decision made before they were kept names today's data.
    authority = ban.authority or authority_of(municipality)
    suffix = "_sv" if language == "sv" else ""
    return {
        "lang": language,
        "ban": ban,
        "patron": patron,
        # Administrative Procedure Act 434/2003 ss. 44, 49 b: the authority, the rectification body, its address.
        "authority_name": authority.get(f"name{suffix}") or authority.get("name") or municipality.name,
        "rectification_body": authority.get(f"rectification_body{suffix}") or authority.get("rectification_body", ""),
        "rectification_address": authority.get("address", ""),
        "rectification_email": authority.get("email", ""),
        "office_hours": authority.get("office_hours", ""),
        "patron_name": f"{patron.first_name} {patron.last_name}".strip(),
        "patron_address": ", ".join(
            part for part in (patron.street_address, f"{patron.postal_code} {patron.city}".strip()) if part
        ),
        "library": library,
        "municipality": municipality,
        "grounds": grounds,
        "statute_test": STATUTE_TEST[language],
        "days": days,
        "days_phrase": _days_phrase(days, language),
        "hearing_method": HEARING_METHODS[language].get(ban.hearing_method, ban.hearing_method),
        "notification_method": NOTIFICATION_METHODS[language].get(ban.notification_method, ban.notification_method),
        "waiver_ground": WAIVER_GROUNDS[language].get(ban.hearing_waiver_ground, ""),
        # Administrative Procedure Act 434/2003 s. 14: a minor's guardians, heard and notified; named only here.
        "guardians": [
            {
                "name": guardian.name,
                "heard_on": guardian.heard_on,
                "hearing_method": HEARING_METHODS[language].get(guardian.hearing_method, guardian.hearing_method),
                "statement": guardian.statement,
                "notified_on": guardian.notified_on,
                "notification_method": NOTIFICATION_METHODS[language].get(
                    guardian.notification_method, guardian.notification_method
                ),
                "deemed_received_on": guardian.deemed_received_on,
                "proven_received_on": guardian.proven_received_on,
            }
            for guardian in ban.guardians.all()
        ],
        "appeal_days": APPEAL_DAYS,
        "letter_days": DEEMED_RECEIVED_AFTER_DAYS[NotificationMethod.LETTER],
        "electronic_days": DEEMED_RECEIVED_AFTER_DAYS[NotificationMethod.ELECTRONIC],
    }


def decision_html(ban: Ban, language: str, *, request: HttpRequest | None = None) -> str:
    """The decision as a standalone HTML page (inline CSS, no external assets).

    With the `request` (the page, not the PDF), the style carries the request's CSP nonce.
    """
    template = f"bans/decision_{_check_language(language)}.html"
    return render_to_string(template, decision_context(ban, language), request=request)


def decision_pdf(ban: Ban, language: str, base_url: str) -> bytes:
    """The decision as a PDF (core.documents: nothing is fetched)."""
    return document_pdf(decision_html(ban, language), base_url=base_url)
