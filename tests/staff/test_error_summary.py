"""A refused form shows its errors where the eye is: a summary at the top of the page linking to each field,
the typed values kept, each field's own error next to it (GOV.UK's error summary pattern, issue 15)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import client_for

pytestmark = pytest.mark.django_db
NOTE_TEXT = "Unohti kirjastokorttinsa tiskille."


def summary_of(page: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert match, "no error summary on the refused page"
    return match.group(0)


def test_a_refused_note_keeps_its_text_and_links_the_summary_to_the_field(lapland_patron):
    client = client_for("rovaniemi.staff")
    body = {"category": "general", "text": NOTE_TEXT, "library": "ROV", "incident_on": ""}
    response = client.post(f"/patrons/{lapland_patron.pk}/notes/", body)
    assert response.status_code == 400
    page = response.content.decode()
    summary = summary_of(page)
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary
    assert 'href="#id_incident_on"' in summary
    assert page.index("error-summary") < page.index('id="notes"')  # at the top, above the form
    assert NOTE_TEXT in page  # the typed text is kept
    field = re.search(r'<input[^>]*id="id_incident_on"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="id_incident_on_error"' in field
    assert 'id="id_incident_on_error"' in page


def test_a_form_wide_error_links_to_the_forms_first_field(lapland_patron):
    client = client_for("rovaniemi.staff")
    body = {"category": "general", "text": NOTE_TEXT, "library": "ROV", "incident_on": "2099-01-01"}
    response = client.post(f"/patrons/{lapland_patron.pk}/notes/", body)
    assert response.status_code == 400
    assert 'href="#id_category"' in summary_of(response.content.decode())


def test_a_page_without_a_refused_form_has_no_summary(lapland_patron):
    page = client_for("rovaniemi.staff").get(f"/patrons/{lapland_patron.pk}/").content.decode()
    assert "error-summary" not in page


def test_messages_say_their_kind_in_words_not_only_in_colour(lapland_patron):
    client = client_for("rovaniemi.staff")
    body = {"category": "general", "text": NOTE_TEXT, "library": "ROV", "incident_on": "2026-01-05"}
    response = client.post(f"/patrons/{lapland_patron.pk}/notes/", body, follow=True)
    page = response.content.decode()
    assert re.search(r'<div class="message message-success" role="status">', page)
    assert 'class="message-icon" aria-hidden="true"' in page


def test_an_empty_note_is_refused_by_the_server_with_the_summary(lapland_patron):
    """The form has novalidate, so the browser sends an empty required field instead of showing its own bubble in
    its own language; the server's answer is the summary, in the page's language."""
    client = client_for("rovaniemi.staff")
    page = client.get(f"/patrons/{lapland_patron.pk}/").content.decode()
    assert re.search(r'<form method="post" action="[^"]*/notes/" novalidate>', page)
    body = {"category": "general", "text": "", "library": "ROV", "incident_on": "2026-01-05"}
    response = client.post(f"/patrons/{lapland_patron.pk}/notes/", body)
    assert response.status_code == 400
    assert 'href="#id_text"' in summary_of(response.content.decode())


def test_every_form_of_the_pages_leaves_its_checks_to_the_server():
    """Every posted form carries novalidate (the header's log-out and language buttons have nothing to check)."""
    templates = Path(settings.BASE_DIR) / "templates"
    header = ("{% url 'logout' %}", "{% url 'set_language' %}")
    validated = [
        f"{path.relative_to(templates)}: {tag}"
        for path in sorted(templates.rglob("*.html"))
        for tag in re.findall(r"<form\b[^>]*>", path.read_text(), re.S)
        if 'method="post"' in tag and "novalidate" not in tag and not any(action in tag for action in header)
    ]
    assert validated == []
