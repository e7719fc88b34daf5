"""The DPO reaches the other apps only through their privacy contracts (core.privacy_contract).

An installed app with a `privacy.py` is in the access report, in an erasure and in retention without
any edit of dpo/, and the report, the erasure and retention import no other app's modules.
"""

import datetime
from pathlib import Path

import pytest
from django.apps import AppConfig, apps
from django.urls import reverse

from audit.models import AccessEvent, Action
from audit.verify import verify_chain
from dpo.services.retention import retention_apply
from patrons.models import Patron, RegisterKind, RegisterMembership
from tests.conftest import client_for
from tests.dpo.home_service_app import privacy as home_service
from tests.dpo.test_access_report import make_request, records
from tests.dpo.test_erasure import erase, subject_request
from tests.dpo.test_retention import run_command
from tests.test_layers import module_imports

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
THROUGH_CONTRACTS_ONLY = (
    "dpo/access_report.py",
    "dpo/services/erasure.py",
    "dpo/retention.py",
    "dpo/services/retention.py",
    "dpo/management/commands/apply_retention.py",
)
OTHER_APPS = ("patrons", "sotu_silo", "accounts", "demo", "staff", "bans")


@pytest.fixture
def home_service_installed(monkeypatch):
    """The stand-in app among the installed apps, as the registry sees them; its deliveries and ended home
    services forgotten after.

    Only the app list is extended: installing the app through settings would run every app's ready() again.
    """
    installed = apps.get_app_configs()
    home_app = AppConfig.create("tests.dpo.home_service_app")
    monkeypatch.setattr(apps, "get_app_configs", lambda: [*installed, home_app])
    yield
    home_service.DELIVERIES.clear()
    home_service.ENDED.clear()


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
    assert list(plan["keeps"]) == ["delivery_receipts", "koha_erased_id", "access_events", "subject_requests"]
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


RULES_IN_ORDER = [
    "ban_decisions",
    "access_prohibitions",
    "guardian_links",
    "behaviour_notes",
    "note_removal_records",
    "subject_requests",
    "home_service_ended",
    "newsletter_without_email",
    "koha_restriction_pushes",
    "legal_holds",
]


def home_service_members(ended: Patron, going_on: Patron) -> None:
    for patron in (ended, going_on):
        RegisterMembership.objects.update_or_create(
            patron=patron, register=RegisterKind.HOME_SERVICE, defaults={"joined_on": datetime.date(2025, 3, 1)}
        )
    home_service.ENDED.add(ended.pk)


def home_service_member_ids() -> set[int]:
    members = RegisterMembership.objects.filter(register=RegisterKind.HOME_SERVICE)
    return set(members.values_list("patron_id", flat=True))


def test_an_installed_apps_retention_rule_runs_in_its_order(home_service_installed, lapland_patron, mikkeli_patron):
    home_service_members(ended=lapland_patron, going_on=mikkeli_patron)
    day = datetime.date(2027, 6, 15)

    dry = retention_apply(day=day, dry_run=True)

    assert [outcome.rule.name for outcome in dry.outcomes] == RULES_IN_ORDER
    assert {outcome.rule.name: outcome.due for outcome in dry.outcomes}["home_service_ended"] == 1
    assert [item.name for item in dry.not_applied_here] == [
        "interlibrary_loans",
        "home_service",
        "delivery_receipts",
        "cctv_recordings",
        "patron_records",
    ]
    assert lapland_patron.pk in home_service_member_ids()
    latest = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()

    run = retention_apply(day=day, dry_run=False)

    assert {outcome.rule.name: outcome.removed for outcome in run.outcomes}["home_service_ended"] == 1
    members = home_service_member_ids()
    assert lapland_patron.pk not in members and mikkeli_patron.pk in members
    event = AccessEvent.objects.get(id__gt=latest, detail="home_service_ended")
    assert event.action == Action.RETENTION_APPLIED and event.actor_username == "apply_retention"
    assert list(event.patron_ids) == [lapland_patron.pk] and list(event.data_categories) == ["home_service"]
    assert verify_chain() is None


def test_an_installed_apps_rule_is_in_the_retention_report(home_service_installed, lapland_patron, mikkeli_patron):
    home_service_members(ended=lapland_patron, going_on=mikkeli_patron)

    out, err = run_command("--day", "2027-06-15")

    assert "home_service_ended" in err
    lines = out.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("rule")))
    table = lines[header + 2 : lines.index("")]
    assert [row.split()[0] for row in table] == [
        *RULES_IN_ORDER,
        "interlibrary_loans",
        "home_service",
        "delivery_receipts",
        "cctv_recordings",
        "patron_records",
    ]
    ended_row = next(row for row in table if row.startswith("home_service_ended"))
    assert "Home service" in ended_row and ended_row.split()[-2:] == ["1", "1"]
    assert "home_service_ended: Home-service memberships whose deliveries have ended." in out
    assert "delivery_receipts: Delivery receipts are kept by the bookkeeping system." in out


def test_without_the_app_its_retention_rule_does_not_run(lapland_patron, mikkeli_patron):
    home_service_members(ended=lapland_patron, going_on=mikkeli_patron)
    report = retention_apply(day=datetime.date(2027, 6, 15), dry_run=False)
    home_service.ENDED.clear()
    assert "home_service_ended" not in [outcome.rule.name for outcome in report.outcomes]
    assert {lapland_patron.pk, mikkeli_patron.pk} <= home_service_member_ids()


@pytest.mark.parametrize("module", THROUGH_CONTRACTS_ONLY)
def test_the_report_the_erasure_and_retention_import_no_other_apps_modules(module):
    path = ROOT / module
    imported = {name for _line, name in module_imports(module.removesuffix(".py").replace("/", "."), path)}
    assert "patrons.models" not in imported and "sotu_silo.models" not in imported
    assert not [name for name in imported if name.split(".")[0] in OTHER_APPS]
