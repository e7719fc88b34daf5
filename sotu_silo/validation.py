"""Validating and normalising personal identity codes (Finnish HETU, Swedish personnummer).

The checks themselves are python-stdnum's (``stdnum.fi.hetu``, ``stdnum.se.personnummer``,
``stdnum.luhn``). This module adds what stdnum 2.2 does not do:

* a strict, ASCII-only shape check before stdnum sees the input (stdnum's ``clean()`` and
  ``\\d`` accept e.g. full-width digits and Unicode dashes, and ``personnummer.compact()``
  drops spaces and colons anywhere in the number);
* telling apart *which* part of a HETU is wrong (stdnum raises one ``InvalidComponent`` for a
  bad date, individual number 000/001 and a refused temporary code alike);
* samordningsnummer (stdnum's ``get_birth_date()`` rejects day + 60 as an invalid date);
* resolving the century of a 10-digit personnummer against a given ``today`` (stdnum always
  uses the system clock) and refusing birth dates in the future.

Error messages never contain the code, nor any part of it: they may be logged or shown.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from stdnum import luhn
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.fi import hetu
from stdnum.se import personnummer

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

from core import dates

_FI: Final = "FI"
_SE: Final = "SE"

# Finnish century signs (the extra 1900s and 2000s signs are in use since 2023).
_HETU_CENTURIES: Final[dict[str, int]] = {
    "+": 1800,
    **dict.fromkeys("-YXWVU", 1900),
    **dict.fromkeys("ABCDEF", 2000),
}
_HETU_SHAPE: Final = re.compile(r"(?P<date>\d{6})(?P<sign>.)(?P<individual>\d{3})(?P<check>[0-9A-Z])", re.ASCII)

_SE_SHORT: Final = re.compile(
    r"(?P<yy>\d{2})(?P<month>\d{2})(?P<day>\d{2})(?P<sep>[-+])(?P<tail>\d{4})",
    re.ASCII,
)
_SE_LONG: Final = re.compile(r"(?P<yyyy>\d{4})(?P<month>\d{2})(?P<day>\d{2})-?(?P<tail>\d{4})", re.ASCII)
_SE_DIGITS_AND_SEPARATOR: Final = re.compile(r"\d+(?:[-+]\d+)?", re.ASCII)
_COORDINATION_DAY_OFFSET: Final = 60

_MESSAGES: Final[dict[tuple[str, str], StrPromise]] = {
    (_FI, "invalid_length"): _("A Finnish personal identity code has exactly 11 characters."),
    (_FI, "invalid_format"): _(
        "A Finnish personal identity code is six digits of birth date, a century sign, "
        "three digits and a check character."
    ),
    (_FI, "invalid_century_sign"): _(
        "The century sign (the seventh character) must be one of + - Y X W V U A B C D E F."
    ),
    (_FI, "invalid_date"): _("The birth date in the code is not a real date."),
    (_FI, "future_date"): _("The birth date in the code is in the future."),
    (_FI, "invalid_individual_number"): _(
        "The individual number (the three digits after the century sign) cannot be 000 or 001."
    ),
    (_FI, "temporary_not_allowed"): _("Temporary identity codes (individual numbers 900 to 999) are not accepted."),
    (_FI, "invalid_checksum"): _("The check character does not match: check the last character."),
    (_FI, "wrong_country"): _(
        "This is not a Finnish personal identity code: it looks like a Swedish personal identity number."
    ),
    (_SE, "invalid_length"): _("A Swedish personal identity number has 10 or 12 digits."),
    (_SE, "invalid_format"): _(
        "Write the Swedish personal identity number as YYMMDD-NNNN, YYMMDD+NNNN, YYYYMMDDNNNN or YYYYMMDD-NNNN."
    ),
    (_SE, "invalid_date"): _("The birth date in the number is not a real date."),
    (_SE, "future_date"): _("The birth date in the number is in the future."),
    (_SE, "invalid_checksum"): _("The check digit does not match: check the last digit."),
    (_SE, "wrong_country"): _(
        "This is not a Swedish personal identity number: it looks like a Finnish personal identity code."
    ),
}


class IdentityCodeError(ValidationError):
    """An identity code was refused. ``code`` is a stable machine code, ``message`` a translated sentence.

    Codes: ``invalid_length``, ``invalid_format``, ``invalid_century_sign`` (FI only), ``invalid_date``,
    ``future_date``, ``invalid_individual_number`` (FI only), ``temporary_not_allowed`` (FI only),
    ``invalid_checksum``, ``wrong_country``. Neither the message nor the args contain the code itself.
    """

    def __init__(self, message: str | StrPromise, *, code: str) -> None:
        super().__init__(message, code=code)


@dataclass(frozen=True)
class ValidIdentityCode:
    """A validated code. ``normalized`` is the form to store and compare (keyed lookup hash input)."""

    country: str  # "FI" or "SE"
    normalized: str  # FI: upper-case HETU with its own century sign; SE: 12 digits YYYYMMDDNNNC
    kind: str  # "hetu", "temporary_hetu", "personnummer" or "samordningsnummer"


def _error(country: str, code: str) -> IdentityCodeError:
    return IdentityCodeError(_MESSAGES[country, code], code=code)


def _date_or_none(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _validate_fi(code: str, *, allow_temporary: bool, today: datetime.date) -> ValidIdentityCode:
    stripped = code.strip()
    # ASCII before upper(): "\u017f".upper() == "S" and "\u0131".upper() == "I".
    if not stripped.isascii():
        raise _error(_FI, "invalid_format")
    number = stripped.upper()
    if len(number) != 11:
        raise _error(_FI, "invalid_length")
    match = _HETU_SHAPE.fullmatch(number)
    if match is None:
        raise _error(_FI, "invalid_format")
    sign = match["sign"]
    if sign not in _HETU_CENTURIES:
        raise _error(_FI, "invalid_century_sign")
    date_part, individual = match["date"], int(match["individual"])
    birth_date = _date_or_none(_HETU_CENTURIES[sign] + int(date_part[4:6]), int(date_part[2:4]), int(date_part[0:2]))
    try:
        hetu.validate(number, allow_temporary=allow_temporary)
    except InvalidFormat:
        # Shape and century sign were checked above. stdnum's pattern also wants a day 0x-3x and a month
        # 0x-1x (a date problem); what is left is a letter that is never a check character.
        raise _error(_FI, "invalid_date" if birth_date is None else "invalid_checksum") from None
    except InvalidComponent:
        # stdnum uses one exception for three different problems; tell them apart in its order.
        if birth_date is None:
            raise _error(_FI, "invalid_date") from None
        if individual < 2:
            raise _error(_FI, "invalid_individual_number") from None
        raise _error(_FI, "temporary_not_allowed") from None
    except InvalidChecksum:
        raise _error(_FI, "invalid_checksum") from None
    if birth_date is None:  # cannot happen: stdnum checked the same date
        raise _error(_FI, "invalid_date")
    if birth_date > today:
        raise _error(_FI, "future_date")
    kind = "temporary_hetu" if individual >= 900 else "hetu"
    return ValidIdentityCode(country=_FI, normalized=number, kind=kind)


def _short_form_year(yy: int, separator: str, today: datetime.date) -> int:
    """The birth year of a 10-digit personnummer, the way Skatteverket assigns the separator.

    ``-``: the person turns at most 99 in the current calendar year; ``+``: from the calendar year they
    turn 100 (Folkbokföringslagen 18 §). Same rule as stdnum's ``get_birth_date()``, but against ``today``.
    """
    newest = today.year if separator == "-" else today.year - 100
    return newest - (newest - yy) % 100


def _validate_se(code: str, *, today: datetime.date) -> ValidIdentityCode:
    number = code.strip()
    if not number.isascii():
        raise _error(_SE, "invalid_format")
    if match := _SE_SHORT.fullmatch(number):
        year = _short_form_year(int(match["yy"]), match["sep"], today)
    elif match := _SE_LONG.fullmatch(number):
        year = int(match["yyyy"])
    else:
        if not number or (
            _SE_DIGITS_AND_SEPARATOR.fullmatch(number) and sum(c.isdigit() for c in number) not in (10, 12)
        ):
            raise _error(_SE, "invalid_length")
        raise _error(_SE, "invalid_format")
    month, day, tail = int(match["month"]), int(match["day"]), match["tail"]
    coordination = day > _COORDINATION_DAY_OFFSET
    birth_date = _date_or_none(year, month, day - _COORDINATION_DAY_OFFSET if coordination else day)
    if birth_date is None:
        raise _error(_SE, "invalid_date")
    normalized = f"{year:04d}{match['month']}{match['day']}{tail}"
    try:
        if coordination:
            # stdnum's personnummer rejects day + 60 as a date; the check digit is the same Luhn.
            luhn.validate(normalized[-10:])
        else:
            # The 12-digit form, so stdnum's date check uses our century and not the system clock.
            personnummer.validate(f"{normalized[:8]}-{tail}")
    except InvalidChecksum:
        raise _error(_SE, "invalid_checksum") from None
    except StdnumValidationError:
        raise _error(_SE, "invalid_format") from None
    if birth_date > today:
        raise _error(_SE, "future_date")
    kind = "samordningsnummer" if coordination else "personnummer"
    return ValidIdentityCode(country=_SE, normalized=normalized, kind=kind)


def _is_valid_fi(code: str) -> bool:
    stripped = code.strip()
    return stripped.isascii() and hetu.is_valid(stripped, allow_temporary=True)


def _is_valid_se(code: str, *, today: datetime.date) -> bool:
    try:
        _validate_se(code, today=today)
    except IdentityCodeError:
        return False
    return True


@sensitive_variables("code")
def identity_code_validate(
    *,
    code: str,
    country: str | None,
    allow_temporary: bool = False,
    today: datetime.date | None = None,
) -> ValidIdentityCode:
    """Validate ``code`` as a personal identity code of ``country`` ("FI" or "SE") and normalise it.

    ``allow_temporary`` accepts Finnish temporary codes (individual number 900-999). ``today`` (default:
    the local date) decides the century of a 10-digit Swedish number and what counts as the future.
    Raises ``IdentityCodeError``; ``ValueError`` for an unknown ``country``.
    """
    if today is None:
        today = dates.today()
    if country == _FI:
        try:
            return _validate_fi(code, allow_temporary=allow_temporary, today=today)
        except IdentityCodeError:
            if _is_valid_se(code, today=today):
                raise _error(_FI, "wrong_country") from None
            raise
    if country == _SE:
        try:
            return _validate_se(code, today=today)
        except IdentityCodeError:
            if _is_valid_fi(code):
                raise _error(_SE, "wrong_country") from None
            raise
    # The value is not echoed: a code passed in the wrong argument must not end up in a log.
    raise ValueError(f"Unknown country: expected {_FI!r} or {_SE!r}.")
