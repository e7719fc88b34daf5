"""The DPO's refused forms show their errors where the eye is, as the staff pages do (issue 15): a summary at the
top of the admin's content, linking to each field, with the typed values kept."""

import re

import pytest

from dpo.models import RequestKind
from tests.conftest import client_for
from tests.dpo.test_erasure import subject_request
from tests.staff.test_error_summary import summary_of

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/dpo/subjectrequest/"
TYPED = "Pyyntö tuli kirjeitse."


def above_the_content(page: str, marker: str) -> bool:
    return page.index('class="error-summary"') < page.index(marker)


def test_a_wrong_card_number_on_the_erasure_page_is_summarised_at_the_top(lapland_patron):
    erasure = subject_request(lapland_patron)
    wrong = "1" + lapland_patron.cardnumber
    response = client_for("dpo").post(f"/admin/dpo/requests/{erasure.pk}/erase/", {"confirm": wrong})
    assert response.status_code == 400
    page = response.content.decode()
    summary = summary_of(page)
    assert 'href="#id_confirm"' in summary and 'tabindex="-1"' in summary
    assert above_the_content(page, 'class="module erasure-subject"')  # above the plan's tables
    assert re.search(rf'<input[^>]*name="confirm"[^>]*value="{wrong}"', page)  # the typed value is kept
    assert "js/error_summary.js" in page


def test_a_refused_request_step_is_summarised_at_the_top_with_its_text_kept(lapland_patron):
    access = subject_request(lapland_patron, kind=RequestKind.ACCESS)
    body = {"_step": "refusal", "refusal-ground": "", "refusal-details": TYPED}
    response = client_for("dpo").post(f"{CHANGELIST}{access.pk}/change/", body)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'href="#id_refusal-ground"' in summary_of(page)
    assert above_the_content(page, 'id="request-steps"')
    assert TYPED in page


def test_a_refused_record_form_is_summarised_at_the_top_with_its_values_kept(lapland_patron):
    body = {"patron": lapland_patron.pk, "kind": "erasure", "received_on": "2099-01-01", "requester_name": TYPED}
    response = client_for("dpo").post(f"{CHANGELIST}add/", body)
    page = response.content.decode()
    summary = summary_of(page)
    assert 'href="#id_identity_document"' in summary  # a field left empty, named by its label
    assert re.search(r'<a href="#id_identity_document">Henkilöllisyys tarkistettu asiakirjasta: [^<]+</a>', summary)
    assert above_the_content(page, 'id="subjectrequest_form"')
    assert TYPED in page and 'value="2099-01-01"' in page


def test_an_admin_page_without_a_refused_form_has_no_summary(lapland_patron):
    page = client_for("dpo").get(f"{CHANGELIST}add/").content.decode()
    assert "error-summary" not in page
