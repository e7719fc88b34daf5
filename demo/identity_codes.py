"""Generated identity codes for demo patrons: valid by their check character, never a real person's code.

A seeded generator makes every run give the same codes; `demo_identity_code` picks the generator by
the consortium's jurisdiction.

Finland: temporary codes (individual number 900-999), which are never given as anyone's permanent
code. The silo accepts them only with ``allow_temporary`` (seed_demo passes it).

Sweden: birth number (födelsenummer) 000. Skatteverket assigns birth numbers 001-999 only
(Skatteverket, Rättslig vägledning, "Personnummer": "Födelsenumret (tre siffror) är något av talen
001 till 999"), so ``YYYYMMDD-000C`` with the right Luhn check digit is nobody's number, whatever
the date. There is no reserved "test range" of birth numbers such as 980-999: those are ordinary
birth numbers (before 1990 immigrants got birth numbers starting with 9; since 1990 they are drawn
from one national series). Skatteverket's published test numbers (the open data set
"Testpersonnummer") are a fixed list, not a range: mostly 980/981 for 1890-1902, scattered single
numbers for 1903-1994, 238/239 from 1995. That list has no number for most demo birth dates, so it
is not used. The silo's validation (stdnum's Luhn and date checks) accepts birth number 000; if it
ever refuses it, seed_demo fails loudly and the Swedish generator must change. One date gives one
code, so of two demo patrons born the same day only the first gets one.
"""

import datetime
import random
from collections.abc import Callable

from stdnum import luhn

from sotu_silo import crypto
from sotu_silo.validation import identity_code_validate

CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
NEVER_ASSIGNED_BIRTH_NUMBER = "000"


def demo_hetu(date_of_birth: datetime.date, rng: random.Random) -> str:
    """A temporary Finnish HETU for this birth date (individual number 900-999)."""
    century = {18: "+", 19: "-", 20: "A"}[date_of_birth.year // 100]
    individual = rng.randint(900, 999)
    digits = f"{date_of_birth:%d%m%y}{individual:03d}"
    return f"{date_of_birth:%d%m%y}{century}{individual:03d}{CHECK_CHARACTERS[int(digits) % 31]}"


def demo_personnummer(date_of_birth: datetime.date, rng: random.Random | None = None) -> str:
    """A Swedish personnummer for this birth date with the never-assigned birth number 000.

    Written ``YYYYMMDD-NNNC`` (the 12-digit form, so the century never depends on today); the
    check digit is the Luhn digit of the 10-digit ``YYMMDDNNN``. `rng` is not used: the code
    depends on the date alone (it is accepted for the same call shape as `demo_hetu`).
    """
    digits = f"{date_of_birth:%y%m%d}{NEVER_ASSIGNED_BIRTH_NUMBER}"
    return f"{date_of_birth:%Y%m%d}-{NEVER_ASSIGNED_BIRTH_NUMBER}{luhn.calc_check_digit(digits)}"


DEMO_CODE_GENERATORS: dict[str, Callable[[datetime.date, random.Random], str]] = {
    "FI": demo_hetu,
    "SE": demo_personnummer,
}


def demo_identity_code(*, country: str, date_of_birth: datetime.date, rng: random.Random) -> str:
    """A demo code of `country` ("FI" or "SE") for this birth date; ValueError for another country."""
    try:
        generator = DEMO_CODE_GENERATORS[country]
    except KeyError:
        raise ValueError(f"No demo identity codes for country {country!r}.") from None
    return generator(date_of_birth, rng)


def demo_code_index(code: str, *, country: str) -> str:
    """The blind index of a demo code: seed_demo leaves out a code drawn twice rather than enter a conflict."""
    valid = identity_code_validate(code=code, country=country, allow_temporary=True)
    return crypto.blind_index(valid.normalized, country=valid.country)
