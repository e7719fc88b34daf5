"""The access report (GDPR Art. 15): everything held about a patron, as JSON, PDF and the DPO's page.

Requests are made with the model directly; the request API is tested with the request lifecycle.
"""

import datetime
import io

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from pypdf import PdfReader

from audit.models import AccessEvent, Action, DataCategory, Outcome
from audit.services import access_event_record
from bans.models import Ban
from dpo.models import FeeDecision, RefusalGround, SubjectRequest
from patrons.models import Guardianship, NoteCategory, Patron, RegisterMembership, Trusteeship
from patrons.services.notes import note_create, note_remove, note_update
from sotu_silo import crypto
from sotu_silo.models import IdentityCode
from staff.models import Consortium, Library, StaffProfile
from tests.bans.test_ban_decision_document import DECISION_NUMBER, actor_for, make_ban
from tests.conftest import client_for
from tests.factories import PatronFactory
from tests.patrons.procedure import on

pytestmark = pytest.mark.django_db

SENSITIVE_TEXT = "Tarvitsee isotekstisiä kirjoja ja lukutelineen."
FIRST_TEXT = "Palautti kirjat myöhässä."
EDITED_TEXT = "Palautti kirjat myöhässä, maksoi maksun."
REMOVED_TEXT = "Kirjattu väärälle asiakkaalle."


def make_request(patron: Patron, *, kind: str = "access") -> SubjectRequest:
    today = timezone.localdate()
    return SubjectRequest.objects.create(
        consortium_id=patron.consortium_id,
        patron_id=patron.pk,
        kind=kind,
        received_on=today,
        identity_document="passport",
        identity_verified_by="dpo",
        identity_verified_on=today,
        due_on=today + datetime.timedelta(days=30),
        recorded_at=timezone.now(),
        recorded_by="dpo",
    )


def urls(request_id: int) -> dict[str, str]:
    return {
        "json": f"/api/v1/subject-requests/{request_id}/report/",
        "pdf": f"/api/v1/subject-requests/{request_id}/report.pdf",
        "page": f"/admin/dpo/requests/{request_id}/report/",
    }


def report_of(request_id: int, client=None) -> dict:
    response = (client or client_for("dpo")).get(urls(request_id)["json"])
    assert response.status_code == 200, response.content
    return response.json()


def records(report: dict, key: str) -> list[dict[str, dict]]:
    """A section's records, each as {field: item}."""
    section = next(section for section in report["sections"] if section["key"] == key)
    return [{item["field"]: item for item in record["items"]} for record in section["records"]]


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def lapland() -> Consortium:
    return Consortium.objects.get(slug="lapin-kirjastot")


@pytest.fixture
def adult_with_code() -> tuple[Patron, str]:
    """A Lapland adult whose identity code the demo stored, and the code itself (read from the silo)."""
    eighteen_years_ago = timezone.localdate().replace(year=timezone.localdate().year - 18)
    adults = Patron.objects.filter(consortium=lapland(), date_of_birth__lt=eighteen_years_ago)
    row = IdentityCode.objects.filter(patron_id__in=list(adults.values_list("pk", flat=True))).first()
    patron = adults.get(pk=row.patron_id)
    patron.language = "fi"
    patron.save(update_fields=["language"])
    return patron, crypto.decrypt_row(row)


@pytest.fixture
def patron_without_code() -> Patron | None:
    coded = IdentityCode.objects.filter(consortium_id=lapland().pk).values_list("patron_id", flat=True)
    return Patron.objects.filter(consortium=lapland()).exclude(pk__in=list(coded)).first()


@pytest.fixture
def everything_held(adult_with_code):
    """The adult with notes of every kind, an archived ban decision, a ward, adult guardianship and registers."""
    patron, _code = adult_with_code
    staff = actor_for("rovaniemi.staff")
    note_create(actor=staff, patron_id=patron.pk, category=NoteCategory.ACCESSIBILITY, text=SENSITIVE_TEXT)
    edited = note_create(actor=staff, patron_id=patron.pk, category=NoteCategory.GENERAL, text=FIRST_TEXT)
    note_update(actor=staff, patron_id=patron.pk, note_id=edited.pk, text=EDITED_TEXT)
    removed = note_create(actor=staff, patron_id=patron.pk, category=NoteCategory.GENERAL, text=REMOVED_TEXT)
    note_remove(actor=staff, patron_id=patron.pk, note_id=removed.pk, reason="Wrong patron")
    ban = make_ban(patron)
    today = timezone.localdate()
    # The ban ended long ago and its decision went to the archive.
    Ban.objects.filter(pk=ban.pk).update(
        starts_on=today - datetime.timedelta(days=60),
        ends_on=today - datetime.timedelta(days=47),
        archived_at=timezone.now() - datetime.timedelta(days=40),
        retain_until=today + datetime.timedelta(days=600),
    )
    ward = Patron.objects.filter(consortium=lapland(), guardianships__isnull=True).exclude(pk=patron.pk).first()
    Guardianship.objects.create(ward=ward, guardian=patron, relationship="parent")
    Trusteeship.objects.create(
        patron=patron,
        guardian_name="Edunvalvoja Eeva Esimerkki",
        guardian_phone="040 765 4321",
        recorded_at=timezone.now(),
        recorded_by="rovaniemi.staff",
    )
    RegisterMembership.objects.create(
        patron=patron, register="newsletter", joined_on=datetime.date(2025, 3, 1), consent_on=datetime.date(2025, 3, 1)
    )
    return patron, ban, ward


def test_report_lists_everything_held_and_never_the_identity_code(adult_with_code, everything_held):
    patron, code = adult_with_code
    _patron, _ban, ward = everything_held
    subject_request = make_request(patron)
    client = client_for("dpo")

    response = client.get(urls(subject_request.pk)["json"])
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    report = response.json()
    assert report["language"] == "fi" and report["patron_id"] == patron.pk
    assert code not in response.content.decode()
    event = AccessEvent.objects.filter(action=Action.ACCESS_REPORT).latest("id")
    shown = {DataCategory.SENSITIVE_NOTE, DataCategory.TRUSTEESHIP, DataCategory.BAN_DECISION, DataCategory.REGISTERS}
    assert shown <= set(event.data_categories) and DataCategory.IDENTITY_CODE not in event.data_categories

    (record,) = records(report, "patron")
    assert record["cardnumber"]["value"] == patron.cardnumber
    assert record["cardnumber"]["label"] == "Kirjastokortin numero"  # labelled in the patron's language
    assert record["last_name"]["value"] == patron.last_name
    assert record["identity_code_stored"]["value"] is True and record["identity_code_stored"]["text"] == "Kyllä"
    assert report["identity_code_stored"] is True

    notes = records(report, "notes")
    texts = {note["text"]["value"] for note in notes if "text" in note}
    assert {SENSITIVE_TEXT, EDITED_TEXT} <= texts
    assert FIRST_TEXT in {revision["text"]["value"] for revision in records(report, "note_revisions")}
    assert REMOVED_TEXT not in response.content.decode()
    (removal,) = [note for note in notes if "removed_at" in note]
    assert "text" not in removal and removal["removal_reason"]["value"] == "Wrong patron"
    assert any(note["sensitive"]["value"] and note["text"]["value"] == SENSITIVE_TEXT for note in notes)

    (archived,) = [record for record in records(report, "bans") if record.get("decision_number")]
    assert archived["decision_number"]["value"] == DECISION_NUMBER
    assert archived["status"]["value"] == "ended" and "archived_at" in archived

    assert [ward_record["name"]["value"] for ward_record in records(report, "wards")] == [
        f"{ward.first_name} {ward.last_name}"
    ]
    (trusteeship,) = records(report, "trusteeship")
    assert trusteeship["guardian_name"]["value"] == "Edunvalvoja Eeva Esimerkki"
    (membership,) = records(report, "registers")
    assert membership["register"]["value"] == "newsletter" and membership["consent_on"]["value"] == "2025-03-01"

    page = client.get(urls(subject_request.pk)["page"])
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    html = page.content.decode()
    # The document's own inline style is allowed by the page's nonce, and only there.
    assert "'nonce-" in page["Content-Security-Policy"] and '<style nonce="' in html
    assert SENSITIVE_TEXT in html and DECISION_NUMBER in html and code not in html
    pdf = client.get(urls(subject_request.pk)["pdf"])
    text = pdf_text(pdf.content)
    assert SENSITIVE_TEXT in text and patron.cardnumber in text and code not in text


def test_a_minors_report_names_the_guardians(lapland_patron):
    report = report_of(make_request(lapland_patron).pk)
    guardians = Guardianship.objects.filter(ward=lapland_patron).select_related("guardian")
    assert sorted(record["name"]["value"] for record in records(report, "guardians")) == sorted(
        f"{link.guardian.first_name} {link.guardian.last_name}" for link in guardians
    )
    assert {record["relationship"]["value"] for record in records(report, "guardians")} <= {"parent", "guardian"}


def test_identity_code_not_stored_says_no(patron_without_code):
    patron_without_code.language = "fi"
    patron_without_code.save(update_fields=["language"])
    report = report_of(make_request(patron_without_code).pk)
    (record,) = records(report, "patron")
    assert record["identity_code_stored"]["value"] is False and record["identity_code_stored"]["text"] == "Ei"
    assert report["identity_code_stored"] is False


def test_access_log_shows_role_and_library_and_names_staff_only_by_setting(settings, lapland_patron):
    assert client_for("rovaniemi.staff").get(f"/api/v1/patrons/{lapland_patron.pk}/").status_code == 200
    subject_request = make_request(lapland_patron)
    settings.ACCESS_REPORT_STAFF_NAMES = False
    response = client_for("dpo").get(urls(subject_request.pk)["json"])
    events = records(response.json(), "access_log")
    staff_view = [e for e in events if e["action"]["value"] == Action.PATRON_VIEW and e["role"]["value"] == ["staff"]]
    assert staff_view, events
    rovaniemi_library = StaffProfile.objects.get(user__username="rovaniemi.staff").home_library
    assert staff_view[-1]["library"]["value"] == rovaniemi_library.name
    assert staff_view[-1]["municipality"]["value"] == "Rovaniemi"
    assert DataCategory.BASIC in staff_view[-1]["data_categories"]["value"]
    assert staff_view[-1]["outcome"]["value"] == Outcome.ALLOWED
    assert "username" not in staff_view[-1]
    assert "rovaniemi.staff" not in response.content.decode() and "Kallio" not in response.content.decode()
    page = client_for("dpo").get(urls(subject_request.pk)["page"]).content.decode()
    assert "rovaniemi.staff" not in page

    settings.ACCESS_REPORT_STAFF_NAMES = True
    events = records(report_of(subject_request.pk), "access_log")
    named = [e for e in events if e["role"]["value"] == ["staff"]][-1]
    assert named["username"]["value"] == "rovaniemi.staff" and named["name"]["value"] == "Sanna Kallio"
    assert "rovaniemi.staff" in client_for("dpo").get(urls(subject_request.pk)["page"]).content.decode()


def test_the_report_is_an_access_report_event_listed_in_the_next_report(lapland_patron):
    subject_request = make_request(lapland_patron)
    report_of(subject_request.pk)
    event = AccessEvent.objects.order_by("-id").first()
    assert event.action == Action.ACCESS_REPORT and event.outcome == Outcome.ALLOWED
    assert lapland_patron.pk in event.patron_ids and event.actor_username == "dpo"
    assert {DataCategory.BASIC, DataCategory.GUARDIANS, DataCategory.ACCESS_LOG} <= set(event.data_categories)
    assert event.detail == f"request:{subject_request.pk}"
    # The next report shows that read: by the DPO, of the Lapland consortium.
    reads = [e for e in records(report_of(subject_request.pk), "access_log") if e["action"]["value"] == "access_report"]
    assert reads and reads[-1]["role"]["value"] == ["dpo"]


def test_first_report_records_when_and_in_which_language(lapland_patron):
    lapland_patron.language = "en"
    lapland_patron.save(update_fields=["language"])
    subject_request = make_request(lapland_patron)
    first = report_of(subject_request.pk)
    subject_request.refresh_from_db()
    assert subject_request.report_made_at is not None and subject_request.report_language == "en"
    assert records(first, "patron")[0]["cardnumber"]["label"] == "Card number"
    made_at = subject_request.report_made_at
    report_of(subject_request.pk)  # a reprint keeps the date of the first report
    subject_request.refresh_from_db()
    assert subject_request.report_made_at == made_at


def test_a_later_report_is_flagged_as_a_repeat_however_old_the_first(lapland_patron):
    """No yearly window any more (GDPR Art. 12(5), 15(3)): the DPO sees any earlier report; the copy stays free."""
    start = datetime.date(2027, 2, 1)
    with on(start):
        first = make_request(lapland_patron)
        report = report_of(first.pk)
        assert report["repeat"] is False and report["previous_report"] is None
    with on(start + datetime.timedelta(days=90)):
        second = make_request(lapland_patron)
        report = report_of(second.pk)
        assert report["repeat"] is True
        assert report["previous_report"]["request_id"] == first.pk
        page = client_for("dpo").get(urls(second.pk)["page"]).content.decode()
        assert "Not the patron's first report." in page  # the DPO sees it; the PDF does not
        assert "first report" not in pdf_text(client_for("dpo").get(urls(second.pk)["pdf"]).content)
    second.refresh_from_db()
    assert (second.previous_report_id, second.fee_decision) == (first.pk, "")
    with on(datetime.date(2028, 5, 3)):  # 15 months after the second report: still a repeat
        third = make_request(lapland_patron)
        assert report_of(third.pk)["previous_report"]["request_id"] == second.pk
    # A refused request gave the patron nothing: it is not an earlier copy.
    SubjectRequest.objects.filter(pk=third.pk).update(
        fee_decision=FeeDecision.REFUSED, refusal_ground=RefusalGround.MANIFESTLY_UNFOUNDED
    )
    with on(datetime.date(2028, 6, 1)):
        fourth = make_request(lapland_patron)
        assert report_of(fourth.pk)["previous_report"]["request_id"] == second.pk


def test_only_a_report_made_of_a_request_not_refused_is_an_earlier_copy(lapland_patron):
    with on(datetime.date(2027, 3, 10)):
        never_reported = make_request(lapland_patron)  # recorded, but its report was never made
        refused = make_request(lapland_patron)
        report_of(refused.pk)
    SubjectRequest.objects.filter(pk=refused.pk).update(refusal_ground=RefusalGround.MANIFESTLY_UNFOUNDED)
    with on(datetime.date(2028, 3, 10)):
        first_copy = make_request(lapland_patron)
        assert report_of(first_copy.pk)["previous_report"] is None
    assert never_reported.pk not in {r.previous_report_id for r in SubjectRequest.objects.all()}


def test_pdf_is_in_finnish_for_a_finnish_patron(lapland_patron):
    lapland_patron.language = "fi"
    lapland_patron.save(update_fields=["language"])
    subject_request = make_request(lapland_patron)
    response = client_for("dpo").get(urls(subject_request.pk)["pdf"], HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="access-report-{subject_request.pk}.pdf"'
    assert "no-store" in response["Cache-Control"] and response["Content-Language"] == "fi"
    text = pdf_text(response.content)
    assert "Kirjastokortin numero" in text and "Etunimi" in text and "Syntymäaika" in text
    assert lapland_patron.cardnumber in text and lapland_patron.last_name in text


@pytest.fixture
def eslov_dpo():
    """The Eslöv consortium's data protection officer, talking from Eslöv's network."""
    user = get_user_model().objects.create_user("eslov.dpo", password="kirjasto-demo-2026")
    user.groups.add(Group.objects.get(name="dpo"))
    StaffProfile.objects.create(
        user=user,
        home_library=Library.objects.get(koha_library_id="ESL"),
        confidentiality_signed_on=datetime.date(2026, 1, 5),
    )
    return client_for("eslov.dpo", address="10.40.2.6")


def test_pdf_is_in_swedish_for_an_eslov_patron(eslov_patron, eslov_dpo):
    eslov_patron.language = "sv"
    eslov_patron.save(update_fields=["language"])
    subject_request = make_request(eslov_patron)
    response = eslov_dpo.get(urls(subject_request.pk)["pdf"])
    assert response.status_code == 200 and response["Content-Language"] == "sv"
    text = pdf_text(response.content)
    assert "Lånekortsnummer" in text and "Förnamn" in text and "Födelsedatum" in text
    assert "Kirjastokortin numero" not in text
    assert eslov_patron.cardnumber in text
    # The Lapland DPO does not find Eslöv's request.
    assert client_for("dpo").get(urls(subject_request.pk)["json"]).status_code == 404


@pytest.mark.parametrize("role", ["rovaniemi.staff", "rovaniemi.billing", "rovaniemi.director", "kemi.staff"])
def test_only_the_dpo_gets_the_report(role, lapland_patron):
    subject_request = make_request(lapland_patron)
    for kind, url in urls(subject_request.pk).items():
        assert client_for(role).get(url).status_code == 403, kind
    assert client_for(None).get(urls(subject_request.pk)["json"]).status_code == 403
    assert client_for(None).get(urls(subject_request.pk)["pdf"]).status_code == 403
    assert client_for(None).get(urls(subject_request.pk)["page"]).status_code == 302
    subject_request.refresh_from_db()
    assert subject_request.report_made_at is None


def test_another_consortiums_request_is_not_found(mikkeli_patron):
    subject_request = make_request(mikkeli_patron)
    for kind, url in urls(subject_request.pk).items():
        assert client_for("dpo").get(url).status_code == 404, kind
    event = AccessEvent.objects.order_by("-id").first()
    assert (event.action, event.outcome, event.detail, event.patron_ids) == (
        Action.ACCESS_REPORT,
        Outcome.DENIED,
        "not_found",
        [],
    )
    subject_request.refresh_from_db()
    assert subject_request.report_made_at is None


def test_a_request_of_another_kind_has_no_report(lapland_patron):
    subject_request = make_request(lapland_patron, kind="erasure")
    response = client_for("dpo").get(urls(subject_request.pk)["json"])
    assert response.status_code == 400 and response.json()["rule"] == "not_access_request"
    assert client_for("dpo").get(urls(subject_request.pk)["page"]).status_code == 404
    assert not AccessEvent.objects.filter(action=Action.ACCESS_REPORT, detail=f"request:{subject_request.pk}").exists()


def test_an_erased_patrons_request_answers_patron_erased(lapland_patron):
    subject_request = make_request(lapland_patron)
    gone = Patron.objects.order_by("-pk").first().pk + 1000
    SubjectRequest.objects.filter(pk=subject_request.pk).update(patron_id=gone)
    response = client_for("dpo").get(urls(subject_request.pk)["json"])
    assert response.status_code == 404 and response.json()["code"] == "patron_erased"
    assert client_for("dpo").get(urls(subject_request.pk)["pdf"]).json()["code"] == "patron_erased"
    assert client_for("dpo").get(urls(subject_request.pk)["page"]).status_code == 404


def test_a_breach_that_concerned_the_patron_is_in_their_report(lapland_patron):
    from dpo.models import Breach

    other = Patron.objects.filter(consortium=lapland()).exclude(pk=lapland_patron.pk).first()
    now = timezone.now()
    Breach.objects.create(
        consortium=lapland(),
        aware_at=now - datetime.timedelta(days=3),
        description="A reminder list with names and due dates was sent to the wrong address.",
        consequences="Others may have seen that you had overdue loans.",
        measures="The recipient confirmed deleting the message.",
        authority_deadline=now + datetime.timedelta(hours=24),
        affected_patron_ids=[lapland_patron.pk],
        recorded_at=now,
        recorded_by="dpo",
    )
    concerned = records(report_of(make_request(lapland_patron).pk), "breaches")
    assert [record["description"]["text"] for record in concerned] == [
        "A reminder list with names and due dates was sent to the wrong address."
    ]
    assert concerned[0]["measures"]["text"] == "The recipient confirmed deleting the message."
    assert records(report_of(make_request(other).pk), "breaches") == []


# --- A normal year, grouped -----------------------------------------------------------------------------------

# A busy patron's year: staff open the record on 60 days, about five times a day, and billing looks once a month.
YEAR_DAYS = 60
READS_A_DAY = 5


def a_year_of_reads(patron: Patron) -> int:
    staff, billing = actor_for("rovaniemi.staff"), actor_for("rovaniemi.billing")
    start = timezone.now() - datetime.timedelta(days=365)
    written = 0
    for day in range(YEAR_DAYS):
        with time_machine.travel(start + datetime.timedelta(days=day * 6, hours=10), tick=False):
            for read in range(READS_A_DAY):
                categories = [DataCategory.LISTING] if read % 2 else [DataCategory.BASIC, DataCategory.CONTACT]
                access_event_record(
                    actor=staff, action=Action.PATRON_VIEW, patron_ids=[patron.pk], data_categories=categories
                )
                written += 1
            if day % 5 == 0:
                access_event_record(
                    actor=billing,
                    action=Action.IDENTITY_CODE_REVEAL,
                    patron_ids=[patron.pk],
                    data_categories=[DataCategory.IDENTITY_CODE],
                    reason="lasku",
                )
                written += 1
    return written


def test_a_normal_years_report_groups_the_log_by_day_and_role_with_every_event_in_an_appendix():
    patron = PatronFactory(home_library=Library.objects.get(koha_library_id="ROV"))
    written = a_year_of_reads(patron)
    assert written >= 300
    subject_request = make_request(patron)

    report = report_of(subject_request.pk)

    summary = report["access_summary"]["rows"]
    # One row a day and role, not one an event; the counts add up to the log.
    assert len(summary) == YEAR_DAYS + YEAR_DAYS // 5
    log = records(report, "access_log")
    assert len(log) >= written and sum(row["events"] for row in summary) == len(log)
    first = summary[0]
    assert (first["role"], first["events"]) == ("Kirjaston henkilökunta", READS_A_DAY)
    assert {(count["code"], count["events"]) for count in first["categories"]} == {
        (DataCategory.LISTING, 2),
        (DataCategory.BASIC, 3),
        (DataCategory.CONTACT, 3),
    }
    assert [(column["code"], column["events"]) for column in report["access_summary"]["columns"]] == [
        (DataCategory.LISTING, 2 * YEAR_DAYS),
        (DataCategory.BASIC, 3 * YEAR_DAYS),
        (DataCategory.CONTACT, 3 * YEAR_DAYS),
        (DataCategory.IDENTITY_CODE, YEAR_DAYS // 5),
    ]

    pdf = client_for("dpo").get(urls(subject_request.pk)["pdf"])
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf.content)).pages]
    grouped = next(number for number, text in enumerate(pages, 1) if "Kuka on käsitellyt tietojasi" in text)
    appendix = next(number for number, text in enumerate(pages, 1) if "Liite:" in text)
    # The grouped log takes two pages at most and the report a few; the appendix with every event is the rest.
    assert appendix - grouped <= 2 and appendix <= 5 < len(pages), (grouped, appendix, len(pages))
    assert "Oikeutesi" in pages[appendix - 2]
