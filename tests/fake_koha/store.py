"""What the fake Koha holds and the rules Koha applies to it (Koha/Patron.pm safe_to_delete, the attribute
types' uniqueness and repeatability, updated_on), kept apart from HTTP so tests can arrange data directly.

Objects are stored as Koha's API renders them (API field names), patrons sparsely: only the fields that differ
from Koha's defaults, so `seed(100_000)` stays small; `patron_render` gives the full object.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

# Every column Koha's patron object carries (definitions/patron.yaml), with the value a fresh Koha row has.
PATRON_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(
        [
            "cardnumber",
            "surname",
            "firstname",
            "preferred_name",
            "middle_name",
            "title",
            "other_name",
            "initials",
            "pronouns",
            "street_number",
            "street_type",
            "address",
            "address2",
            "city",
            "state",
            "postal_code",
            "country",
            "email",
            "phone",
            "mobile",
            "fax",
            "secondary_email",
            "secondary_phone",
            "altaddress_street_number",
            "altaddress_street_type",
            "altaddress_address",
            "altaddress_address2",
            "altaddress_city",
            "altaddress_state",
            "altaddress_postal_code",
            "altaddress_country",
            "altaddress_email",
            "altaddress_phone",
            "date_of_birth",
            "date_enrolled",
            "expiry_date",
            "date_renewed",
            "staff_notes",
            "relationship_type",
            "gender",
            "userid",
            "opac_notes",
            "altaddress_notes",
            "statistics_1",
            "statistics_2",
            "altcontact_firstname",
            "altcontact_surname",
            "altcontact_address",
            "altcontact_address2",
            "altcontact_city",
            "altcontact_state",
            "altcontact_postal_code",
            "altcontact_country",
            "altcontact_phone",
            "sms_number",
            "sms_provider_id",
            "last_seen",
            "overdrive_auth_token",
        ]
    ),
    "patron_id": None,
    "library_id": None,
    "category_id": None,
    "incorrect_address": False,
    "patron_card_lost": False,
    "restricted": False,
    "autorenew_checkouts": True,
    "privacy": 1,
    "privacy_guarantor_checkouts": 0,
    "privacy_guarantor_fines": False,
    "check_previous_checkout": "inherit",
    "updated_on": None,
    "lang": "default",
    "login_attempts": 0,
    "anonymized": False,
    "protected": False,
}
READ_ONLY_PATRON_FIELDS = frozenset({"patron_id", "restricted", "anonymized", "updated_on"})
REQUIRED_PATRON_FIELDS = ("surname", "library_id", "category_id")

PATRON_KINDS: dict[str, str] = {
    **dict.fromkeys(PATRON_DEFAULTS, "str"),
    **dict.fromkeys(("date_of_birth", "date_enrolled", "expiry_date", "date_renewed"), "date"),
    **dict.fromkeys(("updated_on", "last_seen"), "datetime"),
    **dict.fromkeys(
        ("patron_id", "privacy", "privacy_guarantor_checkouts", "sms_provider_id", "login_attempts"), "int"
    ),
    **dict.fromkeys(
        [
            "incorrect_address",
            "patron_card_lost",
            "restricted",
            "autorenew_checkouts",
            "privacy_guarantor_fines",
            "anonymized",
            "protected",
        ],
        "bool",
    ),
}
# Koha joins borrower_attributes for `x-koha-embed: extended_attributes`; queries name its DB columns.
ATTRIBUTE_COLUMNS = {"code": "str", "attribute": "str", "id": "int", "borrowernumber": "int"}

LIBRARY_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(
        [
            "library_id",
            "name",
            "address1",
            "address2",
            "address3",
            "postal_code",
            "city",
            "state",
            "country",
            "phone",
            "fax",
            "email",
            "ill_email",
            "reply_to_email",
            "return_path_email",
            "url",
            "ip",
            "notes",
            "geolocation",
            "marc_org_code",
        ]
    ),
    "pickup_location": True,
    "public": True,
}
LIBRARY_KINDS = {**dict.fromkeys(LIBRARY_DEFAULTS, "str"), "pickup_location": "bool", "public": "bool"}

CHECKOUT_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(
        [
            "item_id",
            "booking_id",
            "external_id",
            "library_id",
            "issuer_id",
            "checkin_date",
            "checkin_library_id",
            "last_renewed_date",
            "auto_renew_error",
            "note",
            "note_date",
            "note_seen",
        ]
    ),
    "checkout_id": None,
    "patron_id": None,
    "due_date": None,
    "renewals_count": 0,
    "unseen_renewals": 0,
    "auto_renew": False,
    "timestamp": None,
    "checkout_date": None,
    "onsite_checkout": False,
}
CHECKOUT_KINDS = {
    **dict.fromkeys(CHECKOUT_DEFAULTS, "str"),
    **dict.fromkeys(("checkout_id", "patron_id", "item_id", "issuer_id", "renewals_count"), "int"),
    **dict.fromkeys(("due_date", "checkin_date", "last_renewed_date", "checkout_date"), "datetime"),
    **dict.fromkeys(("auto_renew", "onsite_checkout"), "bool"),
}

HOLD_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(
        [
            "item_group_id",
            "desk_id",
            "cancellation_date",
            "cancellation_reason",
            "notes",
            "status",
            "item_id",
            "waiting_date",
            "expiration_date",
            "suspended_until",
            "item_type",
        ]
    ),
    "hold_id": None,
    "patron_id": None,
    "hold_date": None,
    "biblio_id": None,
    "pickup_library_id": None,
    "priority": 1,
    "timestamp": None,
    "lowest_priority": False,
    "suspended": False,
    "non_priority": False,
    "item_level": False,
}
HOLD_KINDS = {
    **dict.fromkeys(HOLD_DEFAULTS, "str"),
    **dict.fromkeys(("hold_id", "patron_id", "biblio_id", "priority"), "int"),
    **dict.fromkeys(("hold_date", "cancellation_date", "waiting_date", "expiration_date"), "date"),
    **dict.fromkeys(("timestamp", "suspended_until"), "datetime"),
    **dict.fromkeys(("lowest_priority", "suspended", "non_priority", "item_level"), "bool"),
}

ACCOUNT_LINE_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(
        [
            "cash_register_id",
            "checkout_id",
            "old_checkout_id",
            "credit_number",
            "credit_type",
            "debit_type",
            "description",
            "internal_note",
            "item_id",
            "library_id",
            "payment_type",
            "payout_type",
            "status",
            "user_id",
        ]
    ),
    "account_line_id": None,
    "amount": 0.0,
    "amount_outstanding": 0.0,
    "date": None,
    "interface": "intranet",
    "patron_id": None,
    "timestamp": None,
}

ACTION_LOG_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(["module", "action", "object", "info", "script", "trace", "diff"]),
    "action_id": None,
    "timestamp": None,
    "user": 0,
    "interface": "intranet",
}
ACTION_LOG_KINDS = {
    **dict.fromkeys(ACTION_LOG_DEFAULTS, "str"),
    **dict.fromkeys(("action_id", "user", "object"), "int"),
    "timestamp": "datetime",
}


class KohaRefusal(Exception):
    """A rule of Koha's said no: the HTTP status and Koha's error body."""

    def __init__(self, status: int, body: Any):
        super().__init__(f"Koha refused with {status}")
        self.status = status
        self.body = body


class AttributeType:
    """borrower_attribute_types: `unique_id` (one value per Koha), `repeatable` (several per patron)."""

    def __init__(self, code: str, *, unique: bool = False, repeatable: bool = False):
        self.code = code
        self.unique = unique
        self.repeatable = repeatable


class KohaStore:
    """The fake's data. Every change takes the lock and bumps `version`, which keys the server's list cache."""

    def __init__(self, *, timezone: str = "Europe/Helsinki"):
        self.lock = threading.RLock()
        self.timezone = ZoneInfo(timezone)
        self.now: datetime | None = None
        self.attributes_touch_updated_on = True
        self.borrowers_log = True
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.version = 0
            self.libraries: dict[str, dict[str, Any]] = {}
            self._patrons: dict[int, dict[str, Any]] = {}
            self.attributes: dict[int, list[dict[str, Any]]] = {}
            self.attribute_types: dict[str, AttributeType] = {"SSN": AttributeType("SSN", unique=True)}
            self.guarantees: dict[int, set[int]] = {}
            self.checkouts: dict[int, dict[str, Any]] = {}
            self.holds: dict[int, dict[str, Any]] = {}
            self.account_lines: dict[int, dict[str, Any]] = {}
            self.action_logs: dict[int, dict[str, Any]] = {}
            self.deleted_patrons: dict[int, dict[str, Any]] = {}
            self.anonymous_patron_id: int | None = None
            # The patron privacy plugin's restrictions (borrower_debarments of type PATRON_PRIVACY), by ref.
            self.restrictions: dict[str, dict[str, Any]] = {}
            self._ids = {
                name: itertools.count(1)
                for name in ("patron", "attribute", "checkout", "hold", "line", "log", "restriction")
            }

    # --- time -----------------------------------------------------------------------------------------------
    def clock(self) -> datetime:
        """Koha's timestamps: the server's time zone, whole seconds (MySQL datetime), or the test's `now`."""
        moment = self.now or datetime.now(self.timezone)
        return moment.astimezone(self.timezone).replace(microsecond=0)

    def stamp(self) -> str:
        return self.clock().isoformat()

    def changed(self) -> None:
        self.version += 1

    # --- libraries ------------------------------------------------------------------------------------------
    def library_add(self, *, library_id: str, name: str, **fields: Any) -> dict[str, Any]:
        with self.lock:
            library = {**LIBRARY_DEFAULTS, **fields, "library_id": library_id, "name": name}
            self.libraries[library_id] = library
            self.changed()
            return library

    # --- patrons --------------------------------------------------------------------------------------------
    @property
    def patrons(self) -> Mapping[int, Mapping[str, Any]]:
        """Read-only full objects (change them with `patron_update`, which moves updated_on as Koha does)."""
        return _PatronView(self)

    def patron_render(self, patron_id: int) -> dict[str, Any]:
        return {**PATRON_DEFAULTS, **self._patrons[patron_id]}

    def patron_ids(self) -> list[int]:
        return list(self._patrons)

    def patron_exists(self, patron_id: int) -> bool:
        return patron_id in self._patrons

    def patron_add(self, fields: Mapping[str, Any], *, log: bool = False) -> dict[str, Any]:
        """Koha::Patron->store for a new patron: required fields, an existing library, a unique cardnumber."""
        unknown = [name for name in fields if name not in PATRON_DEFAULTS]
        missing = [name for name in REQUIRED_PATRON_FIELDS if fields.get(name) in (None, "")]
        if unknown or missing:
            raise KohaRefusal(400, validation_errors(missing=missing, unknown=unknown))
        with self.lock:
            if fields["library_id"] not in self.libraries:
                raise KohaRefusal(400, {"error": "Given library_id does not exist"})
            cardnumber = fields.get("cardnumber")
            if cardnumber is not None and any(p.get("cardnumber") == cardnumber for p in self._patrons.values()):
                raise KohaRefusal(409, {"error": "Duplicate ID", "conflict": "cardnumber"})
            patron_id = next(self._ids["patron"])
            stored = {name: value for name, value in fields.items() if name not in READ_ONLY_PATRON_FIELDS}
            stored.setdefault("date_enrolled", self.clock().date().isoformat())
            stored.update(patron_id=patron_id, updated_on=self.stamp())
            if cardnumber is None:
                stored["cardnumber"] = str(patron_id)
            self._patrons[patron_id] = stored
            self.attributes[patron_id] = []
            if log:
                self.action_log_add(module="MEMBERS", action="CREATE", object=patron_id, info="")
            self.changed()
            return self.patron_render(patron_id)

    def patron_update(self, patron_id: int, **fields: Any) -> dict[str, Any]:
        """A change made in Koha: updated_on moves (MySQL's ON UPDATE CURRENT_TIMESTAMP on borrowers)."""
        with self.lock:
            stored = self._patrons[patron_id]
            unknown = [name for name in fields if name not in PATRON_DEFAULTS]
            if unknown:
                raise KeyError(f"not a Koha patron field: {unknown}")
            stored.update(fields)
            stored["updated_on"] = self.stamp()
            self.changed()
            return self.patron_render(patron_id)

    def patron_delete(self, patron_id: int) -> None:
        """Patrons#delete: safe_to_delete's checks in Koha's order, then the row moves to deletedborrowers."""
        with self.lock:
            if patron_id not in self._patrons:
                raise KohaRefusal(404, {"error": "Patron not found"})
            reason = self.patron_delete_refusal(patron_id)
            if reason is not None:
                raise KohaRefusal(409, {"error": DELETE_REFUSALS[reason], "error_code": reason})
            self.deleted_patrons[patron_id] = self.patron_render(patron_id)
            del self._patrons[patron_id]
            self.attributes.pop(patron_id, None)
            # borrower_debarments go with the borrower (ON DELETE CASCADE); the plugin's refs to them dangle.
            for ref in [ref for ref, r in self.restrictions.items() if r["patron_id"] == patron_id]:
                del self.restrictions[ref]
            for guarantees in self.guarantees.values():
                guarantees.discard(patron_id)
            if self.borrowers_log:
                self.action_log_add(module="MEMBERS", action="DELETE", object=patron_id, info="")
            self.changed()

    def patron_delete_refusal(self, patron_id: int) -> str | None:
        if any(c["patron_id"] == patron_id and c["checkin_date"] is None for c in self.checkouts.values()):
            return "has_checkouts"
        if self.balance(patron_id) > 0:
            return "has_debt"
        if self.guarantees.get(patron_id):
            return "has_guarantees"
        if patron_id == self.anonymous_patron_id:
            return "is_anonymous_patron"
        if self._patrons[patron_id].get("protected"):
            return "is_protected"
        return None

    # --- the patron privacy plugin's restrictions (koha-plugin/, CONTRACT B3-4) ------------------------------
    def restriction_put(self, ref: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """One restriction per ref: created (201) or updated (200); expiration = ends_on + 1 day, since Koha
        restricts while expiration > today. Its comment names the kind, library and dates, no person."""
        with self.lock:
            patron_id = body["patron_id"]
            if patron_id not in self._patrons:
                raise KohaRefusal(404, {"error": "Patron not found", "error_code": "patron_not_found"})
            ends_on = date.fromisoformat(body["ends_on"])
            kind = "Library use ban" if body["kind"] == "library_use_ban" else "Access prohibition"
            existing = self.restrictions.get(ref)
            restriction = {
                "koha_restriction_id": existing["koha_restriction_id"] if existing else next(self._ids["restriction"]),
                "patron_id": patron_id,
                "type": "PATRON_PRIVACY",
                "expiration": (ends_on + timedelta(days=1)).isoformat(),
                "comment": f"{kind}, library {body['library_id']}, {body['starts_on']} - {body['ends_on']} "
                "(patron privacy service)",
                **body,
            }
            self.restrictions[ref] = restriction
            self.changed()
            answer = {
                "restriction_ref": ref,
                "patron_id": patron_id,
                "koha_restriction_id": restriction["koha_restriction_id"],
                "expiration": restriction["expiration"],
            }
            return (200 if existing else 201), answer

    def restriction_delete(self, ref: str) -> None:
        with self.lock:
            if self.restrictions.pop(ref, None) is not None:
                self.changed()

    def guarantee_add(self, *, guarantor_id: int, guarantee_id: int, relationship: str | None = None) -> None:
        """borrower_relationships: not in the API's patron object; Koha shows it only as the guarantee's
        relationship_type and the guarantor's 409 has_guarantees on delete."""
        with self.lock:
            self.guarantees.setdefault(guarantor_id, set()).add(guarantee_id)
            if relationship is not None:
                self.patron_update(guarantee_id, relationship_type=relationship)
            self.changed()

    # --- extended attributes --------------------------------------------------------------------------------
    def attribute_type_add(self, code: str, *, unique: bool = False, repeatable: bool = False) -> None:
        with self.lock:
            self.attribute_types[code] = AttributeType(code, unique=unique, repeatable=repeatable)

    def _attribute_check(self, patron_id: int, type_code: str, value: Any, others: list[dict[str, Any]]) -> None:
        """Koha::Patron::Attribute->store's checks, with the error codes Patrons::Attributes answers."""
        kind = self.attribute_types.get(type_code)
        if kind is None:
            raise KohaRefusal(
                400, {"error": "Tried to use an invalid attribute type", "error_code": "invalid_attribute_type"}
            )
        if not kind.repeatable and any(other["type"] == type_code for other in others):
            raise KohaRefusal(
                400,
                {
                    "error": "Tried to add more than one non-repeatable attributes",
                    "error_code": "non_repeatable_attribute",
                },
            )
        if kind.unique and value is not None:
            for owner, attributes in self.attributes.items():
                if owner != patron_id and any(a["type"] == type_code and a["value"] == value for a in attributes):
                    raise KohaRefusal(
                        400,
                        {
                            "error": "Your action breaks a unique constraint on the attribute",
                            "error_code": "attribute_not_unique",
                        },
                    )

    def _attributes_changed(self, patron_id: int) -> None:
        if self.attributes_touch_updated_on:
            self._patrons[patron_id]["updated_on"] = self.stamp()
        self.changed()

    def attribute_add(self, patron_id: int, type_code: str, value: Any) -> dict[str, Any]:
        with self.lock:
            if type_code not in self.attribute_types:
                self.attribute_types[type_code] = AttributeType(type_code)
            return self.attribute_post(patron_id, type_code, value)

    def attribute_post(self, patron_id: int, type_code: str, value: Any) -> dict[str, Any]:
        with self.lock:
            current = self.attributes[patron_id]
            self._attribute_check(patron_id, type_code, value, current)
            attribute = {"extended_attribute_id": next(self._ids["attribute"]), "type": type_code, "value": value}
            current.append(attribute)
            self._attributes_changed(patron_id)
            return dict(attribute)

    def attributes_overwrite(self, patron_id: int, wanted: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """PUT .../extended_attributes: all of them replaced, checked as a whole before anything changes."""
        with self.lock:
            fresh: list[dict[str, Any]] = []
            for item in wanted:
                self._attribute_check(patron_id, item["type"], item.get("value"), fresh)
                fresh.append(
                    {
                        "extended_attribute_id": next(self._ids["attribute"]),
                        "type": item["type"],
                        "value": item.get("value"),
                    }
                )
            self.attributes[patron_id] = fresh
            self._attributes_changed(patron_id)
            return [dict(a) for a in fresh]

    def attribute_patch(self, patron_id: int, attribute_id: int, value: Any) -> dict[str, Any]:
        with self.lock:
            current = self.attributes[patron_id]
            attribute = next((a for a in current if a["extended_attribute_id"] == attribute_id), None)
            if attribute is None:
                raise KohaRefusal(404, {"error": "Attribute not found"})
            others = [a for a in current if a is not attribute]
            try:
                self._attribute_check(patron_id, attribute["type"], value, others)
            except KohaRefusal as refusal:
                raise KohaRefusal(409, refusal.body) from None
            attribute["value"] = value
            self._attributes_changed(patron_id)
            return dict(attribute)

    def attribute_delete(self, patron_id: int, attribute_id: int) -> None:
        with self.lock:
            current = self.attributes[patron_id]
            kept = [a for a in current if a["extended_attribute_id"] != attribute_id]
            if len(kept) == len(current):
                raise KohaRefusal(404, {"error": "Attribute not found"})
            self.attributes[patron_id] = kept
            self._attributes_changed(patron_id)

    # --- circulation, money, logs ---------------------------------------------------------------------------
    def checkout_add(self, patron_id: int, **fields: Any) -> dict[str, Any]:
        with self.lock:
            now = self.clock()
            checkout = {
                **CHECKOUT_DEFAULTS,
                "checkout_date": now.isoformat(),
                "due_date": (now + timedelta(days=28)).isoformat(),
                "timestamp": now.isoformat(),
                "item_id": 1000 + len(self.checkouts),
                "library_id": self._patrons[patron_id].get("library_id"),
                **fields,
                "checkout_id": next(self._ids["checkout"]),
                "patron_id": patron_id,
            }
            self.checkouts[checkout["checkout_id"]] = checkout
            self.changed()
            return dict(checkout)

    def hold_add(self, patron_id: int, **fields: Any) -> dict[str, Any]:
        with self.lock:
            now = self.clock()
            hold = {
                **HOLD_DEFAULTS,
                "hold_date": now.date().isoformat(),
                "timestamp": now.isoformat(),
                "biblio_id": 1,
                "pickup_library_id": self._patrons[patron_id].get("library_id"),
                **fields,
                "hold_id": next(self._ids["hold"]),
                "patron_id": patron_id,
            }
            self.holds[hold["hold_id"]] = hold
            self.changed()
            return dict(hold)

    def account_line_add(self, patron_id: int, amount: float, **fields: Any) -> dict[str, Any]:
        """A debit when positive (a fine), a credit when negative (a payment), outstanding in full by default."""
        with self.lock:
            now = self.clock().isoformat()
            kind = {"debit_type": "OVERDUE"} if amount > 0 else {"credit_type": "PAYMENT"}
            line = {
                **ACCOUNT_LINE_DEFAULTS,
                **kind,
                "amount": float(amount),
                "amount_outstanding": float(amount),
                "date": now,
                "timestamp": now,
                **fields,
                "account_line_id": next(self._ids["line"]),
                "patron_id": patron_id,
            }
            self.account_lines[line["account_line_id"]] = line
            self.changed()
            return dict(line)

    def balance(self, patron_id: int) -> float:
        return round(
            sum(line["amount_outstanding"] for line in self.account_lines.values() if line["patron_id"] == patron_id), 6
        )

    def account_render(self, patron_id: int) -> dict[str, Any]:
        """GET /patrons/{id}/account (patron_balance): the balance and the outstanding lines of each side."""
        lines = [dict(line) for line in self.account_lines.values() if line["patron_id"] == patron_id]
        debits = [line for line in lines if line["amount_outstanding"] > 0]
        credits = [line for line in lines if line["amount_outstanding"] < 0]
        return {
            "balance": self.balance(patron_id),
            "outstanding_debits": {
                "total": round(sum(line["amount_outstanding"] for line in debits), 6),
                "lines": debits,
            },
            "outstanding_credits": {
                "total": round(sum(line["amount_outstanding"] for line in credits), 6),
                "lines": credits,
            },
        }

    def action_log_add(self, **fields: Any) -> dict[str, Any]:
        with self.lock:
            entry = {
                **ACTION_LOG_DEFAULTS,
                "timestamp": self.stamp(),
                **fields,
                "action_id": next(self._ids["log"]),
            }
            self.action_logs[entry["action_id"]] = entry
            self.changed()
            return dict(entry)

    # --- bulk -----------------------------------------------------------------------------------------------
    def seed(self, count: int, *, library_id: str = "MPL", identity_codes: bool = False) -> None:
        """`count` patrons at once (a bench's Koha): sparse rows, one timestamp, no per-patron checks."""
        with self.lock:
            if library_id not in self.libraries:
                self.library_add(library_id=library_id, name=f"Library {library_id}")
            stamp = self.stamp()
            born = date(1950, 1, 1)
            surnames = ("Virtanen", "Korhonen", "Nieminen", "Mäkinen", "Hämäläinen", "Lindqvist", "Andersson")
            firstnames = ("Aino", "Eino", "Helmi", "Onni", "Siiri", "Väinö", "Elsa", "Olof")
            for n in range(count):
                patron_id = next(self._ids["patron"])
                birthday = born + timedelta(days=n // 100)
                self._patrons[patron_id] = {
                    "patron_id": patron_id,
                    "cardnumber": f"K{patron_id:09d}",
                    "surname": surnames[n % 7],
                    "firstname": firstnames[n % 8],
                    "library_id": library_id,
                    "category_id": "PT",
                    "date_of_birth": birthday.isoformat(),
                    "updated_on": stamp,
                }
                attributes = []
                if identity_codes:
                    attribute_id = next(self._ids["attribute"])
                    code = temporary_hetu(birthday, 900 + n % 100)
                    attributes.append({"extended_attribute_id": attribute_id, "type": "SSN", "value": code})
                self.attributes[patron_id] = attributes
            self.changed()


HETU_CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def temporary_hetu(born: date, individual: int) -> str:
    """A Finnish identity code with a temporary individual number (900-999): valid, nobody's real code."""
    century = {18: "+", 19: "-", 20: "A"}[born.year // 100]
    digits = f"{born:%d%m%y}{individual:03d}"
    return f"{born:%d%m%y}{century}{individual:03d}{HETU_CHECK_CHARACTERS[int(digits) % 31]}"


DELETE_REFUSALS = {
    "has_checkouts": "Pending checkouts prevent deletion",
    "has_debt": "Pending debts prevent deletion",
    "has_guarantees": "Patron is a guarantor and it prevents deletion",
    "is_anonymous_patron": "Anonymous patron cannot be deleted",
    "is_protected": "Protected patrons cannot be deleted",
}


def validation_errors(*, missing: list[str], unknown: list[str]) -> dict[str, Any]:
    """The body Mojolicious::Plugin::OpenAPI gives when a request body does not match Koha's spec."""
    errors = [{"message": "Missing property.", "path": f"/body/{name}"} for name in missing]
    errors += [{"message": f"Properties not allowed: {name}.", "path": "/body"} for name in unknown]
    return {"errors": errors, "status": 400}


class _PatronView(Mapping[int, Mapping[str, Any]]):
    def __init__(self, store: KohaStore):
        self._store = store

    def __getitem__(self, patron_id: int) -> Mapping[str, Any]:
        return MappingProxyType(self._store.patron_render(patron_id))

    def __iter__(self) -> Iterator[int]:
        return iter(list(self._store._patrons))

    def __len__(self) -> int:
        return len(self._store._patrons)
