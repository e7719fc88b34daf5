"""`manage.py seed_demo`: idempotent demo data (consortia, networks, libraries, staff users, patrons,
generated identity codes in the sotu-silo).

Every row is looked up by its natural key and only written when missing or different, so a second
run changes nothing. All of it happens in one transaction.
"""

import random
from collections import Counter
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.utils import translation

from audit.actor import Actor
from core.model_fields import model_field
from demo.access_review import seed_access_review_demo
from demo.breaches import seed_breaches
from demo.identity_codes import demo_code_index, demo_identity_code
from demo.patron_data import (
    CONFIDENTIALITY_SIGNED_ON,
    CONSORTIA,
    DEMO_PASSWORD,
    REFERENCE_DATE,
    STAFF_USERS,
    ConsortiumSpec,
    generate_patrons,
)
from demo.procedures import seed_procedures
from demo.registers import seed_register_descriptions
from demo.subject_requests import seed_subject_requests
from demo.two_factor import seed_demo_two_factor
from patrons.models import Guardianship, Patron
from sotu_silo.models import IdentityCode
from sotu_silo.services import identity_code_store
from staff.models import AllowedNetwork, Consortium, Library, Municipality, StaffProfile

_MISSING = object()


class Command(BaseCommand):
    help = "Create or refresh the demo consortia, libraries, staff users and patrons. Safe to run repeatedly."

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbose = options["verbosity"] >= 1
        self.stats: dict[str, Counter[str]] = {}
        with transaction.atomic():
            libraries: dict[str, Library] = {}
            consortia: dict[str, Consortium] = {}
            for spec in CONSORTIA:
                consortia[spec.slug] = self.seed_tenancy(spec, libraries)
            self.seed_users(libraries)
            self.log(f"Demo authenticators (README): {seed_demo_two_factor()} set")
            for spec in CONSORTIA:
                self.seed_patrons(spec, consortia[spec.slug], libraries)
            for spec in CONSORTIA:
                self.seed_identity_codes(spec, consortia[spec.slug])
            for spec in CONSORTIA:
                self.seed_procedures(spec, consortia[spec.slug])
                seed_register_descriptions(consortia[spec.slug], sync=self.sync)
                seed_subject_requests(consortia[spec.slug])
            self.log(f"Demo breaches: {seed_breaches()} created")
            seed_access_review_demo()
        self.print_summary()

    # --- writing helpers -------------------------------------------------------------------------

    def sync(
        self, model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any], existing: Any = _MISSING
    ) -> tuple[Any, bool]:
        """Get the row matching `lookup` (or use `existing`), create it or update the fields that differ.

        Returns (object, created). Unchanged rows are not saved, so timestamps stay put.
        """
        obj = model._default_manager.filter(**lookup).first() if existing is _MISSING else existing
        with translation.override("en"):
            label = str(model._meta.verbose_name_plural).capitalize()
        counter = self.stats.setdefault(label, Counter())
        if obj is None:
            counter["created"] += 1
            return model._default_manager.create(**lookup, **values), True
        changed = [name for name, value in values.items() if _differs(obj, name, value)]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            obj.save()
            counter["updated"] += 1
        else:
            counter["unchanged"] += 1
        return obj, False

    def log(self, message: str) -> None:
        if self.verbose:
            self.stdout.write(message)

    # --- the data ----------------------------------------------------------------------------------

    def seed_tenancy(self, spec: ConsortiumSpec, libraries: dict[str, Library]) -> Consortium:
        """The consortium, its municipalities, networks and libraries; fills `libraries` by koha id."""
        consortium, _ = self.sync(
            Consortium, {"slug": spec.slug}, {"name": spec.name, "jurisdiction": spec.jurisdiction}
        )
        for cidr, description in spec.networks:
            self.sync(
                AllowedNetwork,
                {"consortium": consortium, "municipality": None, "cidr": cidr},
                {"description": description},
            )
        for municipality_spec in spec.municipalities:
            municipality, _ = self.sync(
                Municipality,
                {"consortium": consortium, "name": municipality_spec.name},
                dict(municipality_spec.official_data),
            )
            for cidr, description in municipality_spec.networks:
                self.sync(
                    AllowedNetwork,
                    {"municipality": municipality, "consortium": None, "cidr": cidr},
                    {"description": description},
                )
            for library_spec in municipality_spec.libraries:
                library, _ = self.sync(
                    Library,
                    {"koha_library_id": library_spec.koha_library_id},
                    {"name": library_spec.name, "municipality": municipality},
                )
                libraries[library.koha_library_id] = library
        return consortium

    def seed_users(self, libraries: dict[str, Library]) -> None:
        """Staff users with their groups, signed confidentiality agreements and last privacy briefings."""
        user_model = get_user_model()
        needed = {name for user_spec in STAFF_USERS for name in user_spec.groups}
        groups = {group.name: group for group in Group.objects.filter(name__in=needed)}
        if missing := needed - groups.keys():
            raise CommandError(f"Groups {sorted(missing)} do not exist; run `manage.py migrate` first.")
        for user_spec in STAFF_USERS:
            user, created = self.sync(
                user_model,
                {"username": user_spec.username},
                {
                    "first_name": user_spec.first_name,
                    "last_name": user_spec.last_name,
                    "email": user_spec.email,
                    "is_active": True,
                    "is_staff": user_spec.is_staff,
                    "is_superuser": user_spec.is_superuser,
                },
            )
            if created or not user.has_usable_password():
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            user.groups.set([groups[name] for name in user_spec.groups])
            self.sync(
                StaffProfile,
                {"user": user},
                {
                    "home_library": libraries[user_spec.home_library],
                    "confidentiality_signed_on": CONFIDENTIALITY_SIGNED_ON,
                    "privacy_briefing_on": user_spec.privacy_briefing_on,
                },
            )

    def seed_patrons(self, spec: ConsortiumSpec, consortium: Consortium, libraries: dict[str, Library]) -> None:
        """The consortium's generated patrons and their guardianships."""
        before = {key: Counter(counter) for key, counter in self.stats.items()}
        existing = {patron.koha_patron_id: patron for patron in Patron.objects.filter(consortium=consortium)}
        patrons: dict[int, Patron] = {}
        guardianships: list[tuple[int, int, str]] = []
        for record in generate_patrons(spec):
            values = dict(record)
            koha_id = values.pop("koha_patron_id")
            for guardian_id, relationship in values.pop("guardians"):
                guardianships.append((koha_id, guardian_id, relationship))
            values["home_library"] = libraries[values["home_library"]]
            patrons[koha_id], _ = self.sync(
                Patron,
                {"consortium": consortium, "koha_patron_id": koha_id},
                values,
                existing=existing.get(koha_id),
            )
        existing_links = {
            (link.ward_id, link.guardian_id): link for link in Guardianship.objects.filter(ward__consortium=consortium)
        }
        for ward_id, guardian_id, relationship in guardianships:
            ward, guardian = patrons[ward_id], patrons[guardian_id]
            self.sync(
                Guardianship,
                {"ward": ward, "guardian": guardian},
                {"relationship": relationship},
                existing=existing_links.get((ward.pk, guardian.pk)),
            )

        def delta(label: str) -> str:
            now, then = self.stats.get(label, Counter()), before.get(label, Counter())
            return ", ".join(f"{now[kind] - then[kind]} {kind}" for kind in ("created", "updated", "unchanged"))

        self.log(
            f"{spec.name}: {len(patrons)} patrons ({delta('Patrons')}), "
            f"{len(guardianships)} guardianships ({delta('Guardianships')})"
        )

    def seed_identity_codes(self, spec: ConsortiumSpec, consortium: Consortium) -> None:
        """Generated codes for most adults, stored through the silo's own service (so each is logged).

        The codes are nobody's: temporary HETUs in a Finnish consortium, personnummer with the
        never-assigned birth number 000 in a Swedish one (see `demo.identity_codes`).
        """
        rng = random.Random(f"sotu:{spec.slug}")
        adult_born_before = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - 18)
        codes = IdentityCode.objects.filter(consortium_id=consortium.pk)
        stored = set(codes.values_list("patron_id", flat=True))
        held = set(codes.values_list("blind_index", flat=True))
        seeder = Actor(
            user_id=None, username="seed_demo", municipality_id=None, consortium_id=consortium.pk, client_ip=None
        )
        created = 0
        for patron in Patron.objects.filter(consortium=consortium).order_by("koha_patron_id"):
            # Drawn for every patron, so runs stay deterministic.
            assert patron.date_of_birth is not None  # every demo patron has one
            code = demo_identity_code(country=spec.jurisdiction, date_of_birth=patron.date_of_birth, rng=rng)
            keep = rng.random() < 0.85
            if patron.date_of_birth >= adult_born_before or not keep or patron.pk in stored:
                continue
            index = demo_code_index(code, country=spec.jurisdiction)
            if index in held:
                continue  # the same code drawn twice (or the same birth date in Sweden): leave this one without
            identity_code_store(actor=seeder, patron_id=patron.pk, code=code, allow_temporary=True)
            held.add(index)
            created += 1
        total = len(stored) + created
        counter = self.stats.setdefault("Identity codes", Counter())
        counter["created"] += created
        counter["unchanged"] += len(stored)
        self.log(f"{spec.name}: {total} identity codes ({created} created)")

    def seed_procedures(self, spec: ConsortiumSpec, consortium: Consortium) -> None:
        """Notes of every category, register memberships, an adult under guardianship, bans or a prohibition."""
        counts = seed_procedures(consortium)
        self.log(
            f"{spec.name}: {counts.notes} notes, {counts.registers} register memberships, "
            f"{counts.trusteeships} adult guardianships, {counts.bans} bans or prohibitions created"
        )

    def print_summary(self) -> None:
        self.log(self.style.SUCCESS("Demo data ready. Password for all demo users: " + DEMO_PASSWORD))
        for label, counter in self.stats.items():
            total = sum(counter.values())
            self.log(
                f"  {label}: {total} "
                f"({counter['created']} created, {counter['updated']} updated, {counter['unchanged']} unchanged)"
            )


def _differs(obj: models.Model, name: str, value: Any) -> bool:
    """Whether setting field `name` to `value` would change `obj`; compares foreign keys by id."""
    field = model_field(obj, name)
    if field.is_relation and field.many_to_one:
        return getattr(obj, field.attname) != (value.pk if value is not None else None)
    return getattr(obj, name) != value
