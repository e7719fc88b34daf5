"""No identity-code oracle: a desk store answers alike whether or not someone holds the code.

The attack: a desk user who knows a person's date of birth stores candidate codes on a throwaway patron
and watches the answer. Before this change the answer was `code_taken` for the person's code (516 tries
recovered it). Now a code another patron holds becomes a conflict entry that only billing sees; the
store's status, body, headers and SQL statements are the same as for a fresh code; stores are limited
per user and an hour's burst is an access-review finding.
"""

import datetime
import re
import uuid
from unittest import mock

import pytest
import time_machine
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.management import call_command
from django.db import connections
from django.http import HttpRequest
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AccessEvent, Action, Outcome
from core.dates import shown_date
from patrons.models import Patron
from sotu_silo import crypto
from sotu_silo.models import ConflictResolution, IdentityCode, IdentityCodeConflict
from sotu_silo.services import identity_code_erase, identity_code_exists
from staff.ip_allowlist import compiled_allow_list
from tests.conftest import client_for
from tests.sotu_silo.test_silo import codeless_adult, hetu, key, lookup, reveal

pytestmark = pytest.mark.django_db

SECRET = hetu("230375", "-", 517)  # the victim's code; the attacker knows the date of birth
FRESH = hetu("230375", "-", 518)  # a valid code nobody holds
NOISE = re.compile(r"/patrons/\d+/")
CSRF = re.compile(r'csrfmiddlewaretoken" value="[^"]+"')


def put(client, patron: Patron, code: str):
    return client.put(
        f"/api/v1/patrons/{patron.pk}/identity-code/", {"identity_code": code}, content_type="application/json"
    )


def post(client, patron: Patron, code: str):
    return client.post(f"/patrons/{patron.pk}/identity-code/", {"identity_code": code})


@pytest.fixture
def victim() -> Patron:
    """A patron whose code billing stored (so that the desk user's own stores start from none)."""
    patron = codeless_adult()
    assert put(client_for("rovaniemi.billing"), patron, SECRET).json() == {"stored": True}
    return patron


def observed(response) -> dict:
    """What the desk sees of a store: status, body, headers and messages; the throwaway patron's id and the
    clock (Expires, the messages cookie's signature) are not part of the answer."""
    headers = {name: NOISE.sub("/patrons/N/", value) for name, value in response.headers.items() if name != "Expires"}
    messages = {
        name: [str(m) for m in CookieStorage(HttpRequest())._decode(morsel.value) or []]  # type: ignore[attr-defined]  # Django's reader
        for name, morsel in response.cookies.items()
    }
    return {"status": response.status_code, "body": response.content, "headers": headers, "cookies": messages}


def statements(send, *args) -> tuple[object, dict[str, list[str]]]:
    """The response and, per database, the verb of every SQL statement it ran (SELECT, INSERT, ...).

    The access log's checkpoints are left to the command meanwhile: one written after a commit once the
    interval has passed is a statement that depends on the clock, not on the path (a slow run once wrote it
    during one of the two requests compared). For the same reason the allow-list's check of its generation
    (once a second, staff.ip_allowlist) is made before and not again during the request: a loaded machine
    once made it in the first request compared and not in the second."""
    compiled_allow_list.get()
    with (
        override_settings(AUDIT_CHECKPOINT_INTERVAL_SECONDS=0),
        mock.patch("staff.ip_allowlist.GENERATION_CHECK_SECONDS", 3600.0),
        CaptureQueriesContext(connections["default"]) as main,
        CaptureQueriesContext(connections["sotu"]) as silo,
    ):
        response = send(*args)
    verbs = {
        alias: [q["sql"].split()[0].upper() for q in captured]
        for alias, captured in (("default", main), ("sotu", silo))
    }
    return response, verbs


@pytest.mark.parametrize("send", [put, post], ids=["api", "page"])
def test_a_held_code_and_a_fresh_one_get_the_same_answer_and_the_same_work(victim, send):
    """The attack, both ways: the answer and the SQL run must not tell the held code from a fresh one."""
    held_on, fresh_on = codeless_adult(skip=1), codeless_adult(skip=2)
    held, held_sql = statements(send, client_for("rovaniemi.staff"), held_on, SECRET)
    fresh, fresh_sql = statements(send, client_for("rovaniemi.staff"), fresh_on, FRESH)
    assert observed(held) == observed(fresh)
    assert held_sql == fresh_sql  # the same number of statements, of the same kinds, on both databases
    assert len(held_sql["sotu"]) == len(fresh_sql["sotu"]) >= 3
    # What happened behind the answer: the held code is a conflict for billing, the fresh one is stored.
    assert IdentityCodeConflict.objects.filter(patron_id=held_on.pk, holder_patron_id=victim.pk).count() == 1
    assert not IdentityCode.objects.filter(patron_id=held_on.pk).exists()
    assert IdentityCode.objects.filter(patron_id=fresh_on.pk).exists()
    assert lookup("rovaniemi.billing", SECRET).json() == {"patron": {"id": victim.pk}}
    # The store events are alike too (the desk cannot read them, the patron's access report can).
    held_event, fresh_event = (
        AccessEvent.objects.filter(action=Action.IDENTITY_CODE_STORE, patron_ids=[p.pk])
        .values("outcome", "detail", "reason", "data_categories")
        .get()
        for p in (held_on, fresh_on)
    )
    assert (
        held_event
        == fresh_event
        == {"outcome": Outcome.ALLOWED, "detail": "", "reason": "", "data_categories": ["identity_code"]}
    )


def test_replacing_a_code_answers_alike_too(victim):
    """A throwaway patron that already has a code: replacing it with a held code or a fresh one.

    The same answer and as many statements; the write is an UPDATE of the patron's row for the fresh code
    and an INSERT of the entry for the held one (bench/oracle.py times both).
    """
    held_on, fresh_on = codeless_adult(skip=1), codeless_adult(skip=2)
    desk = client_for("rovaniemi.staff")
    for patron, code in ((held_on, hetu("010170", "-", 333)), (fresh_on, hetu("020270", "-", 444))):
        assert put(desk, patron, code).status_code == 200
    held, held_sql = statements(put, client_for("rovaniemi.staff"), held_on, SECRET)
    fresh, fresh_sql = statements(put, client_for("rovaniemi.staff"), fresh_on, FRESH)
    assert observed(held) == observed(fresh)
    assert {alias: len(verbs) for alias, verbs in held_sql.items()} == {
        alias: len(verbs) for alias, verbs in fresh_sql.items()
    }
    assert held_sql["default"] == fresh_sql["default"]
    assert (held_sql["sotu"][3], fresh_sql["sotu"][3]) == ("INSERT", "UPDATE")


def test_the_desk_never_learns_of_a_conflict(victim):
    throwaway, coded = codeless_adult(skip=1), codeless_adult(skip=2)
    desk = client_for("rovaniemi.staff")
    held = desk.post(f"/patrons/{throwaway.pk}/identity-code/", {"identity_code": SECRET}, follow=True)
    fresh = desk.post(f"/patrons/{coded.pk}/identity-code/", {"identity_code": FRESH}, follow=True)
    # The patron page that follows, with its message and its "identity code stored" indicator, is the
    # same for the entry as for a stored code (but for the patron's own details).
    assert code_section(held) == code_section(fresh) and "identity-code" in code_section(held)
    assert messages_of(held) == messages_of(fresh) and len(messages_of(held)) == 1
    assert identity_code_exists(patron_id=throwaway.pk)
    text = held.content.decode()
    assert SECRET not in text and "conflict" not in text.lower() and "ristiriita" not in text.lower()
    # Nothing of the conflicts is theirs to see: pages and API are 403, logged.
    before = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()
    conflict = IdentityCodeConflict.objects.get(patron_id=throwaway.pk)
    for username in ("rovaniemi.staff", "kemi.staff", "rovaniemi.director", "dpo", "admin"):
        client = client_for(username)
        assert client.get("/billing/conflicts/").status_code == 403
        assert client.get("/api/v1/identity-code-conflicts/").status_code == 403
        resolve = {"resolution": "move", "reason": "oma päätös"}
        assert client.post(f"/billing/conflicts/{conflict.pk}/resolve/", resolve).status_code == 403
        assert (
            client.post(
                f"/api/v1/identity-code-conflicts/{conflict.pk}/resolve/", resolve, content_type="application/json"
            ).status_code
            == 403
        )
    refusals = AccessEvent.objects.filter(id__gt=before)
    assert refusals.count() == 20
    assert set(refusals.values_list("action", "outcome", "detail")) == {
        (Action.IDENTITY_CODE_CONFLICT, Outcome.DENIED, "role")
    }
    assert IdentityCodeConflict.objects.get(pk=conflict.pk).resolved_at is None
    # Nor the access log, where the conflict shows up for billing's listing.
    assert client_for("rovaniemi.staff").get(f"/api/v1/patrons/{throwaway.pk}/access-events/").status_code == 403


def test_a_superuser_with_a_desk_account_cannot_tell_a_held_code_from_a_fresh_one(victim):
    """The admin once listed the stored codes' rows: a fresh code's patron was listed, a held one's not."""
    throwaway, coded = codeless_adult(skip=1), codeless_adult(skip=2)
    desk = client_for("rovaniemi.staff")
    desk.post(f"/patrons/{throwaway.pk}/identity-code/", {"identity_code": SECRET})
    desk.post(f"/patrons/{coded.pk}/identity-code/", {"identity_code": FRESH})
    superuser = client_for("admin")
    index = superuser.get("/admin/").content.decode()
    assert "sotu_silo" not in index
    for path in ("/admin/sotu_silo/identitycode/", f"/admin/sotu_silo/identitycode/?q={coded.pk}"):
        assert superuser.get(path).status_code == 404


def code_section(page) -> str:
    """The patron page's identity-code article (indicator and form); the patron's id and the form's
    CSRF token (new on every page) masked."""
    text = page.content.decode()
    start = text.rindex("<article>", 0, text.index('id="id_identity_code"'))
    section = NOISE.sub("/patrons/N/", text[start : text.index("</article>", start)])
    return CSRF.sub("csrfmiddlewaretoken", section)


def messages_of(page) -> list[str]:
    return [str(message) for message in page.context["messages"]]


def resolve(conflict_id: int, resolution: str, reason: str, *, api: bool = False):
    client = client_for("rovaniemi.billing")
    body = {"resolution": resolution, "reason": reason}
    if api:
        return client.post(
            f"/api/v1/identity-code-conflicts/{conflict_id}/resolve/", body, content_type="application/json"
        )
    return client.post(f"/billing/conflicts/{conflict_id}/resolve/", body)


@pytest.fixture
def conflict(victim) -> IdentityCodeConflict:
    throwaway = codeless_adult(skip=1)
    assert put(client_for("rovaniemi.staff"), throwaway, SECRET).status_code == 200
    return IdentityCodeConflict.objects.get(patron_id=throwaway.pk)


def test_billing_sees_both_patrons_and_who_entered_the_code_never_the_code(conflict, victim):
    throwaway = Patron.objects.get(pk=conflict.patron_id)
    clerk = client_for("rovaniemi.billing")
    index = clerk.get("/billing/").content.decode()
    assert "/billing/conflicts/" in index and "1 " in index
    page = clerk.get("/billing/conflicts/")
    text = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    for patron in (throwaway, victim):
        assert patron.cardnumber in text and patron.last_name in text
        assert shown_date(patron.date_of_birth) in text
    assert "rovaniemi.staff" in text and SECRET not in text and SECRET[:6] + SECRET[7:] not in text
    listing = AccessEvent.objects.order_by("-id").first()
    assert (listing.action, listing.outcome, listing.detail) == (
        Action.IDENTITY_CODE_CONFLICT,
        Outcome.ALLOWED,
        "listed",
    )
    assert sorted(listing.patron_ids) == sorted([throwaway.pk, victim.pk])
    api = clerk.get("/api/v1/identity-code-conflicts/")
    body = api.json()
    assert api.status_code == 200 and "no-store" in api["Cache-Control"] and body["count"] == 1
    (item,) = body["results"]
    assert (item["id"], item["entered_by"], item["patron"]["id"], item["holder"]["id"]) == (
        conflict.pk,
        "rovaniemi.staff",
        throwaway.pk,
        victim.pk,
    )
    assert item["holder"]["date_of_birth"] == victim.date_of_birth.isoformat()
    assert SECRET not in api.content.decode()


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_a_conflict_resolved_by_moving_the_code(conflict, victim, api):
    throwaway = Patron.objects.get(pk=conflict.patron_id)
    response = resolve(conflict.pk, ConflictResolution.MOVE, "Asiakas esitti passin; tunnus kuuluu hänelle.", api=api)
    assert response.status_code == (200 if api else 302), response.content
    # The code is now the throwaway patron's; the former holder has none.
    assert lookup("rovaniemi.billing", SECRET).json() == {"patron": {"id": throwaway.pk}}
    assert reveal("rovaniemi.billing", throwaway).json() == {"identity_code": SECRET}
    assert not IdentityCode.objects.filter(patron_id=victim.pk).exists()
    row = IdentityCodeConflict.objects.get(pk=conflict.pk)
    assert (row.resolution, row.resolved_by, bytes(row.ciphertext), row.blind_index) == (
        "move",
        "rovaniemi.billing",
        b"",
        "",
    )
    event = AccessEvent.objects.filter(action=Action.IDENTITY_CODE_CONFLICT, detail="resolved_move").get()
    assert sorted(set(event.patron_ids)) == sorted([throwaway.pk, victim.pk])
    assert event.reason == "Asiakas esitti passin; tunnus kuuluu hänelle."
    assert not client_for("rovaniemi.billing").get("/api/v1/identity-code-conflicts/").json()["results"]


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_a_conflict_resolved_by_keeping_the_code_with_its_holder(conflict, victim, api):
    throwaway = Patron.objects.get(pk=conflict.patron_id)
    response = resolve(conflict.pk, ConflictResolution.KEEP, "Näppäilyvirhe tiskillä", api=api)
    assert response.status_code == (200 if api else 302), response.content
    assert lookup("rovaniemi.billing", SECRET).json() == {"patron": {"id": victim.pk}}
    assert not IdentityCode.objects.filter(patron_id=throwaway.pk).exists()
    assert not identity_code_exists(patron_id=throwaway.pk)  # the discarded entry no longer counts
    event = AccessEvent.objects.filter(action=Action.IDENTITY_CODE_CONFLICT, detail="resolved_keep").get()
    assert sorted(set(event.patron_ids)) == sorted([throwaway.pk, victim.pk])
    assert event.reason == "Näppäilyvirhe tiskillä"
    # Resolved once: a second resolution finds nothing to resolve.
    assert resolve(conflict.pk, ConflictResolution.MOVE, "uudestaan", api=api).status_code == 404


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_a_resolution_needs_a_reason_without_a_code_and_a_known_choice(conflict, api):
    for resolution, reason, rule in (
        (ConflictResolution.MOVE, "  ", "reason_required"),
        (ConflictResolution.MOVE, f"tunnus {SECRET}", "identity_code_in_text"),
        (ConflictResolution.MOVE, f"tunnus 230375 \u2013 517 {SECRET[-1]}", "identity_code_in_text"),
        ("swap", "syy", "resolution_unknown"),
    ):
        response = resolve(conflict.pk, resolution, reason, api=api)
        assert response.status_code == 400
        if api:
            assert response.json()["code"] == rule
        assert SECRET not in response.content.decode()
        event = AccessEvent.objects.filter(outcome=Outcome.DENIED).order_by("-id").first()
        assert (event.action, event.detail) == (Action.IDENTITY_CODE_CONFLICT, rule)
        assert sorted(event.patron_ids) == sorted([conflict.patron_id, conflict.holder_patron_id])
        assert SECRET[:6] not in event.reason
    assert IdentityCodeConflict.objects.get(pk=conflict.pk).resolved_at is None


def test_a_new_entry_for_the_same_patron_replaces_the_waiting_one(conflict):
    throwaway = Patron.objects.get(pk=conflict.patron_id)
    assert put(client_for("rovaniemi.staff"), throwaway, FRESH).status_code == 200
    assert not IdentityCodeConflict.objects.filter(patron_id=throwaway.pk).exists()
    assert reveal("rovaniemi.billing", throwaway).json() == {"identity_code": FRESH}


def test_a_concurrent_store_of_the_same_code_becomes_a_conflict():
    """The race: another process stores the same code for another patron between this store's look and
    its write. Played on the silo connection: the other row is written just before this store's
    transaction and hidden from its look, so its INSERT hits the unique blind index (IntegrityError) and
    the store is read again: a conflict entry, answered as ever.
    """
    first, second = codeless_adult(skip=1), codeless_adult(skip=2)
    index = crypto.blind_index(FRESH, country="FI")
    race = {"written": False, "hidden": False}

    def other_process(execute, sql, params, many, context):
        if not race["written"] and sql.startswith("SAVEPOINT"):
            race["written"] = True
            IdentityCode.objects.create(
                patron_id=first.pk,
                consortium_id=first.consortium_id,
                country="FI",
                key_id="other-process",
                nonce=b"0" * 12,
                ciphertext=b"-",
                blind_index=index,
            )
        elif not race["hidden"] and sql.startswith("SELECT") and index in (params or ()):
            race["hidden"] = True  # this store looked before the other one committed
            params = ["0" * 64 if param == index else param for param in params]
        return execute(sql, params, many, context)

    with connections["sotu"].execute_wrapper(other_process):
        response = put(client_for("rovaniemi.staff"), second, FRESH)
    assert race == {"written": True, "hidden": True}
    assert response.status_code == 200 and response.json() == {"stored": True}
    assert IdentityCodeConflict.objects.filter(patron_id=second.pk, holder_patron_id=first.pk).count() == 1
    assert not IdentityCode.objects.filter(patron_id=second.pk).exists()


def test_stores_are_limited_per_user_and_hour(settings, victim):
    settings.IDENTITY_CODE_STORE_RATE_PER_HOUR = 3
    desk = client_for("rovaniemi.staff")
    patrons = [codeless_adult(skip=n) for n in range(1, 6)]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert put(desk, patrons[0], FRESH).status_code == 200
        assert put(desk, patrons[1], hetu("010170", "-", 333)).status_code == 200
        assert put(desk, patrons[2], "not a code").status_code == 400  # a refused attempt counts too
        held, fresh = put(desk, patrons[3], SECRET), put(desk, patrons[4], hetu("020270", "-", 444))
    for response in (held, fresh):
        assert response.status_code == 429
        assert response.json()["code"] == "rate_limited"
        assert response["Retry-After"] == "3600"
    assert observed(held) == observed(fresh)
    assert not IdentityCodeConflict.objects.filter(patron_id=patrons[3].pk).exists()
    assert not IdentityCode.objects.filter(patron_id=patrons[4].pk).exists()
    event = AccessEvent.objects.order_by("-id").first()
    assert (event.action, event.outcome, event.detail, event.patron_ids) == (
        Action.IDENTITY_CODE_STORE,
        Outcome.DENIED,
        "rate_limited",
        [patrons[4].pk],
    )
    # In the user's language, on the page too. 29 minutes on: the desk's session was last stamped when it
    # logged in, before `start` (stamps are a minute apart, accounts/sessions.py), so at 30 minutes on it
    # has idled past SESSION_IDLE_MINUTES by the time the patrons took to make (a loaded machine: seconds).
    with time_machine.travel(start + datetime.timedelta(minutes=29), tick=False):
        swedish = put(client_for("rovaniemi.staff", HTTP_ACCEPT_LANGUAGE="sv"), patrons[4], FRESH).json()["detail"]
        assert swedish != put(desk, patrons[4], FRESH).json()["detail"]
        page = desk.post(f"/patrons/{patrons[4].pk}/identity-code/", {"identity_code": FRESH})
        assert page.status_code == 429 and page["Retry-After"] == "1860" and 'role="alert"' in page.content.decode()
        # Per user: another desk user may still store.
        assert put(client_for("rovaniemi.billing"), patrons[4], FRESH).status_code == 200
    # An hour after the first stores, the refusals of the meantime do not hold the user back (a new
    # session: the old one has idled past SESSION_IDLE_MINUTES meanwhile).
    with time_machine.travel(start + datetime.timedelta(minutes=61), tick=False):
        assert put(client_for("rovaniemi.staff"), patrons[3], hetu("030370", "-", 555)).status_code == 200


def review_findings(day: datetime.date) -> list[dict]:
    response = client_for("dpo").get(f"/api/v1/access-review/?day={day.isoformat()}")
    assert response.status_code == 200, response.content
    return [f for f in response.json()["findings"] if f["kind"] == "code_store_burst"]


def test_a_burst_of_stores_is_a_finding_of_the_same_day(settings, victim):
    settings.ACCESS_REVIEW_STORE_BURST = 3
    day = timezone.localdate()
    desk = client_for("rovaniemi.staff")
    patrons = [codeless_adult(skip=n) for n in range(1, 5)]
    assert review_findings(day) == []  # the victim's store alone is no burst
    for patron, individual in zip(patrons[:2], (601, 602), strict=True):
        assert put(desk, patron, hetu("230375", "-", individual)).status_code == 200
    assert review_findings(day) == []  # two stores so far
    assert put(desk, patrons[2], "230375-603X").status_code == 400  # refused attempts count
    (finding,) = review_findings(day)
    assert (finding["username"], finding["patron_id"], finding["event_count"]) == ("rovaniemi.staff", None, 3)
    assert "action__exact=identity_code_store" in finding["url"]
    admin_page = client_for("dpo").get(f"/admin/dpo/access-review/?day={day.isoformat()}").content.decode()
    assert 'class="finding-code_store_burst"' in admin_page


def test_stores_spread_over_the_day_are_no_burst(settings, victim):
    settings.ACCESS_REVIEW_STORE_BURST = 3
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    desk = client_for("rovaniemi.staff")
    morning = timezone.make_aware(datetime.datetime.combine(yesterday, datetime.time(8)))
    for hours, skip in ((0, 1), (1, 2), (2, 3)):
        with time_machine.travel(morning + datetime.timedelta(hours=hours, minutes=1), tick=False):
            assert put(desk, codeless_adult(skip=skip), hetu("230375", "-", 700 + skip)).status_code == 200
    assert review_findings(yesterday) == []


def test_conflict_entries_are_rotated_and_erased_with_the_patrons(settings, conflict, victim):
    old = settings.SOTU_ENCRYPTION_KEYS
    settings.SOTU_ENCRYPTION_KEYS = f"rotated:{key(3)},{old}"
    call_command("sotu_rotate_keys", verbosity=0)
    settings.SOTU_ENCRYPTION_KEYS = f"rotated:{key(3)}"
    assert IdentityCodeConflict.objects.get(pk=conflict.pk).key_id == "rotated"
    # Moved ciphertext does not open: the associated data binds it to its entry.
    other = IdentityCodeConflict.objects.get(pk=conflict.pk)
    other.entry = uuid.uuid4()
    with pytest.raises(crypto.IdentityCodeUnreadable):
        crypto.decrypt_conflict_row(other)
    assert crypto.decrypt_conflict_row(IdentityCodeConflict.objects.get(pk=conflict.pk)) == SECRET
    # The holder's erasure takes the entry with it.
    assert identity_code_erase(patron_id=victim.pk)
    assert not IdentityCodeConflict.objects.filter(pk=conflict.pk).exists()
