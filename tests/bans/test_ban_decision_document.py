"""The printable decision of a library-use ban (Administrative Procedure Act 434/2003 s. 44) with its
rectification-request instructions (Local Government Act 410/2015), in Finnish and Swedish, HTML and PDF."""

import datetime
import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from audit.actor import Actor
from audit.models import AccessEvent, Action, Outcome
from bans.decision_document import decision_context, decision_filename, decision_pdf
from bans.models import Ban, BanStatus
from bans.services import ban_decide, ban_hearing_record, ban_notification_record, ban_propose
from patrons.models import Guardianship
from patrons.services.notes import note_create
from staff.models import StaffProfile
from tests.conftest import client_for
from tests.patrons.procedure import ENFORCEMENT_REASONS, MATERIAL, on

pytestmark = pytest.mark.django_db

DECISION_NUMBER = "Kirjasto 17/2026"
CONTACT_PERSON = "Kirjastonjohtaja Marjatta Ylitalo, puh. 040 123 4567"
STATEMENT = "Myönnän, että puhuin äänekkäästi lukusalissa."
REASONS = "Käyttäjä on häirinnyt muita asiakkaita lukusalissa kolmena päivänä huomautuksista huolimatta."


def actor_for(username: str) -> Actor:
    profile = StaffProfile.objects.select_related("user", "home_library__municipality").get(user__username=username)
    return Actor(
        user_id=profile.user_id,
        username=username,
        municipality_id=profile.municipality_id,
        consortium_id=profile.consortium_id,
        client_ip=None,
    )


def make_ban(patron, *, library="ROV", number=DECISION_NUMBER, statement=STATEMENT, waived="", notify=True):
    """A ban through the procedure: behaviour notes, proposal, hearing (the minor's guardians too), decision
    and (optionally) notification. Without a statement the decision waits for the day after the time to answer."""
    staff, director = actor_for("rovaniemi.staff"), actor_for("rovaniemi.director")
    today = timezone.localdate()
    notes = [
        note_create(
            actor=staff,
            patron_id=patron.pk,
            category="behaviour",
            text="Disturbed other patrons in the reading room.",
            library=library,
            incident_on=today - datetime.timedelta(days=days_ago),
        )
        for days_ago in (0, 1)
    ]
    starts_on = today if statement or waived else today + datetime.timedelta(days=1)
    ends_on = starts_on + datetime.timedelta(days=13)
    ban = ban_propose(
        actor=staff,
        patron_id=patron.pk,
        library=library,
        grounds=["repeated_substantial_disturbance", "endangering_safety"],
        note_ids=[note.pk for note in notes],
        starts_on=starts_on,
        ends_on=ends_on,
    )
    guardians = list(Guardianship.objects.filter(ward=patron).values_list("guardian_id", flat=True))
    if waived:
        ban_hearing_record(actor=staff, ban_id=ban.pk, waiver_ground="would_endanger_purpose", waived_reason=waived)
    else:
        ban_hearing_record(
            actor=staff,
            ban_id=ban.pk,
            heard_on=today,
            method="phone",
            statement=statement,
            answer_by=today,
            material_shown=MATERIAL,
            guardians=[
                {"guardian": guardian, "heard_on": today, "method": "phone", "statement": statement or ""}
                for guardian in guardians
            ],
        )
    with on(starts_on):
        ban = ban_decide(
            actor=director,
            ban_id=ban.pk,
            decision_number=number,
            reasons=REASONS,
            starts_on=starts_on,
            ends_on=ends_on,
            enforcement_reasons=ENFORCEMENT_REASONS,
            contact_person=CONTACT_PERSON,
        )
        if notify:
            notices = [{"guardian": guardian, "method": "letter", "sent_on": starts_on} for guardian in guardians]
            ban = ban_notification_record(
                actor=staff, ban_id=ban.pk, method="letter", sent_on=starts_on, guardians=notices
            )
    return ban


@pytest.fixture
def ban(lapland_patron):
    return make_ban(lapland_patron)


def html_of(response) -> str:
    """The page with its whitespace collapsed, as a reader sees the sentences."""
    assert response.status_code == 200, response.status_code
    return " ".join(response.content.decode().split())


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_finnish_decision_states_what_the_law_asks(ban, lapland_patron):
    html = html_of(client_for("rovaniemi.director").get(f"/bans/{ban.pk}/decision/fi/"))
    assert DECISION_NUMBER in html
    assert "VIRANHALTIJAPÄÄTÖS" in html
    assert "Rovaniemen kaupunki, Rovaniemen pääkirjasto" in html  # the deciding authority: the official name
    assert ban.decider_name and ban.decider_name in html
    assert f"{lapland_patron.first_name} {lapland_patron.last_name}" in html
    assert f"syntynyt {lapland_patron.date_of_birth:%d.%m.%Y}" in html
    assert f"{ban.starts_on:%d.%m.%Y}\N{EN DASH}{ban.ends_on:%d.%m.%Y} (14 päivää)" in html
    assert "on toistuvasti ja olennaisesti häirinnyt kirjaston käyttöä" in html
    # The statute's test as written: one ground "repeatedly and substantially", then the other alternatives.
    assert "jos hän toistuvasti ja olennaisesti häiritsee kirjaston käyttöä, vaarantaa turvallisuutta" in html
    assert "on vaarantanut kirjaston turvallisuutta" in html
    assert REASONS in html
    assert f"kuultiin puhelimitse {ban.heard_on:%d.%m.%Y}, ja selityksen sai antaa {ban.answer_by:%d.%m.%Y}" in html
    assert f"Asianosaiselle esitetty aineisto: {MATERIAL}" in html
    assert STATEMENT in html
    # The party is 12: the guardians heard and notified, named in the decision (Administrative Procedure Act s. 14).
    for link in lapland_patron.guardianships.select_related("guardian"):
        name = f"{link.guardian.first_name} {link.guardian.last_name}"
        assert f"huoltajaa {name} kuultiin puhelimitse" in html
        assert f"Päätös on annettu tiedoksi huoltajalle {name} kirjeellä" in html
        assert f"Huoltaja {name}" in html  # the distribution list
    assert "Laki yleisistä kirjastoista (1492/2016, kirjastolaki) 15 §" in html
    assert "Hallintolaki (434/2003) 34 §" in html
    assert "ennen kuin se on saanut lainvoiman (kuntalaki 410/2015 143 §)" in html
    assert CONTACT_PERSON in html
    # The attached rectification-request instructions.
    assert "Oikaisuvaatimusohje" in html and "oikaisuvaatimus" in html
    # The rectification body and where to send the request (Administrative Procedure Act s. 49 b).
    assert "Rovaniemen kaupunki, Sivistyslautakunta" in html
    assert "osoitteeseen: Rovaniemen kaupungin kirjaamo, PL 8216, 96101 Rovaniemi" in html
    assert "sähköposti kirjaamo@rovaniemi.example.fi" in html and "Kirjaamo on avoinna ma-pe 9-15" in html
    assert "14 päivän kuluessa päätöksen tiedoksisaannista" in html
    assert "seitsemäntenä päivänä kirjeen" in html and "kolmantena päivänä sähköisen viestin" in html
    assert f"tiedon {ban.deemed_received_on:%d.%m.%Y}" in html
    assert f"Oikaisuvaatimusaika päättyy {ban.appeal_deadline:%d.%m.%Y}" in html
    assert "allekirjoitettava" in html


def test_swedish_decision(ban, lapland_patron):
    html = html_of(client_for("rovaniemi.director").get(f"/bans/{ban.pk}/decision/sv/"))
    assert '<html lang="sv">' in html
    assert "TJÄNSTEINNEHAVARBESLUT" in html and DECISION_NUMBER in html
    assert "Anvisning för begäran om omprövning" in html and "omprövning" in html
    assert "har upprepade gånger och väsentligt stört användningen av biblioteket" in html
    assert "upprepade gånger och väsentligt stör användningen av biblioteket, äventyrar säkerheten" in html
    assert "Lagen om allmänna bibliotek (1492/2016, bibliotekslagen) 15 §" in html
    assert "Förvaltningslagen (434/2003) 34 §" in html
    assert "inom 14 dagar från delfåendet" in html
    assert f"går ut den {ban.appeal_deadline:%d.%m.%Y}" in html
    assert f"{lapland_patron.first_name} {lapland_patron.last_name}" in html
    for link in lapland_patron.guardianships.select_related("guardian"):
        assert f"vårdnadshavare {link.guardian.first_name} {link.guardian.last_name} hördes per telefon" in html
    assert CONTACT_PERSON in html
    assert "Rovaniemi stad, Rovaniemen pääkirjasto" in html  # the authority, by its Swedish official name
    assert "Rovaniemi stad, Bildningsnämnden" in html
    assert "till adressen: Rovaniemen kaupungin kirjaamo, PL 8216, 96101 Rovaniemi" in html
    # No Finnish wording leaks into the Swedish document.
    assert "Oikaisuvaatimus" not in html and "päivää" not in html


def test_pdf(ban, lapland_patron):
    response = client_for("rovaniemi.director").get(f"/bans/{ban.pk}/decision/fi.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    disposition = response["Content-Disposition"]
    assert disposition == 'inline; filename="paatos-Kirjasto-17-2026.pdf"'
    assert lapland_patron.last_name not in disposition and lapland_patron.first_name not in disposition
    assert "no-store" in response["Cache-Control"]
    text = pdf_text(response.content)
    assert DECISION_NUMBER in text
    assert "Oikaisuvaatimusohje" in text
    assert "Sivu 1 (" in text  # the page counter


def test_swedish_pdf(ban, lapland_patron):
    response = client_for("rovaniemi.director").get(f"/bans/{ban.pk}/decision/sv.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == 'inline; filename="beslut-Kirjasto-17-2026.pdf"'
    text = pdf_text(response.content)
    assert "Anvisning för begäran om omprövning" in text
    assert lapland_patron.last_name not in response["Content-Disposition"]


def test_staff_read_the_decision_while_the_ban_is_in_force(ban):
    client = client_for("rovaniemi.staff")
    assert DECISION_NUMBER in html_of(client.get(f"/bans/{ban.pk}/decision/fi/"))
    response = client.get(f"/bans/{ban.pk}/decision/fi.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_another_consortium_gets_404(ban):
    client = client_for("mikkeli.staff")
    assert client.get(f"/bans/{ban.pk}/decision/fi/").status_code == 404
    assert client.get(f"/bans/{ban.pk}/decision/fi.pdf").status_code == 404
    # Each refusal is a denied access event (it must survive the selector's rolled-back transaction).
    denied = AccessEvent.objects.filter(actor_username="mikkeli.staff", outcome=Outcome.DENIED, detail="not_found")
    assert denied.count() == 2


def test_anonymous_is_sent_to_log_in(ban):
    response = client_for(None).get(f"/bans/{ban.pk}/decision/fi/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_only_finnish_and_swedish(ban):
    client = client_for("rovaniemi.director")
    assert client.get(f"/bans/{ban.pk}/decision/en/").status_code == 404
    assert client.get(f"/bans/{ban.pk}/decision/en.pdf").status_code == 404
    with pytest.raises(ValueError):
        decision_context(ban, "en")
    with pytest.raises(ValueError):
        decision_filename(ban, "en")


def test_no_decision_document_before_the_decision(lapland_patron):
    ban = make_ban(lapland_patron, notify=False)
    # Back to "heard": proposed and heard, not decided (the services cannot undo a decision).
    Ban.objects.filter(pk=ban.pk).update(status=BanStatus.HEARD, decided_on=None, decision_number="")
    for username in ("rovaniemi.director", "rovaniemi.staff", "dpo"):
        client = client_for(username)
        assert client.get(f"/bans/{ban.pk}/decision/fi/").status_code == 404, username
        assert client.get(f"/bans/{ban.pk}/decision/fi.pdf").status_code == 404, username


def test_decided_but_not_yet_notified(lapland_patron):
    ban = make_ban(lapland_patron, notify=False)
    html = html_of(client_for("rovaniemi.director").get(f"/bans/{ban.pk}/decision/fi/"))
    assert "14 päivän kuluessa" in html
    assert "Oikaisuvaatimusaika päättyy" not in html  # no notification recorded yet


def test_no_statement_and_waived_hearing(lapland_patron):
    silent = make_ban(lapland_patron, statement="")
    html = html_of(client_for("rovaniemi.director").get(f"/bans/{silent.pk}/decision/fi/"))
    assert "Asianosainen ei antanut selitystä." in html
    html = html_of(client_for("rovaniemi.director").get(f"/bans/{silent.pk}/decision/sv/"))
    assert "Parten lämnade ingen förklaring." in html

    waived = make_ban(
        lapland_patron,
        library="ROVMU",
        number="Kirjasto 18/2026",
        waived="Kuuleminen olisi vaarantanut päätöksen tarkoituksen.",
    )
    html = html_of(client_for("rovaniemi.director").get(f"/bans/{waived.pk}/decision/fi/"))
    assert "Asianosaista ei ole kuultu" in html
    assert "(hallintolaki 434/2003 34 §:n 2 momentti): kuuleminen saattaisi vaarantaa päätöksen tarkoituksen" in html
    assert "Kuuleminen olisi vaarantanut päätöksen tarkoituksen." in html
    assert "Muurolan kirjasto" in html


def test_every_read_is_an_access_event(ban):
    reads = [
        ("rovaniemi.director", f"/bans/{ban.pk}/decision/fi/", Action.BAN_ARCHIVE_VIEW, "bans:decision"),
        ("rovaniemi.director", f"/bans/{ban.pk}/decision/sv.pdf", Action.BAN_ARCHIVE_VIEW, "bans:decision-pdf"),
        ("dpo", f"/bans/{ban.pk}/decision/fi.pdf", Action.BAN_ARCHIVE_VIEW, "bans:decision-pdf"),
        ("rovaniemi.staff", f"/bans/{ban.pk}/decision/fi/", Action.PATRON_VIEW, "bans:decision"),
    ]
    for username, path, action, resource in reads:
        client = client_for(username)
        before = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        assert client.get(path).status_code == 200, (username, path)
        events = list(AccessEvent.objects.filter(id__gt=before))
        assert len(events) == 1, (username, path, events)
        event = events[0]
        assert (event.actor_username, event.action, event.outcome, event.resource) == (
            username,
            action,
            Outcome.ALLOWED,
            resource,
        )
        assert event.patron_ids == [ban.patron_id]
        assert event.detail == f"ban:{ban.pk}"
        assert "ban_decision" in event.data_categories


def test_the_decision_page_allows_its_own_inline_style_by_nonce(ban):
    """Under `style-src 'self'` a browser would drop the document's inline CSS; the page's nonce lets it in."""
    response = client_for("rovaniemi.director").get(f"/bans/{ban.pk}/decision/fi/")
    nonce = response["Content-Security-Policy"].split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'<style nonce="{nonce}">' in html_of(response)
    # Everywhere else the policy stays strict.
    other = client_for("rovaniemi.director").get("/patrons/")
    assert "'nonce-" not in other["Content-Security-Policy"].split("style-src", 1)[1].split(";", 1)[0]


@pytest.mark.parametrize(
    ("language", "distribution", "attachment"),
    [("fi", "Jakelu", "Liite viranhaltijapäätökseen"), ("sv", "Sändlista", "Bilaga till tjänsteinnehavarbeslut")],
)
def test_the_signature_never_sits_alone_on_a_page(ban, language, distribution, attachment):
    """Reasons of every length a page can end at: the decision's last page, the one signed, also holds the
    paragraph before the signature (the distribution list), so a signature never stands on a page of its own."""
    for extra_lines in range(0, 56, 4):
        ban.reasons = "\n\n".join([REASONS, *(f"{n}." for n in range(extra_lines))])
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(decision_pdf(ban, language, "/"))).pages]
        signed = pages[next(number for number, text in enumerate(pages) if attachment in text) - 1]
        assert ban.decider_name in signed and distribution in signed, (extra_lines, signed)
