"""The DPO reaches the other apps only through their privacy contracts (core.privacy_contract).

An installed app with a `privacy.py` is in the access report and in an erasure without any
edit of dpo/, and the report and the erasure import no other app's modules.
"""

from pathlib import Path

import pytest
from django.apps import AppConfig, apps
from django.urls import reverse

from audit.models import AccessEvent, Action
from patrons.models import Patron
from tests.conftest import client_for
from tests.dpo.home_service_app import privacy as home_service
from tests.dpo.test_access_report import make_request, records
from tests.dpo.test_erasure import erase, subject_request
from tests.test_layers import module_imports

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
THROUGH_CONTRACTS_ONLY = ("dpo/access_report.py", "dpo/services/erasure.py")
OTHER_APPS = ("patrons", "sotu_silo", "accounts", "demo", "staff", "bans")


@pytest.fixture
def home_service_installed(monkeypatch):
    """The stand-in app among the installed apps, as the registry sees them; its deliveries forgotten after.

    Only the app list is extended: installing the app through settings would run every app's ready() again.
    """
    installed = apps.get_app_configs()
    home_app = AppConfig.create("tests.dpo.home_service_app")
    monkeypatch.setattr(apps, "get_app_configs", lambda: [*installed, home_app])
    yield
    home_service.DELIVERIES.clear()


def test_an_installed_apps_contract_is_in_the_access_report(home_service_installed, lapland_patron):
    home_service.DELIVERIES[lapland_patron.pk] = [71, 72]

    report = client_for("dpo").get(f"/api/v1/subject-requests/{make_request(lapland_patron).pk}/report/").json()

    keys = [section["key"] for section in report["sections"]]
    assert keys.index("registers") < keys.index("home_deliveries") < keys.index("subject_requests")
    assert [record["delivery"]["text"] for record in records(report, "home_deliveries")] == ["#71", "#72"]
    (patron_record,) = records(report, "patron")
    assert list(patron_record)[-2:] == ["identity_code_stored", "home_service"]  # added to another app's record
    assert patron_record["home_service"]["value"] is True
    event = AccessEvent.objects.filter(action=Action.ACCESS_REPORT).latest("id")
    assert "home_service" in event.data_categories


def test_an_installed_apps_contract_is_in_the_erasure(home_service_installed, lapland_patron):
    home_service.DELIVERIES[lapland_patron.pk] = [71, 72]
    request = subject_request(lapland_patron)

    plan = erase(request.pk, dry_run=True).json()["plan"]
    removes = list(plan["removes"])
    assert removes.index("register_memberships") < removes.index("home_deliveries") < removes.index("bans")
    assert plan["removes"]["home_deliveries"] == 2
    assert list(plan["keeps"]) == ["delivery_receipts", "access_events", "subject_requests"]
    assert plan["keeps"]["delivery_receipts"] == home_service.KEPT_RECEIPTS
    page = client_for("dpo").get(reverse("dpo:request-erase", args=[request.pk])).content.decode()
    assert "<td>Home deliveries</td><td>2</td><td>71, 72</td>" in page
    assert "Delivery receipts: kept by the bookkeeping act" in page
    assert home_service.DELIVERIES[lapland_patron.pk] == [71, 72]  # a dry run erases nothing

    done = erase(request.pk, dry_run=False).json()

    assert done["removed"]["home_deliveries"] == 2
    assert lapland_patron.pk not in home_service.DELIVERIES
    assert not Patron.objects.filter(pk=lapland_patron.pk).exists()


def test_without_the_app_its_contract_is_not_asked(lapland_patron):
    home_service.DELIVERIES[lapland_patron.pk] = [71]
    report = client_for("dpo").get(f"/api/v1/subject-requests/{make_request(lapland_patron).pk}/report/").json()
    home_service.DELIVERIES.clear()
    assert "home_deliveries" not in [section["key"] for section in report["sections"]]


@pytest.mark.parametrize("module", THROUGH_CONTRACTS_ONLY)
def test_the_report_and_the_erasure_import_no_other_apps_modules(module):
    path = ROOT / module
    imported = {name for _line, name in module_imports(module.removesuffix(".py").replace("/", "."), path)}
    assert "patrons.models" not in imported and "sotu_silo.models" not in imported
    assert not [name for name in imported if name.split(".")[0] in OTHER_APPS]
