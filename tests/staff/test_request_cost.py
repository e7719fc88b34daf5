"""What one request costs in queries, named, and that the per-request role lookup keeps no stale answer.

Each query of a request is given a name by the table it reads; a query no name fits fails the test, so a
new one on these hot paths is seen and named here. Transaction control (SAVEPOINT / RELEASE) is counted
apart: the test's own transaction turns the selector's BEGIN/COMMIT into one of those pairs.
"""

import datetime
import re
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patrons.forms import library_choices_forget
from patrons.koha_link import koha_patron_links_forget
from patrons.models import Note, NoteCategory, RegisterKind, RegisterMembership
from staff import ip_allowlist
from staff.models import AllowedNetwork, Library, StaffProfile
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

# (name, pattern on the SQL), first match wins.
QUERY_NAMES = (
    ("transaction", r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b"),
    ("session", r'FROM "django_session"'),
    # The session's user with the staff profile, groups and permissions (staff.selectors.staff_user_for_request).
    (
        "user, staff profile and roles",
        r'^SELECT "auth_user"\."id".* FROM "auth_user" LEFT OUTER JOIN "patrons_staffprofile"',
    ),
    # /healthz asks whether access events wait unsealed too long (audit/sealing.py): its one query.
    ("health check", r'COUNT\(\*\).*FROM "audit_accessevent" WHERE .*"hash" IS NULL'),
    # The event and the event's patrons, and here (the suite seals at once, ACCESS_LOG_SEAL_AT_ONCE) its seal:
    # the chain's lock on PostgreSQL, the head and the sealing update. audit/'s to shape.
    ("access log", r"\baudit_|pg_(try_)?advisory"),
    ("silo: code stored?", r'FROM "sotu_silo_'),
    ("Koha staff-interface link", r'FROM "koha_kohaconnection"'),
    ("note form: the consortium's libraries", r'FROM "patrons_library"'),
    ("closure period in force", r'FROM "patrons_closureperiod"'),
    ("search: count", r"SELECT COUNT\(\*\)"),
    # Whether who may work from where changed: a process asks at most once a second (staff/ip_allowlist.py), so
    # a request now and then carries it; not in the counts here (`_as_in_production` waits longer).
    ("allow-list generation", r'FROM "patrons_allowlistgeneration"'),
    ("patron record", r'FROM "patrons_'),
    ("health check", r"^SELECT 1$"),
)


def named_queries(client, url: str) -> Counter:
    """The queries of `url`'s second request (the first warms per-process caches), by name."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connections["default"]) as default, CaptureQueriesContext(connections["sotu"]) as sotu:
        response = client.get(url)
    assert response.status_code == 200
    names: Counter = Counter()
    for query in [*default.captured_queries, *sotu.captured_queries]:
        sql = query["sql"]
        name = next((name for name, pattern in QUERY_NAMES if re.search(pattern, sql)), None)
        assert name is not None, f"a query with no name in QUERY_NAMES: {sql[:200]}"
        names[name] += 1
    assert names["allow-list generation"] == 0, names
    return names


# Transaction control is counted apart; every other statement counts (the page's language costs none since
# the consortium comes with the staff profile).
APART = {"transaction"}


@pytest.fixture(autouse=True)
def _as_in_production(settings, monkeypatch):
    """Counted as production runs: the access log is sealed after the request's commit, in batches for many
    reads (audit/sealing.py), not inside the request as the rest of the suite has it (ACCESS_LOG_SEAL_AT_ONCE);
    a worker keeps its consortium's Koha address and libraries (core/process_cache.py), which the suite does not."""
    settings.ACCESS_LOG_SEAL_AT_ONCE = False
    settings.CONFIGURATION_CACHE_SECONDS = 60
    # The allow-lists' generation is asked at most once a second (tests/staff/test_ip_allowlist.py): not within
    # a test's two requests, whenever the second falls.
    monkeypatch.setattr(ip_allowlist, "GENERATION_CHECK_SECONDS", float("inf"))
    library_choices_forget()
    koha_patron_links_forget()
    yield
    library_choices_forget()
    koha_patron_links_forget()


def total(names: Counter) -> int:
    return sum(count for name, count in names.items() if name not in APART)


PER_REQUEST = {"session": 1, "user, staff profile and roles": 1}
# The access log's statements for one read: the event and, when it names patrons, the event's patrons.
ACCESS_LOG_MOST = 2
# Issue 16's goal for a staff read of one patron, page or API.
DETAIL_MOST = 8


def test_healthz_is_one_query_without_a_session():
    assert named_queries(client_for(None), "/healthz") == Counter({"health check": 1})


def test_healthz_asks_the_database_at_most_once_a_second_per_process(settings):
    """A load balancer probes every worker often: within HEALTH_CHECK_CACHE_SECONDS the answer is the last one."""
    settings.HEALTH_CHECK_CACHE_SECONDS = 60
    assert named_queries(client_for(None), "/healthz") == Counter()
    settings.HEALTH_CHECK_CACHE_SECONDS = 0
    assert named_queries(client_for(None), "/healthz") == Counter({"health check": 1})


def test_healthz_without_a_session_passes_no_middleware():
    """Answered first (privacy_service/health.py): no session is read, no security header added, no cookie set."""
    response = client_for(None).get("/healthz")
    assert response.json() == {"status": "ok"}
    assert "Content-Security-Policy" not in response.headers and not response.cookies


def staff_read_queries(url: str) -> Counter:
    """A staff read's queries: each per-request lookup once, and the access log within its ceiling."""
    names = named_queries(client_for("rovaniemi.staff"), url)
    for name, count in PER_REQUEST.items():
        assert names[name] == count, (name, names)
    assert 1 <= names["access log"] <= ACCESS_LOG_MOST, names
    return names


def test_patron_detail_api_queries(lapland_patron):
    """A patron with guardians: the patron (with whether each of its lists has anything), the guardianships."""
    names = staff_read_queries(f"/api/v1/patrons/{lapland_patron.pk}/")
    assert names["patron record"] == 2, names
    assert total(names) <= DETAIL_MOST, names


def test_patron_detail_page_queries(lapland_patron):
    assert total(names := staff_read_queries(f"/patrons/{lapland_patron.pk}/")) <= DETAIL_MOST, names


def test_patron_lists_are_read_only_when_they_hold_something(lapland_patron):
    """The patron's query asks whether each list (notes, registers, bans, prohibitions, guardians, wards) has
    anything; one with nothing costs no query, and one with something is read (its query and its rows)."""
    url = f"/api/v1/patrons/{lapland_patron.pk}/"
    Note.objects.filter(patron=lapland_patron).delete()
    RegisterMembership.objects.filter(patron=lapland_patron).delete()
    bare = staff_read_queries(url)
    Note.objects.create(
        patron=lapland_patron,
        category=NoteCategory.GENERAL,
        library=lapland_patron.home_library,
        incident_on=datetime.date(2026, 1, 5),
        created_at=timezone.now(),
        created_by="rovaniemi.staff",
        text="Asked for large-print books.",
    )
    RegisterMembership.objects.create(
        patron=lapland_patron, register=RegisterKind.HOME_SERVICE, joined_on=datetime.date(2026, 1, 5)
    )
    with_lists = staff_read_queries(url)
    assert with_lists["patron record"] == bare["patron record"] + 2, (bare, with_lists)
    body = client_for("rovaniemi.staff").get(url).json()
    assert [membership["register"] for membership in body["registers"]] == [RegisterKind.HOME_SERVICE]


def test_search_api_queries():
    assert total(names := staff_read_queries("/api/v1/patrons/?search=Virtanen")) <= 8, names


def test_a_revoked_role_refuses_the_very_next_request(lapland_patron):
    """The attack: a staff member whose role was taken away keeps using the session they already have."""
    client = client_for("rovaniemi.staff")
    url = f"/api/v1/patrons/{lapland_patron.pk}/"
    assert client.get(url).status_code == 200
    get_user_model().objects.get(username="rovaniemi.staff").groups.remove(Group.objects.get(name="staff"))
    assert client.get(url).status_code == 403
    assert client.get(f"/patrons/{lapland_patron.pk}/").status_code == 403


def test_a_permission_taken_from_the_group_refuses_the_very_next_request(lapland_patron):
    client = client_for("rovaniemi.staff")
    url = f"/patrons/{lapland_patron.pk}/"
    assert client.get(url).status_code == 200
    Group.objects.get(name="staff").permissions.remove(Permission.objects.get(codename="view_patron_data"))
    assert client.get(url).status_code == 403


def test_a_privileged_role_given_mid_session_asks_for_the_second_factor_at_once(lapland_patron):
    """Made billing clerk while logged in with a password only: the next API call wants the second factor."""
    client = client_for("rovaniemi.staff")
    url = f"/api/v1/patrons/{lapland_patron.pk}/"
    assert client.get(url).status_code == 200
    get_user_model().objects.get(username="rovaniemi.staff").groups.add(Group.objects.get(name="billing"))
    response = client.get(url)
    assert response.status_code == 403
    assert response.json()["code"] == "two_factor_required"


def test_a_removed_network_refuses_the_very_next_request(lapland_patron):
    client = client_for("rovaniemi.staff", address="10.10.4.20")
    url = f"/api/v1/patrons/{lapland_patron.pk}/"
    assert client.get(url).status_code == 200
    for network in AllowedNetwork.objects.filter(cidr="10.10.0.0/16"):
        network.delete()
    response = client.get(url)
    assert response.status_code == 403
    assert response.json()["code"] == "network_not_allowed"


def test_a_deactivated_user_is_anonymous_on_the_very_next_request(lapland_patron):
    client = client_for("rovaniemi.staff")
    url = f"/api/v1/patrons/{lapland_patron.pk}/"
    assert client.get(url).status_code == 200
    get_user_model().objects.filter(username="rovaniemi.staff").update(is_active=False)
    assert client.get(url).status_code in (401, 403)
    assert client.get(f"/patrons/{lapland_patron.pk}/").status_code == 302  # to the log-in page


def test_a_changed_password_ends_the_other_sessions_on_the_very_next_request(lapland_patron):
    """The session's hash of the password no longer matches the user's (loaded with the profile and roles)."""
    client = client_for("rovaniemi.staff")
    url = f"/patrons/{lapland_patron.pk}/"
    assert client.get(url).status_code == 200
    user = get_user_model().objects.get(username="rovaniemi.staff")
    user.set_password("a-new-passphrase-for-the-test")
    user.save()
    assert client.get(url).status_code == 302


def test_a_removed_staff_profile_refuses_the_very_next_request(lapland_patron):
    client = client_for("rovaniemi.staff")
    url = f"/api/v1/patrons/{lapland_patron.pk}/"
    assert client.get(url).status_code == 200
    StaffProfile.objects.filter(user__username="rovaniemi.staff").delete()
    assert client.get(url).status_code == 403


def test_a_permission_given_to_the_user_counts_on_the_very_next_request(lapland_patron):
    """A permission given directly to a user who had none through a group (the roles' second source)."""
    client = client_for("rovaniemi.staff")
    user = get_user_model().objects.get(username="rovaniemi.staff")
    user.groups.remove(Group.objects.get(name="staff"))
    url = f"/api/v1/patrons/{lapland_patron.pk}/"
    assert client.get(url).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_patron_data"))
    assert client.get(url).status_code == 200


def test_a_library_added_is_offered_by_the_note_form_at_once(lapland_patron):
    """The kept choices are forgotten when a library changes in this process (other workers: within
    CONFIGURATION_CACHE_SECONDS)."""
    client = client_for("rovaniemi.staff")
    url = f"/patrons/{lapland_patron.pk}/"
    assert b"Korvatunturin kirjasto" not in client.get(url).content
    municipality = lapland_patron.home_library.municipality
    Library.objects.create(municipality=municipality, name="Korvatunturin kirjasto", koha_library_id="KORVA")
    assert b"Korvatunturin kirjasto" in client.get(url).content
