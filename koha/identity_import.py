"""Identity codes out of Koha: read Koha's identity-code attribute, store each code in the silo, put a key back.

Koha-Suomi keeps the code in a unique, non-repeatable patron extended attribute of type `SSN`; some
libraries still hold the code itself there. For each value (sotu_silo.imports does the silo's half):

- already a key (ours, or Koha-Suomi's `ssn` + 10 digits into Hetula): left alone;
- a patron not synced here yet (no Patron with that Koha id in the consortium): left alone, listed by Koha
  patron id so the operator syncs and runs again;
- otherwise the code is stored first (or found stored by an earlier run), and only then replaced in Koha by
  the patron's key. A run that stops between the two (crash, Koha down) finds the code stored next time and
  only replaces it in Koha; a second run finds keys only and writes nothing;
- an invalid code, or one that differs from a code stored here, is not stored, is listed for billing
  (IdentityCodeImportFinding, never the code) and is replaced in Koha by the patron's key all the same, so
  no code stays in Koha; a code another patron holds becomes a conflict entry billing resolves
  (/billing/conflicts/) and is replaced by the key too: whichever way billing decides, the key names the
  patron's entry in the silo.

No transaction spans the run: each code's store commits before Koha is asked to forget it, which is what
makes a crash safe. Codes go only to the silo: never into Koha, an output, a log line, an event or an error.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from audit.actor import Actor
from koha import errors
from koha.client import DEFAULT_PER_PAGE, KohaClient
from koha.models import IdentityCodeImportFinding, ImportFindingKind
from koha.selectors import client_for
from patrons.models import Patron
from sotu_silo.imports import ImportOutcome, identity_code_import, identity_code_is_key, identity_code_key
from staff.models import Consortium

COMMAND = "koha_import_identity_codes"
DEFAULT_ATTRIBUTE = "SSN"
FINDINGS = {ImportOutcome.INVALID: ImportFindingKind.INVALID, ImportOutcome.DIFFERS: ImportFindingKind.DIFFERS}


@dataclass
class ImportCounts:
    read: int = 0  # attribute values read from Koha
    stored: int = 0
    resumed: int = 0  # stored by an earlier run that stopped before Koha was updated
    already_keys: int = 0
    conflicts: int = 0
    invalid: int = 0
    differs: int = 0
    not_synced: int = 0
    koha_refused: int = 0
    replaced_in_koha: int = 0
    not_synced_ids: list[int] = field(default_factory=list)  # Koha patron ids: no personal data
    koha_refused_ids: list[int] = field(default_factory=list)  # their code is still in Koha: run again


class ImportStopped(Exception):
    """Koha could not be reached (or refused the log-in) mid-run; what was done so far is in `counts`."""

    def __init__(self, error: errors.KohaError, counts: ImportCounts) -> None:
        super().__init__(str(error))
        self.error, self.counts = error, counts


def import_actor(consortium: Consortium) -> Actor:
    """The access log's actor of a run: the command and the consortium, no user."""
    name = f"{COMMAND}:{consortium.slug}"
    return Actor(
        user_id=None, username=name, municipality_id=None, consortium_id=consortium.pk, client_ip=None, resource=name
    )


def identity_codes_import(
    *,
    consortium: Consortium,
    attribute: str = DEFAULT_ATTRIBUTE,
    dry_run: bool = False,
    per_page: int = DEFAULT_PER_PAGE,
    client: KohaClient | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportCounts:
    """Import the consortium's codes from Koha's `attribute`; the counts. ImportStopped when Koha fails."""
    client = client or client_for(consortium)
    actor = import_actor(consortium)
    counts = ImportCounts()
    done = 0
    try:
        for page in client.patrons_with_attribute(attribute, per_page=per_page):
            koha_ids = [int(item["patron_id"]) for item in page.items]
            patrons = {
                patron.koha_patron_id: patron
                for patron in Patron.objects.select_related("consortium").filter(
                    consortium=consortium, koha_patron_id__in=koha_ids
                )
            }
            for item in page.items:
                for value in item.get("extended_attributes") or ():
                    if value.get("type") == attribute:
                        _one(client, actor, patrons.get(int(item["patron_id"])), item, value, counts, dry_run)
                done += 1
                if progress:
                    progress(done, page.total)
    except (errors.KohaUnreachable, errors.KohaAuthFailed) as error:
        raise ImportStopped(error, counts) from None
    return counts


@sensitive_variables("value")
def _one(
    client: KohaClient,
    actor: Actor,
    patron: Patron | None,
    item: dict,
    value: dict,
    counts: ImportCounts,
    dry_run: bool,
) -> None:
    """One attribute value: store it, then replace it in Koha with the patron's key."""
    counts.read += 1
    if identity_code_is_key(str(value.get("value") or "")):
        counts.already_keys += 1
        return
    if patron is None:
        counts.not_synced += 1
        counts.not_synced_ids.append(int(item["patron_id"]))
        return
    outcome = identity_code_import(actor=actor, patron=patron, code=str(value.get("value") or ""), dry_run=dry_run)
    _count(counts, outcome)
    if dry_run:
        return
    if outcome in FINDINGS:
        with transaction.atomic():
            IdentityCodeImportFinding.objects.update_or_create(
                patron=patron, defaults={"consortium_id": patron.consortium_id, "kind": FINDINGS[outcome]}
            )
    try:
        client.extended_attribute_update(
            int(item["patron_id"]), int(value["extended_attribute_id"]), identity_code_key(patron_id=patron.pk)
        )
    except (errors.KohaRefused, errors.KohaNotFound, errors.KohaBadAnswer):
        counts.koha_refused += 1
        counts.koha_refused_ids.append(int(item["patron_id"]))
    else:
        counts.replaced_in_koha += 1


def _count(counts: ImportCounts, outcome: ImportOutcome) -> None:
    attribute = {
        ImportOutcome.STORED: "stored",
        ImportOutcome.ALREADY: "resumed",
        ImportOutcome.CONFLICT: "conflicts",
        ImportOutcome.INVALID: "invalid",
        ImportOutcome.DIFFERS: "differs",
    }[outcome]
    setattr(counts, attribute, getattr(counts, attribute) + 1)
