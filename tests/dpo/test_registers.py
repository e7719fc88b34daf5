"""Register descriptions (Art. 30) and the public privacy notice generated from them.

The notice is public: anyone, from any network, reads it in their language without logging in. The
descriptions are the DPO's, kept in the admin for their own consortium and listed in the API.
"""

import html

import pytest
from django.conf import settings
from django.core.management import call_command

from audit.models import AccessEvent
from dpo.models import Register, RegisterDescription, RegisterDescriptionText
from staff.language import FINLAND_SWEDISH
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

UNKNOWN_NETWORK = "192.0.2.77"
LAPLAND = "/privacy/lapin-kirjastot/"
ESLOV = "/privacy/eslovs-bibliotek/"


def visitor(**headers):
    """Anyone on the internet: not logged in, from an address in no allow-list."""
    return client_for(None, address=UNKNOWN_NETWORK, **headers)


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def texts_of(slug: str, language: str) -> dict[str, RegisterDescriptionText]:
    return {
        text.description.register: text
        for text in RegisterDescriptionText.objects.filter(
            description__consortium__slug=slug, language=language
        ).select_related("description")
    }


def description(slug: str, register: str) -> RegisterDescription:
    return RegisterDescription.objects.get(consortium__slug=slug, register=register)


# --- The public notice -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "language", "cctv_weeks"),
    [
        ("fi-FI,fi;q=0.9", "fi", "2-4 viikon"),
        ("sv-SE,sv;q=0.9,en;q=0.5", "sv", "2-4 veckor"),
        ("en-GB", "en", "2-4 weeks"),
    ],
)
def test_the_notice_shows_every_register_in_the_visitors_language(accept_language, language, cctv_weeks):
    content = page(visitor(HTTP_ACCEPT_LANGUAGE=accept_language).get(LAPLAND))
    # Lapland is in Finland: its notice's Swedish is Finland-Swedish whatever the browser's country.
    assert f'<html lang="{FINLAND_SWEDISH if language == "sv" else language}">' in content
    texts = texts_of("lapin-kirjastot", language)
    assert set(texts) == set(Register.values)
    for register, text in texts.items():
        assert text.purpose in content, register
        assert text.retention in content, register
    assert cctv_weeks in content and "28" in content
    # Who answers for it, and where to complain.
    assert texts[Register.LIBRARY_SYSTEM].controller in content
    assert texts[Register.LIBRARY_SYSTEM].dpo_contact in content
    assert 'id="rights"' in content and 'id="how-to-ask"' in content
    assert 'href="https://tietosuoja.fi"' in content


def test_the_notice_explains_the_rights_and_how_to_ask():
    content = page(visitor(HTTP_ACCEPT_LANGUAGE="en").get(LAPLAND))
    for right in ("Access.", "Rectification.", "Erasure.", "Restriction.", "Objection.", "Complaint."):
        assert right in content
    # GDPR Art. 15(3), 12(5): not "one free report a year" (the repealed Personal Data Act s. 26).
    assert "Your copy is free of charge" in content and "a year is free" not in content
    assert "manifestly unfounded or excessive, or a further copy" in content
    assert "Saat jäljennöksen maksutta" in page(visitor(HTTP_ACCEPT_LANGUAGE="fi").get(LAPLAND))
    assert "Din kopia är kostnadsfri" in page(visitor(HTTP_ACCEPT_LANGUAGE="sv").get(LAPLAND))
    assert "access log" in content
    assert "Your patronage does not end by itself, only when you ask" in content
    assert "identity card, passport or driving licence" in content
    assert "Office of the Data Protection Ombudsman" in content
    # The identity code belongs to the library system, kept apart and used for billing only.
    assert "kept encrypted and apart from everything else" in content
    assert "only to bill for material that was not returned" in content


def test_finnish_is_the_default_and_the_language_switch_wins_over_the_browser():
    assert '<html lang="fi">' in page(visitor().get(LAPLAND))
    client = visitor(HTTP_ACCEPT_LANGUAGE="en")
    switched = client.post("/i18n/setlang/", {"language": "sv", "next": LAPLAND})
    assert switched.status_code == 302 and switched["Location"] == LAPLAND
    content = page(client.get(LAPLAND))
    assert f'<html lang="{FINLAND_SWEDISH}">' in content
    assert texts_of("lapin-kirjastot", "sv")[Register.NEWSLETTER].purpose in content


def test_a_swedish_library_names_swedish_law_and_imy():
    content = page(visitor(HTTP_ACCEPT_LANGUAGE="sv").get(ESLOV))
    assert "bibliotekslagen (2013:801)" in content
    assert "40 kap. 3 § offentlighets- och sekretesslagen" in content
    assert "Personnumret" in content
    assert 'href="https://www.imy.se"' in content and "IMY" in content
    assert "Boken kommer" in content


def test_a_missing_translation_falls_back_to_finnish():
    cctv = description("lapin-kirjastot", Register.CCTV)
    cctv.texts.filter(language="sv").delete()
    content = page(visitor(HTTP_ACCEPT_LANGUAGE="sv").get(LAPLAND))
    finnish = cctv.texts.get(language="fi")
    assert f'<dd lang="fi">{finnish.purpose}</dd>' in content
    assert texts_of("lapin-kirjastot", "sv")[Register.NEWSLETTER].purpose in content


def test_the_index_links_every_consortium():
    content = page(visitor().get("/privacy/"))
    for slug in ("lapin-kirjastot", "mikkelin-seutukirjasto", "eslovs-bibliotek"):
        assert f'href="/privacy/{slug}/"' in content


def test_an_unknown_consortium_is_not_found():
    assert visitor().get("/privacy/no-such-library/").status_code == 404


def test_the_notice_reads_no_patron(lapland_patron):
    before = AccessEvent.objects.count()
    content = page(visitor().get(LAPLAND))
    assert AccessEvent.objects.count() == before
    for value in filter(None, (lapland_patron.cardnumber, lapland_patron.email, lapland_patron.phone)):
        assert value not in content


def test_staff_still_pass_the_network_check_on_the_public_pages():
    assert client_for("rovaniemi.staff").get(LAPLAND).status_code == 200
    assert client_for("rovaniemi.staff", address=UNKNOWN_NETWORK).get(LAPLAND).status_code == 403


# --- The DPO's admin ---------------------------------------------------------------------------------------


def change_form(described: RegisterDescription, **changes) -> dict:
    """The admin change form's POST data as the page would send it, with `changes` applied."""
    texts = list(described.texts.order_by("language"))
    data = {
        "retention_days": described.retention_days or "",
        "texts-TOTAL_FORMS": str(len(texts)),
        "texts-INITIAL_FORMS": str(len(texts)),
        "texts-MIN_NUM_FORMS": "0",
        "texts-MAX_NUM_FORMS": str(len(settings.LANGUAGES)),
    }
    for index, text in enumerate(texts):
        data[f"texts-{index}-id"] = text.pk
        data[f"texts-{index}-description"] = described.pk
        for field in [f.name for f in RegisterDescriptionText._meta.fields if f.name not in ("id", "description")]:
            data[f"texts-{index}-{field}"] = getattr(text, field)
    data.update(changes)
    return data


def admin_url(described: RegisterDescription, view: str = "change") -> str:
    return f"/admin/dpo/registerdescription/{described.pk}/{view}/"


def test_the_dpo_lists_only_their_consortiums_descriptions():
    dpo = client_for("dpo")
    dpo.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    content = page(dpo.get("/admin/dpo/registerdescription/"))
    for register in Register.values:
        assert admin_url(description("lapin-kirjastot", register)) in content
    for slug in ("mikkelin-seutukirjasto", "eslovs-bibliotek"):
        assert admin_url(description(slug, Register.CCTV)) not in content
    assert "View the public notice" in content


def test_the_dpo_edits_their_own_description_but_not_its_consortium():
    cctv = description("lapin-kirjastot", Register.CCTV)
    mikkeli = description("mikkelin-seutukirjasto", Register.CCTV).consortium_id
    data = change_form(cctv, retention_days="21", consortium=mikkeli, **{"texts-0-retention": "Kolme viikkoa."})
    response = client_for("dpo").post(admin_url(cctv), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    cctv.refresh_from_db()
    assert cctv.retention_days == 21 and cctv.consortium.slug == "lapin-kirjastot"
    assert cctv.texts.get(language="en").retention == "Kolme viikkoa."
    content = page(visitor(HTTP_ACCEPT_LANGUAGE="en").get(LAPLAND))
    assert "Kolme viikkoa." in content and "Deleted after 21 days at the latest." in content


def test_another_consortiums_description_is_not_there_for_the_dpo():
    mikkeli_cctv = description("mikkelin-seutukirjasto", Register.CCTV)
    client = client_for("dpo")
    response = client.get(admin_url(mikkeli_cctv))
    assert response.status_code == 302 and response["Location"] == "/admin/"
    response = client.post(admin_url(mikkeli_cctv), change_form(mikkeli_cctv, retention_days="1"))
    assert response.status_code == 302
    mikkeli_cctv.refresh_from_db()
    assert mikkeli_cctv.retention_days == 28


def test_the_dpo_adds_a_missing_register_for_their_own_consortium():
    description("lapin-kirjastot", Register.NEWSLETTER).delete()
    client = client_for("dpo")
    form = page(client.get("/admin/dpo/registerdescription/add/"))
    assert 'value="newsletter"' in form and 'value="cctv"' not in form
    data = {
        "register": "newsletter",
        "retention_days": "",
        "texts-TOTAL_FORMS": "1",
        "texts-INITIAL_FORMS": "0",
        "texts-MIN_NUM_FORMS": "0",
        "texts-MAX_NUM_FORMS": "3",
        **{
            f"texts-0-{field}": "Uutiskirje." if field != "language" else "fi"
            for field in [f.name for f in RegisterDescriptionText._meta.fields if f.name not in ("id", "description")]
        },
    }
    assert client.post("/admin/dpo/registerdescription/add/", data).status_code == 302
    added = description("lapin-kirjastot", Register.NEWSLETTER)
    assert added.texts.get().purpose == "Uutiskirje."
    # An existing register cannot be added twice.
    response = client.post("/admin/dpo/registerdescription/add/", {**data, "register": "cctv"})
    assert response.status_code == 200
    assert RegisterDescription.objects.filter(consortium__slug="lapin-kirjastot").count() == len(Register)


def test_the_dpo_does_not_delete_and_the_superuser_sees_only_their_own_consortium():
    cctv = description("lapin-kirjastot", Register.CCTV)
    assert client_for("dpo").get(admin_url(cctv, "delete")).status_code == 403
    content = page(client_for("admin").get("/admin/dpo/registerdescription/"))
    assert admin_url(cctv) in content
    assert admin_url(description("eslovs-bibliotek", Register.CCTV)) not in content


# --- The API -----------------------------------------------------------------------------------------------


def test_the_api_lists_the_dpos_descriptions_with_their_texts():
    response = client_for("dpo").get("/api/v1/register-descriptions/")
    assert response.status_code == 200
    body = response.json()
    assert [entry["register"] for entry in body] == list(Register.values)
    assert {entry["consortium"] for entry in body} == {"lapin-kirjastot"}
    cctv = body[-1]
    assert cctv["retention_days"] == 28
    assert set(cctv["texts"]) == {"fi", "sv", "en"}
    assert (
        cctv["texts"]["sv"]["purpose"] == description("lapin-kirjastot", Register.CCTV).texts.get(language="sv").purpose
    )
    assert "tietosuoja@rovaniemi.example.fi" in cctv["texts"]["fi"]["dpo_contact"]


@pytest.mark.parametrize("role", [None, "rovaniemi.staff", "rovaniemi.billing", "rovaniemi.director", "mikkeli.staff"])
def test_other_roles_may_not_read_the_descriptions(role):
    assert client_for(role).get("/api/v1/register-descriptions/").status_code == 403


# --- The demo texts ----------------------------------------------------------------------------------------


def test_every_demo_consortium_has_five_registers_in_three_languages():
    for slug in ("lapin-kirjastot", "mikkelin-seutukirjasto", "eslovs-bibliotek"):
        for register in Register.values:
            described = description(slug, register)
            assert sorted(described.texts.values_list("language", flat=True)) == ["en", "fi", "sv"]
            assert described.retention_days == (28 if register == Register.CCTV else None)
    mikkeli = description("mikkelin-seutukirjasto", Register.HOME_SERVICE).texts.get(language="fi")
    assert "Kirjastoring" in mikkeli.purpose
    newsletter = description("mikkelin-seutukirjasto", Register.NEWSLETTER).texts.get(language="fi")
    assert "Vain sähköpostiosoite" in newsletter.data_categories


def test_seed_demo_puts_a_changed_demo_text_back():
    text = description("eslovs-bibliotek", Register.CCTV).texts.get(language="sv")
    original = text.purpose
    text.purpose = "Ändrad."
    text.save()
    call_command("seed_demo", verbosity=0)
    text.refresh_from_db()
    assert text.purpose == original
