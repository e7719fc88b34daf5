"""Helpers for the ban and note tests: a fixed "today", the API steps, and what a refusal must not write.

Sessions last eight hours, so a test that moves through time makes its clients after each move
(`as_user`), inside the `on(day)` block.
"""

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client
from django.utils import timezone

from audit.models import AccessEvent, Action, Outcome
from bans.models import AccessProhibition, Ban, BanGuardian
from core.dates import ADULT_AGE, age_on
from patrons.models import Guardianship, Note
from tests.conftest import client_for

HELSINKI = ZoneInfo("Europe/Helsinki")
# An ordinary Monday with no public holiday near it.
MONDAY = datetime.date(2027, 2, 1)


def on(day: datetime.date) -> time_machine.travel:
    """Make `day` today (noon in Helsinki, the clock standing still)."""
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(12), tzinfo=HELSINKI), tick=False)


def today_is() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def as_user(username: str | None) -> Client:
    return client_for(username)


def post(client: Client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


def write_note(
    client: Client,
    patron_id: int,
    text: str = "Shouted at other patrons.",
    category: str = "behaviour",
    library: str = "ROV",
    incident_on: datetime.date | None = None,
):
    """A note about an incident at `library` on `incident_on` (default today)."""
    body = {"category": category, "text": text, "library": library}
    if incident_on is not None:
        body["incident_on"] = incident_on.isoformat()
    response = post(client, f"/api/v1/patrons/{patron_id}/notes/", body)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def disturbance_notes(client: Client, patron_id: int, library: str = "ROV") -> list[int]:
    """Two behaviour notes of `library`, of yesterday and today: repeated disturbance (Library Act s. 15)."""
    today = today_is()
    return [write_note(client, patron_id, library=library, incident_on=day) for day in (today - days(1), today)]


def propose(client: Client, patron_id: int, note_ids: list[int], starts_on: datetime.date, length: int = 10, **body):
    """POST a proposal for a ban of `length` days (first and last day included) from `starts_on`.

    The grounds default to endangering safety, which one note may support; the repeated and substantial
    disturbance needs notes of two days (`disturbance_notes`).
    """
    return post(
        client,
        f"/api/v1/patrons/{patron_id}/bans/",
        {
            "library": "ROV",
            "grounds": ["endangering_safety"],
            "note_ids": note_ids,
            "starts_on": starts_on.isoformat(),
            "ends_on": (starts_on + days(length - 1)).isoformat(),
            **body,
        },
    )


STATEMENT = "Sanoo, ettei se toistu."
MATERIAL = "Käyttökieltoesitys ja sen perusteena olevat huomautukset."


def minors_guardians(ban_id: int, day: datetime.date) -> list[int]:
    """The patron ids of the ban's party's guardians if the party is under 18 on `day` (else none)."""
    patron = Ban.objects.select_related("patron").get(pk=ban_id).patron
    if patron.date_of_birth is None or age_on(patron.date_of_birth, day) >= ADULT_AGE:
        return []
    return sorted(Guardianship.objects.filter(ward=patron).values_list("guardian_id", flat=True))


def hear(
    client: Client,
    ban_id: int,
    heard_on: datetime.date,
    method: str = "in_person",
    statement: str = STATEMENT,
    **body,
):
    """POST the hearing: the party (and, for a minor, each guardian, the same day and way) was asked on
    `heard_on`, may answer by then, and answered `statement` (give "" for none), unless `body` says otherwise."""
    guardians = [
        {"guardian": guardian, "heard_on": heard_on.isoformat(), "method": method, "statement": statement}
        for guardian in minors_guardians(ban_id, heard_on)
    ]
    body = {
        "heard_on": heard_on.isoformat(),
        "method": method,
        "statement": statement,
        "answer_by": heard_on.isoformat(),
        "material_shown": MATERIAL,
        "guardians": guardians,
        **body,
    }
    return post(client, f"/api/v1/bans/{ban_id}/hearing/", body)


ENFORCEMENT_REASONS = "The disturbances continue; other patrons need the ban at once."


def decision_body(starts_on: datetime.date, ends_on: datetime.date, number: str = "ROV-2027-1", **body) -> dict:
    """The decision of a ban enforced before it is final (with the reasons s. 143 asks), from `starts_on` to
    `ends_on`; with `enforced_before_final` False, a ban of that many days once final (`length_days`)."""
    dates: dict[str, Any] = {"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()}
    if body.get("enforced_before_final") is False:
        dates = {"length_days": (ends_on - starts_on).days + 1}
    else:
        dates["enforcement_reasons"] = ENFORCEMENT_REASONS
    return {
        "decision_number": number,
        "reasons": "Repeated disturbance in the reading room despite two warnings.",
        **dates,
        "contact_person": "Marjatta Ylitalo, kirjastotoimenjohtaja, 040 123 4567",
        **body,
    }


def decide(client: Client, ban_id: int, starts_on: datetime.date, ends_on: datetime.date, **body):
    return post(client, f"/api/v1/bans/{ban_id}/decision/", decision_body(starts_on, ends_on, **body))


def notify(client: Client, ban_id: int, sent_on: datetime.date, method: str = "in_person", **body):
    """POST the notice, sent to the party (and, for a minor, each guardian) the same day and way; an electronic
    one with each recipient's consent given in writing on the sending day (Act 13/2003 s. 19)."""
    consent = (
        {"electronic_consent_on": sent_on.isoformat(), "electronic_consent_how": "in_writing"}
        if method == "electronic"
        else {}
    )
    guardians = [
        {"guardian": guardian, "method": method, "sent_on": sent_on.isoformat(), **consent}
        for guardian in minors_guardians(ban_id, sent_on)
    ]
    body = {"method": method, "sent_on": sent_on.isoformat(), "guardians": guardians, **consent, **body}
    return post(client, f"/api/v1/bans/{ban_id}/notification/", body)


# The board's secretary records the board's rectification decisions: not the ban's decider (the director).
SECRETARY = "rovaniemi.secretary"
BOARD_DECISION = "Sivistyslautakunta 10.2.2027 § 12"
COURT = "Pohjois-Suomen hallinto-oikeus"


def rectification(client: Client, ban_id: int, lodged_on: datetime.date, outcome: str = "pending", **body):
    """POST a rectification request and its outcome (a decided one with the board's decision's reference)."""
    if outcome != "pending":
        body.setdefault("reference", BOARD_DECISION)
    body = {"lodged_on": lodged_on.isoformat(), "outcome": outcome, **body}
    return post(client, f"/api/v1/bans/{ban_id}/appeal/", body)


def rectification_notice(client: Client, ban_id: int, sent_on: datetime.date, method: str = "in_person"):
    """POST how and when the rectification decision was sent: the court appeal time runs from its receipt."""
    return post(
        client, f"/api/v1/bans/{ban_id}/rectification-notice/", {"method": method, "sent_on": sent_on.isoformat()}
    )


def court_appeal(client: Client, ban_id: int, lodged_on: datetime.date, outcome: str = "pending", **body):
    """POST an appeal to the administrative court and its outcome."""
    body = {"lodged_on": lodged_on.isoformat(), "court": COURT, "outcome": outcome, **body}
    return post(client, f"/api/v1/bans/{ban_id}/court-appeal/", body)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content
    return response.json()


def ban_through(
    patron_id: int,
    *,
    starts_on: datetime.date | None = None,
    length: int = 10,
    step: str = "notified",
    number: str = "ROV-2027-1",
    notification: str = "in_person",
    enforced_before_final: bool = True,
    note_ids: list[int] | None = None,
) -> dict:
    """A ban (from today, unless `starts_on`) run through the procedure today, up to `step`.

    `step` is proposed, heard, decided or notified; the patron is heard and the decision sent today.
    """
    staff, director = as_user("rovaniemi.staff"), as_user("rovaniemi.director")
    starts_on = starts_on or today_is()
    grounds = ["endangering_safety"] if note_ids else ["repeated_substantial_disturbance"]
    note_ids = note_ids or disturbance_notes(staff, patron_id)
    ban = ok(propose(staff, patron_id, note_ids, starts_on, length, grounds=grounds), 201)
    if step == "proposed":
        return ban
    today = today_is()
    ban = ok(hear(staff, ban["id"], today))
    if step == "heard":
        return ban
    ends_on = starts_on + days(length - 1)
    ban = ok(
        decide(director, ban["id"], starts_on, ends_on, number=number, enforced_before_final=enforced_before_final)
    )
    if step == "decided":
        return ban
    return ok(notify(staff, ban["id"], today, notification))


def ban_row(ban_id: int) -> dict:
    """Every stored field of a ban, with the notes it cites and its guardians' rows: a refused step must leave
    all of it as it was."""
    row: dict[str, Any] = dict(Ban.objects.filter(pk=ban_id).values().get())
    row["note_ids"] = sorted(Ban.objects.get(pk=ban_id).notes.values_list("pk", flat=True))
    row["guardians"] = list(BanGuardian.objects.filter(ban_id=ban_id).order_by("pk").values())
    return row


class NothingWritten:
    """`with NothingWritten(): <a refused request>` asserts no ban, note, prohibition or write event appeared."""

    def __enter__(self):
        self.before = self._counts()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert self._counts() == self.before

    @staticmethod
    def _counts() -> dict:
        return {
            "bans": Ban.objects.count(),
            "guardians": BanGuardian.objects.count(),
            "notes": Note.objects.count(),
            "prohibitions": AccessProhibition.objects.count(),
            # A refusal is an event too, a denied one; no write happened.
            "writes": AccessEvent.objects.filter(action=Action.PATRON_UPDATE, outcome=Outcome.ALLOWED).count(),
        }


def refused(response, rule: str) -> dict:
    """A 400 that names the broken rule."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["rule"] == rule, body
    assert body["code"] == rule and body["detail"]
    return body


def write_events_for(patron_id: int, after_id: int) -> list[AccessEvent]:
    events = AccessEvent.objects.filter(id__gt=after_id, action=Action.PATRON_UPDATE).order_by("id")
    return [event for event in events if patron_id in event.patron_ids]


def last_event_id() -> int:
    return AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
