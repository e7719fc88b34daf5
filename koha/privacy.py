"""What the library system (Koha) holds of a patron, for the data protection officer (core.privacy_contract).

The access report (GDPR Art. 15) covers Koha too: its patron record, current loans, holds, account lines
with the balance, and Koha's action-log entries about the patron, read live through the consortium's
connection when the report is made, labelled in the patron's language. When the consortium has no
connection, or the patron has no Koha id, the section says so. When Koha cannot be reached or refuses
the service (401/403/5xx), the section says so plainly and the part is marked incomplete: the DPO cannot
deliver the report until a complete one is made. The reading is an access event (KOHA_READ) about the
patron, naming no Koha data.

The erasure reaches Koha (Art. 17, 19). The dry run predicts Koha's refusals (409) from what Koha holds:
loans not returned (`has_checkouts`), a debt (`has_debt`), a protected record (`is_protected`), and
guarantees (`has_guarantees`), which Koha's API does not show, so they are predicted from the patron's
wards in this service. The deletion itself (DELETE /patrons/{id}) is made only after the local erasure
has committed (ErasureDone.outside): the call cannot be rolled back, so making it inside the local
transaction could leave the patron gone from Koha and still here; made after, a Koha failure leaves the
local erasure whole, and what Koha still holds (its 409 code, or `koha_unreachable`) is recorded on the
request, which stays open until the DPO records the ground. The attempt is an access event
(KOHA_PATRON_DELETE). An erasure re-applied after a backup restore does not call Koha again: the first
erasure did.

Identity codes are never read from Koha here (no extended attributes are fetched), and the action log's
`info` (which may hold changed fields, an identity code among them) is left out.
"""

import datetime
import functools
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.models import Action, DataCategory
from core.dates import start_of_day, today
from core.privacy_contract import (
    HOLD_LEGAL_CLAIMS,
    ErasureContext,
    ErasureDone,
    ErasureLine,
    ErasurePart,
    Item,
    LegalHold,
    OutsideErasure,
    PlanWarning,
    PrivacyContract,
    Record,
    ReportContext,
    ReportPart,
    RetentionRule,
    Section,
    report_item,
    staff_fields,
)
from core.registers import Register
from koha.client import KohaClient
from koha.errors import KohaError, KohaNotConnected, KohaNotFound, KohaRefused
from koha.models import ErasedKohaPatron, KohaRestriction, KohaRestrictionPush
from koha.restrictions import koha_restriction_remove, koha_restrictions_removed_with_patron
from koha.selectors import client_for
from patrons.models import Guardianship, Patron
from staff.models import Consortium

KEY = "koha"
# Koha's 409 codes for DELETE /patrons/{id}, in the order Koha checks them (Koha::Patron::safe_to_delete).
REFUSALS = {
    "has_checkouts": _("Koha would refuse: the patron has loans not returned"),
    "has_debt": _("Koha would refuse: the patron owes the library money"),
    "has_guarantees": _("Koha would refuse: the patron is the guarantor of other patrons"),
    "is_protected": _("Koha would refuse: the patron record is protected in Koha"),
}


# Why Koha still holds a patron after the erasure (SubjectRequest.held_elsewhere): Koha's 409 codes of
# DELETE /patrons/{id}, and this service's codes for a Koha it could not use (koha/errors.py).
HELD_REASONS = {
    "has_checkouts": _("Koha still holds the patron: loans not returned."),
    "has_debt": _("Koha still holds the patron: the patron owes the library money."),
    "has_guarantees": _("Koha still holds the patron: the patron is the guarantor of other patrons."),
    "is_protected": _("Koha still holds the patron: the record is protected in Koha."),
    "is_anonymous_patron": _("Koha still holds the patron: it is Koha's anonymous patron, which is never deleted."),
    "koha_unreachable": _("Koha still holds the patron: Koha could not be reached when the erasure was made."),
    "koha_auth_failed": _("Koha still holds the patron: Koha did not accept this service's credentials."),
    "koha_not_connected": _("Koha still holds the patron: the connection to Koha was turned off."),
}


def _labels() -> dict[str, str]:
    """Koha's fields as the report names them, in the active language (the patron's)."""
    return {
        "cardnumber": gettext("card number"),
        "surname": gettext("last name"),
        "firstname": gettext("first name"),
        "preferred_name": gettext("preferred name"),
        "date_of_birth": gettext("date of birth"),
        "library_id": gettext("home library"),
        "category_id": gettext("patron category"),
        "email": gettext("email"),
        "phone": gettext("phone"),
        "mobile": gettext("mobile phone"),
        "address": gettext("address"),
        "address2": gettext("address, second line"),
        "postal_code": gettext("postal code"),
        "city": gettext("city"),
        "country": gettext("country"),
        "userid": gettext("user name"),
        "relationship_type": gettext("relationship to the guarantor"),
        "privacy": gettext("loan history kept (Koha's privacy setting)"),
        "expiry_date": gettext("card expires on"),
        "restricted": gettext("restricted"),
        "protected": gettext("protected"),
        "lang": gettext("language"),
        "updated_on": gettext("last changed"),
        "checkout_date": gettext("borrowed on"),
        "due_date": gettext("due on"),
        "checkin_date": gettext("returned"),
        "item_id": gettext("item"),
        "renewals_count": gettext("renewals"),
        "hold_date": gettext("placed on"),
        "biblio_id": gettext("title"),
        "pickup_library_id": gettext("pick-up library"),
        "status": gettext("status"),
        "expiration_date": gettext("expires on"),
        "date": gettext("date"),
        "amount": gettext("amount"),
        "amount_outstanding": gettext("outstanding"),
        "debit_type": gettext("charge"),
        "credit_type": gettext("payment or credit"),
        "description": gettext("description"),
        "timestamp": gettext("time"),
        "module": gettext("area"),
        "action": gettext("action"),
        "interface": gettext("where"),
        "user": gettext("staff member (Koha's id)"),
    }


PATRON_FIELDS = (
    "cardnumber",
    "surname",
    "firstname",
    "preferred_name",
    "date_of_birth",
    "library_id",
    "category_id",
    "email",
    "phone",
    "mobile",
    "address",
    "address2",
    "postal_code",
    "city",
    "country",
    "userid",
    "relationship_type",
    "privacy",
    "expiry_date",
    "restricted",
    "protected",
    "lang",
    "updated_on",
)
CHECKOUT_FIELDS = ("checkout_date", "due_date", "item_id", "library_id", "renewals_count")
RETURNED_FIELDS = ("checkout_date", "checkin_date", "item_id", "library_id")
HOLD_FIELDS = ("hold_date", "biblio_id", "item_id", "pickup_library_id", "status", "expiration_date")
ACCOUNT_FIELDS = ("date", "debit_type", "credit_type", "description", "amount", "amount_outstanding", "library_id")
LOG_FIELDS = ("timestamp", "module", "action", "interface")

DATE_FIELDS = {"date_of_birth", "expiry_date", "hold_date", "expiration_date"}
DATETIME_FIELDS = {"updated_on", "checkout_date", "checkin_date", "due_date", "date", "timestamp"}


def _value(name: str, value: Any) -> Any:
    """Koha's value as the report shows it: its dates and times as dates and times, if they parse."""
    if isinstance(value, str) and value:
        try:
            if name in DATETIME_FIELDS:
                return datetime.datetime.fromisoformat(value)
            if name in DATE_FIELDS:
                return datetime.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


def _record(row: dict[str, Any], names: tuple[str, ...], labels: dict[str, str], *, keep_empty: bool = False) -> Record:
    items: list[Item] = [report_item(name, labels[name], _value(name, row.get(name))) for name in names]
    return Record(items=tuple(item for item in items if keep_empty or item.text))


def _table(key: str, title: str, description: str, rows: list[dict[str, Any]], names: tuple[str, ...]) -> Section:
    labels = _labels()
    return Section(
        key=key,
        title=title,
        description=description,
        records=tuple(_record(row, names, labels, keep_empty=True) for row in rows),
        layout="table",
        columns=tuple(labels[name] for name in names),
    )


def _notice(description: str) -> Section:
    return Section(key=KEY, title=gettext("In the library system (Koha)"), description=description, records=())


def _koha_patron(patron_id: int) -> tuple[int | None, Consortium] | None:
    """The patron's Koha id (None: never in Koha) and consortium; None when the record is gone already (an
    erasure re-applied after a restore of only one database)."""
    patron = (
        Patron.objects.select_related("consortium").only("koha_patron_id", "consortium").filter(pk=patron_id).first()
    )
    return None if patron is None else (patron.koha_patron_id, patron.consortium)


def _client(consortium: Consortium) -> KohaClient | None:
    try:
        return client_for(consortium)
    except KohaNotConnected:
        return None


def _sections(client: KohaClient, koha_id: int) -> tuple[Section, ...]:
    """Koha's data about the patron, read now; KohaError when Koha cannot give all of it."""
    patron = client.patron(koha_id)
    checkouts = client.checkouts(koha_id)
    returned = client.checkouts(koha_id, checked_in=True)
    holds = client.holds(koha_id)
    account = client.account(koha_id)
    logs = client.action_logs(koha_id)
    lines = [*account["outstanding_debits"].get("lines", []), *account["outstanding_credits"].get("lines", [])]
    labels = _labels()
    balance = report_item("balance", gettext("balance (what you owe; negative: owed to you)"), account["balance"])
    return (
        Section(
            key=KEY,
            title=gettext("In the library system (Koha)"),
            description=gettext(
                "Your patron record in the library system Koha, as Koha held it when this report was made. The "
                "loans, holds, fees and Koha's log follow."
            ),
            records=(_record(patron, PATRON_FIELDS, labels, keep_empty=True),),
        ),
        _table("koha_checkouts", gettext("Koha: your current loans"), "", checkouts, CHECKOUT_FIELDS),
        _table(
            "koha_loan_history",
            gettext("Koha: your returned loans"),
            gettext("The loans Koha keeps after their return, as your choice of loan history allows."),
            returned,
            RETURNED_FIELDS,
        ),
        _table("koha_holds", gettext("Koha: your holds"), "", holds, HOLD_FIELDS),
        Section(
            key="koha_balance",
            title=gettext("Koha: your account"),
            description=gettext("Your balance and the fees and credits not yet settled."),
            records=(Record(items=(balance,)),),
        ),
        _table("koha_account", gettext("Koha: fees and credits not yet settled"), "", lines, ACCOUNT_FIELDS),
        _table(
            "koha_action_log",
            gettext("Koha: its log of actions about you"),
            gettext("What was done to your record, loans and fees in Koha, and when."),
            logs,
            (*LOG_FIELDS, *staff_fields("user")),
        ),
    )


# What the erasure removes in Koha, planned whether or not Koha can be read now.
REMOVES_KOHA_PATRON = (ErasureLine("koha_patron", _("The patron in Koha"), 1),)
# Why the erasure keeps the Koha id (the DPO's plan shows it): without it the next sync would bring the patron back.
KEPT_KOHA_ID = _("Koha's patron id, so that a sync from Koha never brings the erased patron back")


def _no_record() -> ReportPart:
    return ReportPart(sections=(_notice(gettext("You have no record in the library system (Koha).")),))


def _out_of_reach(*, events: tuple[str, ...]) -> ReportPart:
    why = gettext(
        "The library system (Koha) could not be reached when this report was made, so its data is "
        "missing here. The report is incomplete and will be made again."
    )
    return ReportPart(sections=(_notice(why),), incomplete=(why,), events=events)


def _not_deleted(error: KohaError, consortium: Consortium, refs: tuple[str, ...]) -> OutsideErasure:
    """The stored secret cannot be read: Koha keeps the patron, and each planned removal of a restriction is
    recorded as failed (its row stays, for the push to retry once the secret is set again)."""
    for ref in refs:
        koha_restriction_remove(client=error, consortium=consortium, ref=ref)
    return OutsideErasure(key=KEY, action=Action.KOHA_PATRON_DELETE, held=True, reason=error.code)


def _delete(client: KohaClient, koha_id: int, consortium: Consortium, refs: tuple[str, ...]) -> OutsideErasure:
    """Delete the patron in Koha; what Koha still holds, and why, when it does not.

    Koha deletes a patron's restrictions with the patron, which confirms their removal. When it keeps the
    patron (loans, a debt, out of reach), the restrictions this service put there (`refs`) are removed one by
    one: an erased patron's ban must not go on stopping them at Koha's desk. Each removal is a push record like
    any other; one that fails keeps its (detached) row, which the next push retries."""
    try:
        client.patron_delete(koha_id)
    except KohaNotFound:
        pass  # gone already (deleted in Koha by hand): nothing held, and no restriction either
    except KohaError as error:
        for ref in refs:
            koha_restriction_remove(client=client, consortium=consortium, ref=ref)
        reason = error.error_code if isinstance(error, KohaRefused) else error.code
        return OutsideErasure(key=KEY, action=Action.KOHA_PATRON_DELETE, held=True, reason=reason)
    koha_restrictions_removed_with_patron(consortium=consortium, refs=refs)
    return OutsideErasure(key=KEY, action=Action.KOHA_PATRON_DELETE, held=False)


# The record of each restriction push (KohaRestrictionPush) is kept this long: long enough to answer when a
# patron asks why Koha's desk stopped them, or a library why it did not; it names a ref, never a person.
PUSH_RECORD_RETENTION = relativedelta(years=2)


def push_records_due(day: datetime.date):
    return KohaRestrictionPush.objects.filter(at__lt=start_of_day(day - PUSH_RECORD_RETENTION))


PUSH_RECORDS = RetentionRule(
    name="koha_restriction_pushes",
    order=70,
    register=Register.LIBRARY_SYSTEM,
    description=_(
        "Records of the bans and access prohibitions put into and removed from Koha as restrictions, two years "
        "after the push: what Koha was told and when, to answer a question about a restriction at Koha's desk."
    ),
    due=push_records_due,
    patron_fields=(),
)


class KohaContract(PrivacyContract):
    """The patron's data in Koha: reported live, and deleted after the local erasure."""

    report_order = 47  # after the registers, before the data-subject requests
    erasure_order = 65  # read before the patron record (order 10) goes; listed with what goes
    erased_categories = (DataCategory.LIBRARY_SYSTEM,)

    def retention_rules(self) -> tuple[RetentionRule, ...]:
        return (PUSH_RECORDS,)

    def report_sections(self, patron_id: int, context: ReportContext) -> ReportPart:
        found = _koha_patron(patron_id)
        if found is None:
            return _no_record()
        koha_id, consortium = found
        try:
            client = _client(consortium)
        except KohaError:  # the stored secret cannot be read: Koha is as far out of reach as when it is down
            return _out_of_reach(events=()) if koha_id is not None else _no_record()
        if client is None:
            return ReportPart(
                sections=(_notice(gettext("The library's system (Koha) is not connected to this service.")),)
            )
        if koha_id is None:
            return _no_record()
        read = (Action.KOHA_READ,)
        try:
            sections = _sections(client, koha_id)
        except KohaNotFound:
            return ReportPart(sections=(_notice(gettext("Koha holds no record of you.")),), events=read)
        except (KohaError, KeyError, AttributeError):
            return _out_of_reach(events=read)
        return ReportPart(sections=sections, data_categories=(DataCategory.LIBRARY_SYSTEM,), events=read)

    def erasure_plan(self, patron_id: int, context: ErasureContext) -> ErasurePart:
        koha_id, consortium = _koha_patron(patron_id) or (None, None)
        if koha_id is None or consortium is None:
            return ErasurePart()
        keeps = (ErasureLine("koha_erased_id", KEPT_KOHA_ID, 1),)
        try:
            client = _client(consortium)
            if client is None:
                return ErasurePart(keeps=keeps)
            patron = client.patron(koha_id)
            checkouts = client.checkouts(koha_id)
            balance = client.account(koha_id)["balance"]
        except KohaNotFound:
            return ErasurePart(keeps=keeps)
        except (KohaError, KeyError, AttributeError):
            warning = PlanWarning(
                "koha_unreachable",
                gettext("Koha could not be reached: what it would refuse is not known; its deletion may fail."),
                [],
            )
            return ErasurePart(removes=REMOVES_KOHA_PATRON, keeps=keeps, warnings=(warning,))
        predicted = {
            "has_checkouts": bool(checkouts),
            "has_debt": balance > 0,
            "has_guarantees": Guardianship.objects.filter(guardian_id=patron_id).exists(),
            "is_protected": bool(patron.get("protected")),
        }
        refusals = [code for code, refused in predicted.items() if refused]
        return ErasurePart(
            removes=REMOVES_KOHA_PATRON,
            keeps=keeps,
            warnings=tuple(PlanWarning(f"koha_{code}", str(REFUSALS[code]), []) for code in refusals),
        )

    def legal_holds(self, patron_id: int, context: ErasureContext) -> tuple[LegalHold, ...]:
        """An open claim: the patron owes the library money by Koha's account balance. The identity code is then
        what the library needs to invoice and collect it (GDPR Art. 17(3)(e); Data Protection Act 1050/2018
        s. 29), so the silo keeps it, with the reduced patron record billing reveals it through, until the
        claim is time-barred (settings.LEGAL_CLAIM_HOLD_YEARS; Act on
        the Limitation of Debts 728/2003 s. 4: three years) or the DPO lifts the hold when it is settled. Koha is
        the source of the balance: without a connection, or out of reach, no claim is known and no hold made
        (the dry run then warns that Koha could not be read)."""
        koha_id, consortium = _koha_patron(patron_id) or (None, None)
        if koha_id is None or consortium is None:
            return ()
        try:
            client = _client(consortium)
            balance = client.account(koha_id)["balance"] if client is not None else 0
        except (KohaError, KeyError, AttributeError):
            return ()
        if balance <= 0:
            return ()
        return (
            LegalHold(
                key="identity_code",
                label=_("Identity code, for invoicing the open claim"),
                ground=HOLD_LEGAL_CLAIMS,
                reason="open_claim",
                reason_text=_("The patron owes the library money (Koha's account balance); GDPR Art. 17(3)(e)."),
                until=context.day + relativedelta(years=settings.LEGAL_CLAIM_HOLD_YEARS),
                # Billing reveals the code through the patron record (reduced to name and date of birth), and
                # finds the current address for the invoice in the population register with it.
                needs_patron_record=True,
            ),
        )

    def held_elsewhere_text(self, key: str, reason: str) -> str | None:
        if key != KEY:
            return None
        if reason in HELD_REASONS:
            return str(HELD_REASONS[reason])
        return gettext("Koha still holds the patron (Koha's reason: %(code)s).") % {"code": reason}

    def erase(self, patron_id: int, context: ErasureContext) -> ErasureDone:
        koha_id, consortium = _koha_patron(patron_id) or (None, None)
        if koha_id is None or consortium is None:
            return ErasureDone()
        # The restrictions in Koha stay until Koha confirms their removal: their rows (ids and dates, no personal
        # data) are detached from the patron, which marks them to be removed (by `outside` below, or the push).
        restrictions = KohaRestriction.objects.filter(patron_id=patron_id)
        refs = tuple(restrictions.order_by("ref").values_list("ref", flat=True))
        restrictions.update(patron=None)
        # Also when re-applied after a restore: the restored database may have lost the row.
        ErasedKohaPatron.objects.get_or_create(
            consortium=consortium, koha_patron_id=koha_id, defaults={"erased_on": today()}
        )
        if context.erased_at is not None:
            return ErasureDone()  # re-applied after a restore: Koha was called by the erasure itself
        try:
            client = _client(consortium)
        except KohaError as error:  # the stored secret cannot be read: Koha keeps the patron, and the DPO sees why
            return ErasureDone(outside=(functools.partial(_not_deleted, error, consortium, refs),))
        if client is None:
            return ErasureDone()
        return ErasureDone(outside=(functools.partial(_delete, client, koha_id, consortium, refs),))


CONTRACTS = (KohaContract(),)
