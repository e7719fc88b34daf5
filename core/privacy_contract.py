"""The privacy contract: what each app tells the data protection officer about the patrons it holds data of.

The DPO's access report (GDPR Art. 15) and erasure (Art. 17) must cover every register of the service,
and a new app must not mean editing dpo/. So each app declares, in its own `<app>/privacy.py`, a tuple
`CONTRACTS` of PrivacyContract objects: its sections of the access report (labelled in the patron's
language) and what the report's access event must name, what an erasure removes from it and what it must
keep, and why. dpo/ finds them through `privacy_contracts()` among the installed apps and knows no other
app's models; the idea is kukkuu's `gdpr` app, where each model says which of its fields a GDPR query
serializes.

Each contract says where its part goes (`report_order`, `erasure_order`): the report reads from who the
patron is to who has processed their data, while the erasure page lists what goes, then what stays.
A contract also gives the app's retention rules (`retention_rules`: which of its rows are due for removal
on a day, run by `manage.py apply_retention`) and names what its registers keep elsewhere
(`retention_not_applied_here`), each with its own `order`, since one app's rule may have to run between
two of another's.
The report's building blocks (Item, Record, Section) and the helpers that label a model's fields are
here too, so every app labels its data the same way. Staff are named only with
settings.ACCESS_REPORT_STAFF_NAMES (`staff_fields`).
"""

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Literal

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.module_loading import module_has_submodule
from django.utils.text import capfirst
from django.utils.translation import gettext

from core.model_fields import model_field
from core.registers import Register


@dataclass(frozen=True, slots=True)
class Item:
    """One labelled value: `value` for machines (codes, ISO dates), `text` as the report shows it."""

    field: str
    label: str
    value: object
    text: str


@dataclass(frozen=True, slots=True)
class Record:
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Section:
    """One kind of data. A "table" section lists its records in columns (every record has every column)."""

    key: str
    title: str
    description: str
    records: tuple[Record, ...]
    layout: str = "fields"  # or "table"
    columns: tuple[str, ...] = ()


# --- Values as the report shows them ------------------------------------------------------------------


def value_text(value) -> str:
    """`value` in the active language: dates and times in its short format, yes/no, lists with commas."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, list | tuple):
        return ", ".join(value_text(part) for part in value)
    return str(value)


def report_item(field: str, label, value, text: str | None = None) -> Item:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
    return Item(field=field, label=capfirst(str(label)), value=value, text=value_text(value) if text is None else text)


def model_item(obj: models.Model, name: str) -> Item:
    """A model field labelled with its verbose name; a choice's value is its code, its text the label."""
    field = model_field(obj, name)
    value = getattr(obj, name)
    if field.choices:
        return report_item(name, field.verbose_name, value, str(getattr(obj, f"get_{name}_display")()))
    if isinstance(value, models.Model):
        return report_item(name, field.verbose_name, str(value))
    return report_item(name, field.verbose_name, value)


def model_record(
    obj: models.Model, names, *, first: tuple[Item, ...] = (), extra: tuple[Item, ...] = (), keep_empty: bool = False
) -> Record:
    """The named fields of `obj` between `first` and `extra`; empty ones left out unless `keep_empty`."""
    items = (*first, *(model_item(obj, name) for name in names), *extra)
    return Record(items=tuple(item for item in items if keep_empty or item.text))


def staff_fields(*names: str) -> tuple[str, ...]:
    """Fields naming a staff member: reported only when settings.ACCESS_REPORT_STAFF_NAMES is on."""
    return names if settings.ACCESS_REPORT_STAFF_NAMES else ()


# --- The contract -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataSubject:
    """The patron as the app holding the patron record knows them: enough to address the report."""

    patron_id: int
    consortium_id: int
    name: str
    language: str  # the report is made in it: fi, sv (Sweden's), sv-fi (Finland-Swedish) or en
    controller: str  # the name of the register's controller (the consortium)
    # Who the DPO is about to erase, shown before the typed confirmation (the card number is typed).
    cardnumber: str = ""
    date_of_birth: datetime.date | None = None


@dataclass(frozen=True, slots=True)
class ReportContext:
    patron_id: int
    consortium_id: int


@dataclass(frozen=True, slots=True)
class ReportPart:
    """An app's part of the access report.

    `record_items` are added to each record of another app's section, by its key: the silo says on the
    patron record whether an identity code is stored. `facts` are statements the report makes as a whole
    (`identity_code_stored`). `related_patron_ids` are the other patrons whose data the part shows (a
    guardian's name) and `data_categories` what it shows: the report's access event names both.

    A part read from a system outside this service's databases (the library system) may fail to come:
    `incomplete` then says why, in the report's language, and the report cannot be delivered until one
    is made complete (Art. 15 asks for all the data). `events` are the access-log actions the part
    performed besides the report's own (reading the outside system): the DPO records one event of each
    about the patron, naming no data.
    """

    sections: tuple[Section, ...] = ()
    record_items: Mapping[str, tuple[Item, ...]] = field(default_factory=dict)
    facts: Mapping[str, object] = field(default_factory=dict)
    related_patron_ids: tuple[int, ...] = ()
    data_categories: tuple[str, ...] = ()
    incomplete: tuple[str, ...] = ()
    events: tuple[str, ...] = ()


# The exceptions to erasure a legal hold rests on (GDPR Art. 17(3)), as dpo.models.RefusalGround codes them.
HOLD_LEGAL_OBLIGATION = "art17_3_b"  # an official document within its archive period
HOLD_LEGAL_CLAIMS = "art17_3_e"  # what is needed to establish or collect an open claim


@dataclass(frozen=True)
class LegalHold:
    """Data an erasure must keep for now, why and until when: a partial erasure (GDPR Art. 17(3)(b), (e)).

    `key` names the data kept, as the apps' ErasureLines name it (`bans`, `identity_code`); `ids` are the
    rows (empty: all of it). `ground` is HOLD_LEGAL_OBLIGATION or HOLD_LEGAL_CLAIMS, `reason` a short code
    and `reason_text` its words for the DPO. The hold lasts to `until` inclusive; the day after, the retention
    run (`legal_holds`, dpo/privacy.py) erases what it kept through `PrivacyContract.release_hold`. The app
    that holds the data keeps it in `erase` when the context holds its key; the app that knows the reason
    declares the hold (Koha knows the debt; the silo keeps the code). `needs_patron_record`: the data hangs
    on the patron record (a decision names its party), so the record stays, reduced, as long as this hold.
    """

    key: str
    label: str | Promise
    ground: str
    reason: str
    reason_text: str | Promise
    until: datetime.date
    ids: tuple[int, ...] = ()
    needs_patron_record: bool = False


@dataclass(frozen=True, slots=True)
class ErasureContext:
    """`erased_at` is None for an erasure carried out now. When an erasure is applied again after a backup
    restore it is the time of that erasure: a patron record created after it is a new patron's who got
    the same id, so what hangs on it stays. `holds` are the legal holds the erasure respects."""

    patron_id: int
    consortium_id: int | None
    day: datetime.date
    erased_at: datetime.datetime | None = None
    holds: tuple[LegalHold, ...] = ()

    def held_ids(self, key: str) -> set[int] | None:
        """The ids of `key` a hold keeps (empty: all of it); None when nothing of `key` is held."""
        holds = [hold for hold in self.holds if hold.key == key]
        return {pk for hold in holds for pk in hold.ids} if holds else None


@dataclass(frozen=True)
class ErasureLine:
    """One kind of data an erasure removes or keeps: how many, and their opaque ids for the DPO's page."""

    key: str
    label: str | Promise  # a kept line's label says why it is kept
    count: int
    ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class DecisionLine:
    """An official decision (a ban, an access prohibition) that would go: what it is today and how long the
    decision archive keeps it."""

    id: int
    state: str
    archived: bool
    retain_until: datetime.date | None
    state_label: str | Promise
    kind: str | Promise = ""  # what it is, as the DPO's page names it


@dataclass(frozen=True)
class PlanWarning:
    """Something the DPO should weigh before erasing; `ids` are opaque patron, ban or prohibition ids."""

    code: str
    message: str
    ids: list[int]


@dataclass(frozen=True)
class ErasurePart:
    """What erasing the patron would remove from an app and what it keeps, as counts and opaque ids.

    `details` are the ids and decisions under the names the erasure API gives them (`note_ids`).
    """

    removes: tuple[ErasureLine, ...] = ()
    keeps: tuple[ErasureLine, ...] = ()
    details: Mapping[str, object] = field(default_factory=dict)
    decisions: tuple[DecisionLine, ...] = ()
    warnings: tuple[PlanWarning, ...] = ()


@dataclass(frozen=True)
class PatronsChanged:
    """Other patrons whose data an erasure changed (a guardian link went): their access log says so."""

    patron_ids: tuple[int, ...]
    data_categories: tuple[str, ...]
    detail: str


@dataclass(frozen=True)
class OutsideErasure:
    """What erasing the patron in a system outside this service's databases did (GDPR Art. 19).

    `held` when the system still holds the patron, `reason` a code saying why (the system's refusal, or
    `unreachable`); `action` is the access-log action of the attempt, recorded about the patron.
    """

    key: str
    action: str
    held: bool
    reason: str = ""


@dataclass(frozen=True)
class ErasureDone:
    """`outside` are erasures in other systems, run only after the local erasure has committed: a call
    over the network cannot be rolled back, so it must not be made while the local erasure may still
    fail, and its failure must not undo the local one."""

    removed: Mapping[str, int] = field(default_factory=dict)
    changed: tuple[PatronsChanged, ...] = ()
    outside: tuple[Callable[[], OutsideErasure], ...] = ()


@dataclass(frozen=True)
class LedgerEntry:
    """One erased patron, as a ledger of erasures records them: no personal data."""

    patron_id: int
    consortium_id: int
    erased_at: datetime.datetime


class ErasureLedger:
    """A record of erasures kept in an app's own database, so that a backup restore of another database
    cannot make an erasure forgotten (dpo.services.erasure.erasures_reapply)."""

    def entry(self, patron_id: int) -> LedgerEntry | None:
        raise NotImplementedError

    def entries(self) -> dict[int, LedgerEntry]:
        raise NotImplementedError

    def write(self, entries: list[LedgerEntry]) -> None:
        raise NotImplementedError


def deleted_rows(rows: models.QuerySet[Any]) -> int:
    """Delete the rows (and what cascades from them); how many of their own model went."""
    _total, per_model = rows.delete()
    return per_model.get(rows.model._meta.label, 0)


@dataclass(frozen=True)
class RetentionRule:
    """Which of an app's rows a register keeps no longer on a day: `apply_retention` removes them.

    Rules run by `order` (across apps), each in its own transaction; `name` is the rule's name in the
    report and in the access event of its removals.
    """

    name: str
    order: int
    register: Register
    description: str | Promise
    due: Callable[[datetime.date], models.QuerySet[Any]]
    # The fields naming the patrons a removed row concerned: the retention event lists them.
    patron_fields: tuple[str, ...]
    data_categories: tuple[str, ...] = ()
    # For rows that stand for data elsewhere (a legal hold): called with the due rows instead of deleting them,
    # it erases what they stand for and answers how many rows it dealt with.
    apply: Callable[[models.QuerySet[Any]], int] | None = None

    @property
    def register_label(self) -> str:
        return str(Register(self.register).label)


@dataclass(frozen=True)
class NotAppliedHere:
    """A register's retention that this service does not apply, named in the report so nobody assumes it does."""

    name: str
    order: int
    register: Register
    description: str | Promise
    # Whether the report lists each consortium's retention for the register (its register description).
    lists_retention: bool = False

    @property
    def register_label(self) -> str:
        return str(Register(self.register).label)


class PrivacyContract:
    """What one app holds of a patron, for the DPO. Every method has a default: an app declares only what
    it holds. Methods run inside the DPO's transaction, on `databases` too."""

    # Where the app's part goes in the report and in the erasure's lists; leave gaps for apps to come.
    report_order: int = 0
    erasure_order: int = 0
    # The kinds of data an erasure removes from the app: the erasure's access event names them.
    erased_categories: tuple[str, ...] = ()
    # Database aliases other than "default" that hold the app's data: the erasure opens a transaction on each.
    databases: tuple[str, ...] = ()
    ledger: ErasureLedger | None = None

    def subject(self, patron_id: int, *, consortium_id: int | None, lock: bool = False) -> DataSubject | None:
        """The patron, when this app holds the patron record and it is the consortium's; else None."""
        return None

    def report_sections(self, patron_id: int, context: ReportContext) -> ReportPart:
        return ReportPart()

    def legal_holds(self, patron_id: int, context: ErasureContext) -> tuple[LegalHold, ...]:
        """What an erasure of the patron must keep for now, by a legal exception this app knows of (Art. 17(3))."""
        return ()

    def erasure_plan(self, patron_id: int, context: ErasureContext) -> ErasurePart:
        """What an erasure would remove and keep; `context.holds` are every app's legal holds, and what a hold
        keeps is a `keeps` line under the hold's key."""
        return ErasurePart()

    def release_hold(self, patron_id: int, key: str, ids: tuple[int, ...]) -> int:
        """Erase what a legal hold of this app's data (`key`) kept, now that it has ended; how many rows went."""
        return 0

    def erase(self, patron_id: int, context: ErasureContext) -> ErasureDone:
        """Remove the patron's data from the app. Contracts are erased from the last `erasure_order` to the
        first, so what hangs on the patron record goes before the record."""
        return ErasureDone()

    def held_since(self, patron_ids: list[int]) -> Mapping[int, datetime.datetime]:
        """When the app first stored what it now holds of each of these patrons; after a backup restore,
        what is older than a patron's erasure is theirs and is erased again."""
        return {}

    def open_matters(self, patron_ids: list[int], *, day: datetime.date) -> Mapping[int, tuple[str, ...]]:
        """Which of these patrons the app still has an open matter about on `day` (a ban in force or in
        procedure, an unanswered data-subject request), as short codes per patron: a patron gone from Koha
        with an open matter is flagged for a person to look at, never quietly let go."""
        return {}

    def held_elsewhere_text(self, key: str, reason: str) -> str | None:
        """What an outside erasure of this app (`OutsideErasure.key`) that left the patron held for `reason`
        means, in words the DPO understands; None for another app's key."""
        return None

    def retention_rules(self) -> tuple[RetentionRule, ...]:
        return ()

    def retention_not_applied_here(self) -> tuple[NotAppliedHere, ...]:
        return ()


def privacy_contracts(order: Literal["report", "erasure"]) -> list[PrivacyContract]:
    """The contracts of the installed apps (each app's `privacy.CONTRACTS`), in the report's or the erasure's order.

    Found anew on each call: a dozen apps, and a test that installs another app sees its contract.
    """
    contracts = [
        contract
        for app_config in apps.get_app_configs()
        if module_has_submodule(app_config.module, "privacy")
        for contract in import_module(f"{app_config.name}.privacy").CONTRACTS
    ]
    return sorted(contracts, key=lambda contract: getattr(contract, f"{order}_order"))


def open_matters(patron_ids: list[int], *, day: datetime.date) -> dict[int, list[str]]:
    """Every app's open matters about these patrons, codes sorted; patrons without any are left out."""
    found: dict[int, set[str]] = {}
    for contract in privacy_contracts("report"):
        for patron_id, codes in contract.open_matters(patron_ids, day=day).items():
            found.setdefault(patron_id, set()).update(codes)
    return {patron_id: sorted(codes) for patron_id, codes in found.items() if codes}


def held_elsewhere_text(key: str, reason: str) -> str | None:
    """The words of the app whose outside erasure recorded (key, reason); None when no app knows the key."""
    for contract in privacy_contracts("erasure"):
        if (text := contract.held_elsewhere_text(key, reason)) is not None:
            return text
    return None


def data_subject(patron_id: int, *, consortium_id: int | None, lock: bool = False) -> DataSubject | None:
    """The patron as the app holding the patron record knows them; None when the consortium has no such patron
    (erased, or another consortium's). With `lock`, the record is locked for the caller's transaction."""
    for contract in privacy_contracts("report"):
        if (subject := contract.subject(patron_id, consortium_id=consortium_id, lock=lock)) is not None:
            return subject
    return None
