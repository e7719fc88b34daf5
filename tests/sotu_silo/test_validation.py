"""sotu_silo.validation: Finnish HETU and Swedish personnummer, validated and normalised.

Pure tests: no database. Expected check characters are derived here from the published formulas
(HETU: int(DDMMYYZZZ) % 31; personnummer: Luhn over the last ten digits), so the tables show the parts.
"""

import datetime
import re

import pytest
from django.utils import translation

from sotu_silo.validation import (
    _MESSAGES,
    IdentityCodeError,
    ValidIdentityCode,
    identity_code_validate,
)

TODAY = datetime.date(2026, 5, 1)
HETU_CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


@pytest.fixture(autouse=True)
def _fresh_allow_list():
    """Overrides the suite-wide autouse fixture, which needs the database; nothing here does."""
    yield


def hetu(ddmmyy: str, sign: str, individual: str) -> str:
    """A HETU with its check character computed from the formula."""
    return f"{ddmmyy}{sign}{individual}{HETU_CHECK_CHARACTERS[int(ddmmyy + individual) % 31]}"


def luhn_digit(digits: str) -> str:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str(-total % 10)


def pnr(date: str, serial: str, separator: str = "-") -> str:
    """A personnummer with its Luhn digit; ``date`` is YYMMDD or YYYYMMDD, ``separator`` may be ""."""
    return f"{date}{separator}{serial}{luhn_digit(date[-6:] + serial)}"


def wrong_last(code: str, alphabet: str) -> str:
    """The same code with a different (wrong) last character."""
    last = code[-1]
    return code[:-1] + next(c for c in alphabet if c != last)


def fi(code: str, **kwargs) -> ValidIdentityCode:
    return identity_code_validate(code=code, country="FI", today=TODAY, **kwargs)


def se(code: str, **kwargs) -> ValidIdentityCode:
    return identity_code_validate(code=code, country="SE", today=TODAY, **kwargs)


def refused(country: str, code: str, **kwargs) -> IdentityCodeError:
    with pytest.raises(IdentityCodeError) as excinfo:
        identity_code_validate(code=code, country=country, today=TODAY, **kwargs)
    return excinfo.value


# --- Finland -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ddmmyy", "sign", "individual"),
    [
        ("010199", "+", "123"),
        ("311299", "+", "002"),
        ("131052", "-", "308"),
        ("010594", "Y", "203"),
        ("020594", "X", "202"),
        ("030694", "W", "202"),
        ("040594", "V", "203"),
        ("050594", "U", "202"),
        ("010516", "A", "123"),
        ("010516", "B", "202"),
        ("020516", "C", "203"),
        ("030516", "D", "202"),
        ("010501", "E", "203"),
        ("020503", "F", "203"),
        ("290296", "-", "456"),  # 29 Feb 1996
        ("290200", "A", "456"),  # 29 Feb 2000
        ("010526", "A", "234"),  # born today
    ],
)
def test_hetu_valid_for_every_century_sign(ddmmyy: str, sign: str, individual: str) -> None:
    code = hetu(ddmmyy, sign, individual)
    assert fi(code) == ValidIdentityCode(country="FI", normalized=code, kind="hetu")


def test_every_century_sign_is_covered() -> None:
    signs = {"+", "-", "Y", "X", "W", "V", "U", "A", "B", "C", "D", "E", "F"}
    table = test_hetu_valid_for_every_century_sign.pytestmark[0].args[1]  # type: ignore[attr-defined]  # pytest's mark
    assert signs <= {sign for _, sign, _ in table}


# Published test codes: all in the temporary range 900-999, one per century sign.
KNOWN_VALID_TEMPORARY_HETUS = [
    "010594Y9032",
    "010594Y9021",
    "020594X903P",
    "020594X902N",
    "030594W903B",
    "030694W9024",
    "040594V9030",
    "040594V902Y",
    "050594U903M",
    "050594U902L",
    "010516B903X",
    "010516B902W",
    "020516C903K",
    "020516C902J",
    "030516D9037",
    "030516D9026",
    "010501E9032",
    "020502E902X",
    "020503F9037",
    "020504A902E",
    "020504B904H",
]


@pytest.mark.parametrize("code", ["131052-308T"])
def test_hetu_literal_known_valid(code: str) -> None:
    assert hetu(code[:6], code[6], code[7:10]) == code  # the literal agrees with the formula
    assert fi(code) == ValidIdentityCode(country="FI", normalized=code, kind="hetu")


@pytest.mark.parametrize("code", KNOWN_VALID_TEMPORARY_HETUS)
def test_hetu_literal_known_valid_temporary(code: str) -> None:
    assert hetu(code[:6], code[6], code[7:10]) == code  # the literal agrees with the formula
    assert fi(code, allow_temporary=True) == ValidIdentityCode(country="FI", normalized=code, kind="temporary_hetu")
    assert refused("FI", code).code == "temporary_not_allowed"


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("131052-308t", "131052-308T"),
        ("  131052-308T\n", "131052-308T"),
        ("\t010594y203f ", "010594Y203F"),
        ("020504a202v", "020504A202V"),
        ("020504b904h", "020504B904H"),  # temporary, see the allow_temporary=True below
    ],
)
def test_hetu_whitespace_and_lower_case_are_normalised(given: str, normalized: str) -> None:
    assert fi(given, allow_temporary=True).normalized == normalized


def test_temporary_hetu_refused_by_default_and_accepted_when_allowed() -> None:
    code = hetu("100190", "-", "999")
    assert code == "100190-999P"
    assert refused("FI", code).code == "temporary_not_allowed"
    assert refused("FI", hetu("010594", "Y", "900")).code == "temporary_not_allowed"
    assert fi(code, allow_temporary=True) == ValidIdentityCode(country="FI", normalized=code, kind="temporary_hetu")


@pytest.mark.parametrize("sign", ["-", "Y", "X", "W", "V", "U"])
def test_century_sign_tells_people_apart(sign: str) -> None:
    plain = fi("100190-999P", allow_temporary=True)
    other = fi(hetu("100190", sign, "999"), allow_temporary=True)
    assert other.normalized[6] == sign
    assert (plain.normalized == other.normalized) == (sign == "-")


def test_hetu_century_signs_from_different_centuries_are_different_codes() -> None:
    normalized = {fi(hetu("010101", sign, "123")).normalized for sign in "+-A"}
    assert len(normalized) == 3


@pytest.mark.parametrize(
    ("code", "error_code"),
    [
        # not a real date (the date is checked before the check character)
        ("310290-123X", "invalid_date"),
        (hetu("310290", "-", "123"), "invalid_date"),
        (hetu("300290", "A", "123"), "invalid_date"),
        (hetu("290223", "-", "123"), "invalid_date"),  # 29 Feb 1923
        (hetu("290200", "-", "123"), "invalid_date"),  # 29 Feb 1900 (2000 is a leap year, 1900 is not)
        (hetu("290201", "B", "123"), "invalid_date"),
        (hetu("320194", "Y", "123"), "invalid_date"),
        (hetu("011394", "Y", "123"), "invalid_date"),
        (hetu("000194", "Y", "123"), "invalid_date"),
        (hetu("811218", "-", "987"), "invalid_date"),  # stdnum calls a day 4x-9x a format error
        # the future, relative to TODAY
        (hetu("020526", "A", "123"), "future_date"),
        (hetu("010130", "F", "123"), "future_date"),
        # wrong check character, including letters never used as one
        ("131052-308U", "invalid_checksum"),
        (wrong_last(hetu("010594", "Y", "203"), HETU_CHECK_CHARACTERS), "invalid_checksum"),
        ("131052-308G", "invalid_checksum"),
        ("131052-308Z", "invalid_checksum"),
        ("131052-308I", "invalid_checksum"),
        (wrong_last(hetu("020504", "B", "204"), HETU_CHECK_CHARACTERS), "invalid_checksum"),
        (wrong_last("020504B904H", HETU_CHECK_CHARACTERS), "temporary_not_allowed"),  # checked before the check
        # individual number 000 and 001 are not in use
        (hetu("131052", "-", "000"), "invalid_individual_number"),
        (hetu("131052", "A", "001"), "invalid_individual_number"),
        # unknown century sign
        ("131052G308T", "invalid_century_sign"),
        ("131052g308t", "invalid_century_sign"),
        ("131052Z308T", "invalid_century_sign"),
        ("131052*308T", "invalid_century_sign"),
        ("131052/308T", "invalid_century_sign"),
        # wrong length
        ("", "invalid_length"),
        ("   ", "invalid_length"),
        ("131052-308", "invalid_length"),
        ("131052-308TT", "invalid_length"),
        ("131052 -308T", "invalid_length"),
        ("1310523O8T", "invalid_length"),
        # wrong format
        ("13105A-308T", "invalid_format"),
        ("131052-3O8T", "invalid_format"),
        ("131052-308-", "invalid_format"),
        ("\uff1131052-308T", "invalid_format"),  # full-width digit one: stdnum alone would accept it
        ("131052\u2013308T", "invalid_format"),  # en dash instead of hyphen
        ("131052-308\u017f", "invalid_format"),  # long s: upper-cases to an ASCII S
    ],
)
def test_hetu_refused(code: str, error_code: str) -> None:
    assert refused("FI", code).code == error_code


def test_temporary_code_with_invalid_date_reports_the_date() -> None:
    assert refused("FI", hetu("310290", "-", "950"), allow_temporary=True).code == "invalid_date"
    assert refused("FI", hetu("310290", "-", "950")).code == "invalid_date"


def test_default_today_is_the_local_date() -> None:
    assert identity_code_validate(code="131052-308T", country="FI").normalized == "131052-308T"
    with pytest.raises(IdentityCodeError) as excinfo:
        identity_code_validate(code=hetu("010199", "F", "123"), country="FI")
    assert excinfo.value.code == "future_date"


# --- Sweden --------------------------------------------------------------------------------------


def test_swedish_literal_example_is_luhn_valid() -> None:
    assert pnr("811218", "987") == "811218-9876"
    assert pnr("121212", "121") == "121212-1212"


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("811218-9876", "198112189876"),
        ("19811218-9876", "198112189876"),
        ("198112189876", "198112189876"),
        ("  811218-9876 ", "198112189876"),
        (pnr("880320", "001"), "19880320" + pnr("880320", "001")[-4:]),
        (pnr("20000229", "123"), "20000229" + pnr("000229", "123")[-4:]),  # leap day 2000
        (pnr("000229", "123"), "20000229" + pnr("000229", "123")[-4:]),  # "-": under 100, so 2000
        (pnr("260430", "123"), "20260430" + pnr("260430", "123")[-4:]),  # this year, in the past
        (pnr("260501", "123"), "20260501" + pnr("260501", "123")[-4:]),  # born today
        (pnr("270101", "123"), "19270101" + pnr("270101", "123")[-4:]),  # "-": 1927, turns 99 this year
        (pnr("20260430", "123", ""), "20260430" + pnr("260430", "123")[-4:]),
    ],
)
def test_personnummer_valid_forms(given: str, normalized: str) -> None:
    assert se(given) == ValidIdentityCode(country="SE", normalized=normalized, kind="personnummer")


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("121212+1212", "191212121212"),  # "+": 100 or older
        ("121212-1212", "201212121212"),
        (pnr("260101", "123", "+"), "19260101" + pnr("260101", "123")[-4:]),  # turns 100 this year
        (pnr("990101", "123", "+"), "18990101" + pnr("990101", "123")[-4:]),
        (pnr("19121212", "121"), "191212121212"),  # the 12-digit form never has "+"
    ],
)
def test_personnummer_century_from_separator(given: str, normalized: str) -> None:
    assert se(given).normalized == normalized


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        (pnr("811278", "987"), "19811278" + pnr("811278", "987")[-4:]),  # 18 Dec + 60
        (pnr("810191", "123"), "19810191" + pnr("810191", "123")[-4:]),  # 31 Jan + 60
        (pnr("19810161", "123"), "19810161" + pnr("810161", "123")[-4:]),  # 1 Jan + 60
        (pnr("20200289", "123", ""), "20200289" + pnr("200289", "123")[-4:]),
        (pnr("120172", "123", "+"), "19120172" + pnr("120172", "123")[-4:]),
    ],
)
def test_samordningsnummer(given: str, normalized: str) -> None:
    assert se(given) == ValidIdentityCode(country="SE", normalized=normalized, kind="samordningsnummer")


@pytest.mark.parametrize(
    ("code", "error_code"),
    [
        # Luhn
        ("811218-9877", "invalid_checksum"),
        ("19811218-9875", "invalid_checksum"),
        ("198112189870", "invalid_checksum"),
        ("121212+1213", "invalid_checksum"),
        (wrong_last(pnr("811278", "987"), "0123456789"), "invalid_checksum"),  # samordningsnummer
        # not a real date
        (pnr("811232", "123"), "invalid_date"),
        (pnr("811301", "123"), "invalid_date"),
        (pnr("810000", "123"), "invalid_date"),
        (pnr("19810230", "123"), "invalid_date"),
        (pnr("000229", "123", "+"), "invalid_date"),  # "+": 1900, not a leap year
        (pnr("19000229", "123"), "invalid_date"),
        (pnr("811292", "123"), "invalid_date"),  # samordningsnummer for 32 Dec
        (pnr("810290", "123"), "invalid_date"),  # samordningsnummer for 30 Feb
        (pnr("810160", "123"), "invalid_date"),  # day 60: neither a date nor day + 60
        # the future
        (pnr("260502", "123"), "future_date"),  # "-" with this year's two digits
        (pnr("20300101", "123", ""), "future_date"),
        (pnr("20260562", "123"), "future_date"),  # samordningsnummer for 2 May 2026
        # format
        ("8112189876", "invalid_format"),  # 10 digits without separator: the century is ambiguous
        ("19811218+9876", "invalid_format"),
        ("811218 9876", "invalid_format"),
        ("811218:9876", "invalid_format"),
        ("8112-189876", "invalid_format"),
        ("1981121-89876", "invalid_format"),
        ("81121a-9876", "invalid_format"),
        ("811218--9876", "invalid_format"),
        ("\uff18112189876", "invalid_format"),
        ("811218\u20139876", "invalid_format"),
        # length
        ("", "invalid_length"),
        ("811218-98765", "invalid_length"),
        ("81121-9876", "invalid_length"),
        ("8112189", "invalid_length"),
        ("1981121898765", "invalid_length"),
    ],
)
def test_personnummer_refused(code: str, error_code: str) -> None:
    assert refused("SE", code).code == error_code


# --- Wrong country -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["811218-9876", "19811218-9876", "198112189876", "121212+1212", pnr("811278", "987")],
)
def test_swedish_number_in_finland(code: str) -> None:
    assert refused("FI", code).code == "wrong_country"


@pytest.mark.parametrize(
    "code", ["131052-308T", "010594Y9032", "020504b904h", "100190-999P", hetu("010199", "+", "123")]
)
def test_finnish_code_in_sweden(code: str) -> None:
    assert refused("SE", code).code == "wrong_country"


def test_invalid_codes_of_the_other_country_get_the_ordinary_error() -> None:
    assert refused("FI", "811218-9877").code == "invalid_date"  # bad Luhn, so not "looks Swedish"
    assert refused("SE", "131052-308U").code == "invalid_format"  # bad check character


@pytest.mark.parametrize("country", ["fi", "se", "NO", "", "131052-308T"])
def test_unknown_country_is_a_programming_error(country: str) -> None:
    with pytest.raises(ValueError, match="Unknown country") as excinfo:
        identity_code_validate(code="131052-308T", country=country, today=TODAY)
    assert "131052" not in str(excinfo.value)


# --- Messages never leak the code ----------------------------------------------------------------

LEAK_CASES: list[tuple[str, str, dict[str, bool]]] = [
    ("FI", "310290-123X", {}),
    ("FI", "131052-308U", {}),
    ("FI", "131052g308t", {}),
    ("FI", "131052-308", {}),
    ("FI", "13105A-308T", {}),
    ("FI", hetu("131052", "-", "000"), {}),
    ("FI", "100190-999P", {}),
    ("FI", hetu("020526", "A", "123"), {}),
    ("FI", "811218-9876", {}),
    ("SE", "811218-9877", {}),
    ("SE", pnr("811232", "123"), {}),
    ("SE", pnr("20300101", "123", ""), {}),
    ("SE", "8112189876", {}),
    ("SE", "811218-98765", {}),
    ("SE", "131052-308T", {}),
]


@pytest.mark.parametrize(("country", "code", "kwargs"), LEAK_CASES)
@pytest.mark.parametrize("language", ["en", "fi", "sv"])
def test_error_never_contains_the_code(country: str, code: str, kwargs: dict, language: str) -> None:
    error = refused(country, code, **kwargs)
    digits = re.sub(r"\D", "", code)
    fragments = {code.strip(), code.strip().upper(), digits, digits[:6]}
    with translation.override(language):
        rendered = [*error.messages, str(error), repr(error), repr(error.args), str(error.message)]
    assert error.params is None
    assert error.__cause__ is None
    for text in rendered:
        for fragment in fragments:
            assert fragment not in text


def test_every_message_renders_and_has_no_number_in_it() -> None:
    codes = set()
    for (country, code), message in _MESSAGES.items():
        text = str(message)
        assert text.strip()
        assert not re.search(r"\d{4,}", text), (country, code)
        codes.add(code)
    assert codes == {
        "invalid_length",
        "invalid_format",
        "invalid_century_sign",
        "invalid_date",
        "future_date",
        "invalid_individual_number",
        "temporary_not_allowed",
        "invalid_checksum",
        "wrong_country",
    }


def test_error_is_a_django_validation_error_with_a_code() -> None:
    from django.core.exceptions import ValidationError

    error = refused("FI", "131052-308U")
    assert isinstance(error, ValidationError)
    assert error.code == "invalid_checksum"
    assert error.messages == [str(_MESSAGES["FI", "invalid_checksum"])]
