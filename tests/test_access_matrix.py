"""The access matrix: every URL x every role x every kind of network gets the expected status.

The URL list comes from the URL configuration itself, so a new URL without a
rule here fails `test_every_url_has_a_rule`. Networks:
- own: an address inside the role's municipality (or consortium) networks;
- other_municipality: inside a neighbouring municipality's networks;
- unknown: an address in no allow-list;
- spoofed: an unknown peer that claims an own address in forwarded headers.
Logged-in users from the last three get 403 on every URL; anonymous users
get the same answer everywhere, since there is nobody to check yet.
"""

import datetime
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from audit.actor import Actor
from audit.models import AccessEvent, Action
from audit.services import access_event_record
from bans.models import AccessProhibition, Ban, DecisionCompetence
from dpo.models import Breach, Register, RegisterDescription, SubjectRequest
from koha.models import IdentityCodeImportFinding, ImportFindingKind, KohaConnection, KohaDeparture, SyncRun
from patrons.models import ClosurePeriod, Note, NoteCategory, ProcessingRestriction
from sotu_silo import crypto
from sotu_silo.models import IdentityCode, IdentityCodeConflict
from sotu_silo.services import identity_code_store
from staff.models import AllowedNetwork, Consortium, Library, MachineKey, Municipality, StaffProfile
from tests.conftest import OWN_NETWORK, client_for
from tests.koha.connected import push_record, restriction_row

pytestmark = pytest.mark.django_db

ROLES = [
    None,
    "rovaniemi.staff",
    "rovaniemi.billing",
    "rovaniemi.director",
    "dpo",
    "admin",
    "kemi.staff",
    "mikkeli.staff",
    "eslov.staff",
]
# An address in another municipality's networks, per role; Kemi's 10.20.5.5 for everyone else.
OTHER_MUNICIPALITY = {"kemi.staff": "10.10.3.3", "mikkeli.staff": "10.10.3.3", "eslov.staff": "10.10.3.3"}
UNKNOWN = "192.0.2.77"
NETWORKS = ["own", "other_municipality", "unknown", "spoofed"]

LAPLAND_STAFF = {"rovaniemi.staff", "rovaniemi.billing", "rovaniemi.director", "kemi.staff"}
OTHER_CONSORTIUM_STAFF = {"mikkeli.staff", "eslov.staff"}  # staff, but a Lapland patron is not theirs
PATRON_READERS = LAPLAND_STAFF | {"admin"}

# Expected status on an allowed network, per URL key (URL name, or route when unnamed), per role.
# "*" is every role not listed; None is the anonymous visitor.
STAFF_PAGE: dict[str | None, int] = {
    None: 302,
    "dpo": 403,
    **dict.fromkeys(PATRON_READERS | OTHER_CONSORTIUM_STAFF, 200),
}
LAPLAND_PATRON_PAGE: dict[str | None, int] = {**STAFF_PAGE, **dict.fromkeys(OTHER_CONSORTIUM_STAFF, 404)}
STAFF_API = {**STAFF_PAGE, None: 403}
LAPLAND_PATRON_API = {**LAPLAND_PATRON_PAGE, None: 403}
DPO_API = {"*": 403, "dpo": 200, "admin": 200}
ADMIN_PAGE_LOGIN = {"*": 302}  # the admin sends everyone who is not is_staff to its log-in
RULES: dict[str, dict] = {
    "home": {"*": 302},
    "healthz": {"*": 200},
    "login": {"*": 302, None: 200},
    "admin-login": {"*": 302, None: 200},
    "logout": {"*": 405},
    # The second factor's steps: a verified session (or one that needs none) is sent on, anonymous to log in.
    "two-factor": {"*": 302},
    "two-factor-setup": {"*": 302},
    "set_language": {"*": 302},
    "schema": {"*": 200},
    "api-docs": {"*": 200},
    "patrons:search": STAFF_PAGE,
    # Exceptional circumstances: registration (a page, also while frozen) and a PIN given by phone (POST only).
    "patrons:register": STAFF_PAGE,
    "patrons:loan-history-confirmations": STAFF_PAGE,
    "patrons:pin-by-phone": {"*": 405, None: 302},
    "api:patron-pin-by-phone": {"*": 405, None: 403},
    "patrons:detail": LAPLAND_PATRON_PAGE,
    "api:patron-list": STAFF_API,
    "api:patron-loan-history-confirmations": STAFF_API,
    # The search in a POST body: a GET is a 405 once the caller is let in.
    "api:patron-search": {"*": 405, None: 403},
    "api:patron-detail": LAPLAND_PATRON_API,
    "api:patron-access-events": DPO_API,
    "admin:index": {**ADMIN_PAGE_LOGIN, "dpo": 200, "admin": 200},
    "admin:login": {"*": 302, None: 200},
    "admin:logout": {**ADMIN_PAGE_LOGIN, "dpo": 405, "admin": 405},
    "admin:password_change": {**ADMIN_PAGE_LOGIN, "dpo": 200, "admin": 200},
    "admin:password_change_done": {**ADMIN_PAGE_LOGIN, "dpo": 200, "admin": 200},
    "admin:autocomplete": {**ADMIN_PAGE_LOGIN, "dpo": 403, "admin": 403},
    "admin:jsi18n": {**ADMIN_PAGE_LOGIN, "dpo": 200, "admin": 200},
    "admin:view_on_site": {**ADMIN_PAGE_LOGIN, "dpo": 404, "admin": 404},
    "admin:app_list": {**ADMIN_PAGE_LOGIN, "dpo": 200, "admin": 200},
    "admin/(?P<url>.*)$": {**ADMIN_PAGE_LOGIN, "dpo": 404, "admin": 404},
    # The sotu-silo: POST/PUT-only URLs answer a GET with 405 once the caller is let in.
    "patrons:identity-code": {"*": 405, None: 302},
    # Superusers administer; they do not bypass the silo.
    "billing:index": {"*": 403, None: 302, "rovaniemi.billing": 200},
    "billing:lookup": {"*": 405, None: 302},
    # The reveal: a GET is the reason form alone (the link from Koha's privacy panel), billing clerks only.
    "billing:reveal": {"*": 403, None: 302, "rovaniemi.billing": 200},
    "api:identity-code": {"*": 405, None: 403},
    "api:identity-code-reveal": {"*": 405, None: 403},
    "api:identity-code-lookup": {"*": 405, None: 403},
    # Identity code conflicts: billing clerks only; the desk never learns of them.
    "billing:conflicts": {"*": 403, None: 302, "rovaniemi.billing": 200},
    "billing:conflict-resolve": {"*": 405, None: 302},
    # Identity codes found in Koha that the import could not store: billing clerks only.
    "koha-billing:codes": {"*": 403, None: 302, "rovaniemi.billing": 200},
    "koha-billing:code-checked": {"*": 405, None: 302},
    "api:identity-code-conflicts": {"*": 403, "rovaniemi.billing": 200},
    "api:identity-code-conflict-resolve": {"*": 405, None: 403},
    # Pages for notes, choices and the ban procedure. POST-only pages answer a GET with 405.
    "patrons:note-add": {"*": 405, None: 302},
    "patrons:note-open": {"*": 405, None: 302},
    "patrons:note-edit": LAPLAND_PATRON_PAGE,
    "patrons:note-remove": {"*": 405, None: 302},
    "patrons:choices": {"*": 405, None: 302},
    "patrons:loan-history-confirm": {"*": 405, None: 302},
    "patrons:trusteeship": {"*": 405, None: 302},
    "patrons:trusteeship-open": {"*": 405, None: 302},
    "patrons:ban-propose": LAPLAND_PATRON_PAGE,
    "patrons:access-prohibition": LAPLAND_PATRON_PAGE,
    "bans:queue": {"*": 403, None: 302, "rovaniemi.director": 200, "admin": 200},
    "bans:archive": {"*": 403, None: 302, "rovaniemi.director": 200, "dpo": 200, "admin": 200},
    "bans:detail": {**LAPLAND_PATRON_PAGE, "dpo": 200},
    "bans:step": {"*": 405, None: 302},
    # An access prohibition (the matrix world is Finnish, but its row is enough for the page's access rule).
    "bans:prohibition": {**LAPLAND_PATRON_PAGE, "dpo": 200},
    "bans:prohibition-step": {"*": 405, None: 302},
    # Notes and the ban procedure. POST-only URLs answer a GET with 405 once the caller is let in.
    "api:patron-notes": LAPLAND_PATRON_API,
    "api:patron-note": LAPLAND_PATRON_API,
    "api:patron-bans": {"*": 405, None: 403},
    "api:patron-choices": {"*": 405, None: 403},
    "api:patron-loan-history-confirm": {"*": 405, None: 403},
    # The matrix patron has no adult-guardianship mark: readers get 404, others as everywhere.
    "api:patron-trusteeship": {**LAPLAND_PATRON_API, **dict.fromkeys(PATRON_READERS, 404)},
    "api:patron-access-prohibitions": {"*": 405, None: 403},
    "api:access-prohibition-revocation": {"*": 405, None: 403},
    "api:access-prohibition-court": {"*": 405, None: 403},
    # Staff see a ban in procedure; the DPO and the superuser read it through the decision archive.
    "api:ban-detail": {**LAPLAND_PATRON_API, "dpo": 200},
    "api:ban-hearing": {"*": 405, None: 403},
    "api:ban-decision": {"*": 405, None: 403},
    "api:ban-notification": {"*": 405, None: 403},
    "api:ban-appeal": {"*": 405, None: 403},
    "api:ban-rectification-notice": {"*": 405, None: 403},
    "api:ban-court-appeal": {"*": 405, None: 403},
    "api:ban-receipt": {"*": 405, None: 403},
    "api:ban-cancel": {"*": 405, None: 403},
    # The printable decision: every reader finds the fixture's ban, which is only proposed, so has no decision.
    "bans:decision": {"*": 404, None: 302},
    "bans:decision-pdf": {"*": 404, None: 302},
    # The public privacy notice: no login, from any network (logged-in users still pass the network check).
    "privacy:index": {"*": 200},
    "privacy:notice": {"*": 200},
    "api:register-description-list": DPO_API,
    # The breach register (the DPO). Its steps are POST-only: a GET is a 405 once the caller is let in.
    "api:breach-list": DPO_API,
    "api:breach-detail": DPO_API,
    "api:breach-authority-notification": {"*": 405, None: 403},
    "api:breach-people-notification": {"*": 405, None: 403},
    "api:breach-art34-exemption": {"*": 405, None: 403},
    "api:breach-close": {"*": 405, None: 403},
    "api:breach-affected-contacts": DPO_API,
    # The breach's steps in the admin: small forms (GET shows them) and the logged contact list.
    **{
        f"admin:dpo_breach_{step}": {**ADMIN_PAGE_LOGIN, "dpo": 200, "admin": 200}
        for step in ("update", "authority_notification", "people_notification", "art34_exemption", "close")
    },
    "admin:dpo_breach_affected_contacts": {**ADMIN_PAGE_LOGIN, "dpo": 200, "admin": 200},
    # Data-subject requests (the DPO). Their steps are POST-only: a GET is a 405 once the caller is let in.
    "api:subject-request-list": DPO_API,
    "api:subject-request-detail": DPO_API,
    "api:subject-request-extension": {"*": 405, None: 403},
    "api:subject-request-fee-decision": {"*": 405, None: 403},
    "api:subject-request-delivery": {"*": 405, None: 403},
    "api:subject-request-refusal": {"*": 405, None: 403},
    "api:subject-request-completion": {"*": 405, None: 403},
    "api:subject-request-kept-elsewhere": {"*": 405, None: 403},
    "api:subject-request-restriction": {"*": 405, None: 403},
    "api:subject-request-restriction-lift": {"*": 405, None: 403},
    "api:subject-request-claim-hold-lift": {"*": 405, None: 403},
    # The access report of the matrix request (an access request of a Lapland patron): the DPO only.
    "api:subject-request-report": DPO_API,
    "api:subject-request-report-pdf": DPO_API,
    "dpo:request-report": {"*": 403, None: 302, "dpo": 200, "admin": 200},
    # Erasure: the API is POST-only; the page's GET is the dry run, and the matrix request (an access
    # request) is not one to erase: the page says so with a 400.
    "api:subject-request-erase": {"*": 405, None: 403},
    "dpo:request-erase": {"*": 403, None: 302, "dpo": 400, "admin": 400},
    # Reapplying the erasures after a restore: the GET is its dry run.
    "dpo:erasures-reapply": {"*": 403, None: 302, "dpo": 200, "admin": 200},
    # The daily access review of staff reads: the DPO only (the superuser has every permission).
    "dpo:access-review": {"*": 403, None: 302, "dpo": 200, "admin": 200},
    "api:access-review": DPO_API,
    # The machine API takes an API key only: a session (any role) is not authenticated there.
    "api:koha-privacy-status": {"*": 401},
    "api:koha-views": {"*": 401},
    "api:koha-service": {"*": 401},
}

# Admin model pages: what the DPO may do (the superuser may do everything the admin class allows).
ADMIN_MODELS = {
    # model: (dpo statuses, admin statuses) for changelist, add, change, history, delete, bare object redirect
    "audit_accessevent": (
        {"changelist": 200, "add": 403, "change": 200, "history": 200, "delete": 403},
        {"changelist": 200, "add": 403, "change": 200, "history": 200, "delete": 403},
    ),
    "staff_municipality": ({"changelist": 200, "add": 403, "change": 200, "history": 200, "delete": 403}, {}),
    "staff_allowednetwork": ({"changelist": 200, "add": 200, "change": 200, "history": 200, "delete": 200}, {}),
    # A superuser's own consortium; new consortia come from `manage.py consortium_create`, never deleted here.
    "staff_consortium": ({}, {"add": 403, "delete": 403}),
    "staff_library": ({}, {}),
    # Machine client keys: superusers only; revoked, never deleted.
    "staff_machinekey": ({}, {"delete": 403}),
    "patrons_closureperiod": ({}, {}),  # superusers only
    # The competence table (who decides bans for which library): the DPO and superusers keep it.
    "bans_decisioncompetence": ({"changelist": 200, "add": 200, "change": 200, "history": 200, "delete": 200}, {}),
    # Superusers only; a connection is turned off (logged), never deleted.
    "koha_kohaconnection": ({}, {"delete": 403}),
    # What koha_sync recorded: the runs and the patrons gone from Koha; read-only for the DPO and superusers.
    "koha_syncrun": (
        {"changelist": 200, "add": 403, "change": 200, "history": 200, "delete": 403},
        {"changelist": 200, "add": 403, "change": 200, "history": 200, "delete": 403},
    ),
    "koha_kohadeparture": (
        {"changelist": 200, "add": 403, "change": 200, "history": 200, "delete": 403},
        {"changelist": 200, "add": 403, "change": 200, "history": 200, "delete": 403},
    ),
    # What the restriction push keeps in Koha and its record of each push: read-only, the same.
    "koha_koharestriction": (
        {"changelist": 200, "add": 403, "change": 200, "history": 200, "delete": 403},
        {"changelist": 200, "add": 403, "change": 200, "history": 200, "delete": 403},
    ),
    "koha_koharestrictionpush": (
        {"changelist": 200, "add": 403, "change": 200, "history": 200, "delete": 403},
        {"changelist": 200, "add": 403, "change": 200, "history": 200, "delete": 403},
    ),
    # Staff duties: the DPO keeps their consortium's agreement and briefing dates; no adding or deleting.
    "staff_staffprofile": ({"changelist": 200, "add": 403, "change": 200, "history": 200, "delete": 403}, {}),
    "auth_user": ({}, {}),
    # The role groups are never deleted (the matrix's group is `staff`).
    "auth_group": ({}, {"delete": 403}),
    # Register descriptions: the DPO keeps their consortium's and may add a missing one, never delete.
    "dpo_registerdescription": ({"changelist": 200, "add": 200, "change": 200, "history": 200, "delete": 403}, {}),
    # The breach register: recorded and changed through its services; read-only facts, never deleted.
    "dpo_breach": (
        {"changelist": 200, "add": 200, "change": 200, "history": 200, "delete": 403},
        {"changelist": 200, "add": 200, "change": 200, "history": 200, "delete": 403},
    ),
    # Restrictions of processing: made and lifted on their request's page; a read-only list, never deleted.
    "patrons_processingrestriction": (
        {"changelist": 200, "add": 403, "change": 200, "history": 200, "delete": 403},
        {"changelist": 200, "add": 403, "change": 200, "history": 200, "delete": 403},
    ),
    # Data-subject requests: recorded and handled through their services; read-only pages, never deleted.
    "dpo_subjectrequest": (
        {"changelist": 200, "add": 200, "change": 200, "history": 200, "delete": 403},
        {"changelist": 200, "add": 200, "change": 200, "history": 200, "delete": 403},
    ),
}
ADMIN_VIEWS = ["changelist", "add", "change", "history", "delete"]


def admin_path(model_key: str) -> str:
    """'sotu_silo_identitycode' -> 'sotu_silo/identitycode' (the model name never has an underscore)."""
    app_label, _sep, model_name = model_key.rpartition("_")
    return f"{app_label}/{model_name}"


for _model, (_dpo, _admin) in ADMIN_MODELS.items():
    for _view in ADMIN_VIEWS:
        RULES[f"admin:{_model}_{_view}"] = {
            **ADMIN_PAGE_LOGIN,
            "dpo": _dpo.get(_view, 403),
            "admin": _admin.get(_view, 200),
        }
    # The bare object URL redirects to its change page for anyone the admin lets in.
    RULES[f"admin/{admin_path(_model)}/<path:object_id>/"] = {**ADMIN_PAGE_LOGIN, "dpo": 302, "admin": 302}
RULES["admin:auth_user_password_change"] = {**ADMIN_PAGE_LOGIN, "dpo": 403, "admin": 200}


def url_patterns(patterns=None, prefix: str = "", namespace: str | None = None) -> Iterator[tuple[str, str]]:
    """(key, route) for every URL pattern; key is the namespaced name, or the route when unnamed."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield name or route, route


def expected_status(key: str, role: str | None) -> int:
    rule = RULES[key]
    return rule[role] if role in rule else rule["*"]


@pytest.fixture
def objects(lapland_patron):
    """One real object per URL parameter, all of the Rovaniemi (Lapland) world."""
    rovaniemi = Municipality.objects.get(name="Rovaniemi")
    event = access_event_record(
        actor=Actor(user_id=None, username="seed", municipality_id=rovaniemi.pk, consortium_id=None, client_ip=None),
        action=Action.PATRON_VIEW,
        patron_ids=[lapland_patron.pk],
    )
    staff_profile = StaffProfile.objects.get(user__username="rovaniemi.staff")
    from django.contrib.auth.models import Group

    note = Note.objects.create(
        patron=lapland_patron,
        category=NoteCategory.BEHAVIOUR,
        text="Disturbed other patrons in the reading room.",
        created_at=timezone.now(),
        created_by="rovaniemi.staff",
    )
    ban = Ban.objects.create(
        patron=lapland_patron,
        library=Library.objects.get(koha_library_id="ROV"),
        grounds=["repeated_substantial_disturbance"],
        starts_on=timezone.localdate() + datetime.timedelta(days=7),
        ends_on=timezone.localdate() + datetime.timedelta(days=20),
        proposed_at=timezone.now(),
        proposed_by="rovaniemi.staff",
    )
    lapland = Consortium.objects.get(slug="lapin-kirjastot")
    subject_request = SubjectRequest.objects.create(
        consortium=lapland,
        patron_id=lapland_patron.pk,
        kind="access",
        received_on=timezone.localdate(),
        identity_document="passport",
        identity_verified_by="dpo",
        identity_verified_on=timezone.localdate(),
        due_on=timezone.localdate() + datetime.timedelta(days=30),
        recorded_at=timezone.now(),
        recorded_by="dpo",
    )
    breach = Breach.objects.create(
        consortium=lapland,
        aware_at=timezone.now(),
        description="A list of overdue loans was emailed to the wrong recipient.",
        authority_deadline=timezone.now() + datetime.timedelta(hours=72),
        recorded_at=timezone.now(),
        recorded_by="dpo",
    )
    register_description, _created = RegisterDescription.objects.get_or_create(
        consortium=lapland, register=Register.LIBRARY_SYSTEM
    )
    # A conflict: another Lapland patron's (demo, temporary) code entered for the matrix patron.
    held = IdentityCode.objects.filter(consortium_id=lapland.pk).exclude(patron_id=lapland_patron.pk).first()
    identity_code_store(
        actor=Actor(
            user_id=None, username="seed", municipality_id=rovaniemi.pk, consortium_id=lapland.pk, client_ip=None
        ),
        patron_id=lapland_patron.pk,
        code=crypto.decrypt_row(held),
        allow_temporary=True,
    )
    return {
        "conflict": IdentityCodeConflict.objects.get(patron_id=lapland_patron.pk, resolved_at__isnull=True).pk,
        "finding": IdentityCodeImportFinding.objects.create(
            consortium=lapland, patron=lapland_patron, kind=ImportFindingKind.INVALID
        ).pk,
        "note": note.pk,
        "ban": ban.pk,
        "prohibition": AccessProhibition.objects.create(
            patron=lapland_patron,
            library=Library.objects.get(koha_library_id="ROV"),
            applied_on=timezone.localdate(),
            application_reference="KS 1",
            prosecutor_reference="AM 1",
            decided_on=timezone.localdate(),
            starts_on=timezone.localdate() + datetime.timedelta(days=7),
            ends_on=timezone.localdate() + datetime.timedelta(days=20),
            recorded_at=timezone.now(),
            recorded_by="rovaniemi.staff",
        ).pk,
        "request": subject_request.pk,
        "breach": breach.pk,
        "dpo_subjectrequest": subject_request.pk,
        # Lifted: a restriction in force would refuse the writes the matrix makes to its patron.
        "patrons_processingrestriction": ProcessingRestriction.objects.create(
            patron=lapland_patron,
            ground="art18_1_a",
            subject_request_id=subject_request.pk,
            restricted_at=timezone.now(),
            restricted_by="dpo",
            patron_informed_on=timezone.localdate(),
            lifted_at=timezone.now(),
            lifted_by="dpo",
        ).pk,
        "dpo_breach": breach.pk,
        "dpo_registerdescription": register_description.pk,
        "patron": lapland_patron.pk,
        "audit_accessevent": event.pk,
        "staff_municipality": rovaniemi.pk,
        "staff_allowednetwork": AllowedNetwork.objects.filter(municipality=rovaniemi).first().pk,
        "staff_consortium": Consortium.objects.get(slug="lapin-kirjastot").pk,
        "staff_library": Library.objects.get(koha_library_id="ROV").pk,
        "bans_decisioncompetence": DecisionCompetence.objects.get(decider__username="rovaniemi.director").pk,
        "patrons_closureperiod": ClosurePeriod.objects.create(
            consortium=Consortium.objects.get(slug="lapin-kirjastot"),
            starts_on=datetime.date(2020, 3, 18),
            ends_on=datetime.date(2020, 5, 31),
        ).pk,
        "koha_kohaconnection": KohaConnection.objects.create(
            consortium=Consortium.objects.get(slug="lapin-kirjastot"),
            base_url="https://koha.lapin-kirjastot.example",
            client_id="privacy-service",
            enabled=False,  # no secret, no such host: the access report must not try to reach it
        ).pk,
        "koha_syncrun": SyncRun.objects.create(consortium=lapland, kind="full", started_at=timezone.now()).pk,
        "koha_kohadeparture": KohaDeparture.objects.create(patron=lapland_patron, noticed_at=timezone.now()).pk,
        "koha_koharestriction": restriction_row(lapland, lapland_patron).pk,
        "koha_koharestrictionpush": push_record(lapland).pk,
        "staff_staffprofile": staff_profile.pk,
        "auth_user": staff_profile.user_id,
        "auth_group": Group.objects.get(name="staff").pk,
        "staff_machinekey": MachineKey.objects.create_key(
            name="koha", consortium=rovaniemi.consortium, networks="127.0.0.0/8"
        )[0].pk,
    }


def concrete_path(key: str, route: str, objects: dict) -> str:
    """A real path for a route, with real objects for its parameters."""
    if key == "admin:app_list":
        return "/admin/staff/"
    if key == "admin/(?P<url>.*)$":
        return "/admin/no-such-page/"
    if key == "admin:view_on_site":
        return f"/admin/r/9999/{objects['patron']}/"
    if any(
        f"<id:{parameter}_id>" in route
        for parameter in ("patron", "ban", "prohibition", "request", "breach", "conflict", "finding")
    ):
        for parameter in ("patron", "note", "ban", "prohibition", "request", "breach", "conflict", "finding"):
            route = route.replace(f"<id:{parameter}_id>", str(objects[parameter]))
        route = route.replace("<str:language>", "fi")
        return "/" + route
    if "<path:object_id>" in route or "<id>" in route:
        model = next(m for m in ADMIN_MODELS if route.startswith(f"admin/{admin_path(m)}/"))
        return "/" + route.replace("<path:object_id>", str(objects[model])).replace("<id>", str(objects[model]))
    route = route.replace("<slug:consortium>", "lapin-kirjastot").replace("<id:koha_patron_id>", "1")
    assert "<" not in route and "(" not in route, f"no way to build a path for {route}"
    return "/" + route


def test_every_url_has_a_rule():
    missing = sorted({key for key, _route in url_patterns()} - set(RULES))
    assert not missing, f"URLs without an access rule: {missing}"


def address_for(role: str | None, network: str) -> tuple[str, dict]:
    own = OWN_NETWORK.get(role or "", "127.0.0.1")
    if network == "own":
        return own, {}
    if network == "other_municipality":
        return OTHER_MUNICIPALITY.get(role or "", "10.20.5.5"), {}
    if network == "unknown":
        return UNKNOWN, {}
    spoof = {"HTTP_X_FORWARDED_FOR": own, "HTTP_X_REAL_IP": own, "HTTP_FORWARDED": f'for="{own}"'}
    return UNKNOWN, spoof


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize("network", NETWORKS)
def test_access_matrix(role, network, objects):
    address, headers = address_for(role, network)
    failures = []
    client = client_for(role, address=address, **headers)
    user = get_user_model().objects.get(username=role) if role else None
    for key, route in url_patterns():
        path = concrete_path(key, route, objects)
        if user is not None:
            client.force_login(user)  # a denial ends the session; every URL starts logged in
        status = client.get(path).status_code
        want = expected_status(key, role) if role is None or network == "own" else 403
        if status != want:
            failures.append(f"{path} ({key}): got {status}, expected {want}")
    assert not failures, "\n".join(failures)


def test_denials_are_logged_and_end_the_session(lapland_patron):
    client = client_for("rovaniemi.staff", address="10.20.5.5")
    before = AccessEvent.objects.filter(outcome="denied").count()
    assert client.get(f"/patrons/{lapland_patron.pk}/").status_code == 403
    assert AccessEvent.objects.filter(outcome="denied").count() == before + 1
    event = AccessEvent.objects.filter(outcome="denied").order_by("-id").first()
    assert (event.actor_username, event.client_ip, event.detail) == (
        "rovaniemi.staff",
        "10.20.5.5",
        "network_not_allowed",
    )
    assert event.patron_ids == []
    # The session is gone: back on the right network, the user must log in again.
    client.defaults["REMOTE_ADDR"] = "127.0.0.1"
    assert client.get(f"/patrons/{lapland_patron.pk}/").status_code == 302
