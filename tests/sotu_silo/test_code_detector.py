"""sotu_silo.validation.contains_identity_code: one detector for free text, however a code is written.

Pure tests: no database. Each table holds the spellings an attacker (or a hurried clerk) used to get a
code past the old filter, and the look-alikes that must still pass: phone numbers, ISBNs, card numbers,
dates, invoice and reference numbers.
"""

import sys
import unicodedata

import pytest

from sotu_silo.validation import _DASHES, contains_identity_code, normalise_free_text

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


@pytest.fixture(autouse=True)
def _fresh_allow_list():
    """Overrides the suite-wide autouse fixture, which needs the database; nothing here does."""


def hetu(ddmmyy: str, sign: str, individual: int) -> str:
    return f"{ddmmyy}{sign}{individual:03d}{CHECK[int(f'{ddmmyy}{individual:03d}') % 31]}"


FI = hetu("180788", "-", 417)  # 180788-417D
assert FI == "180788-417D"
FI_DIGIT_CHECK = hetu("010203", "-", 123)  # a code whose check character is a digit
assert FI_DIGIT_CHECK[-1].isdigit()
FULL_WIDTH = {c: c - 0x21 + 0xFF01 for c in range(0x21, 0x7F)}  # ASCII "!".."~" to U+FF01..U+FF5E

FINNISH_SPELLINGS = [
    FI,
    FI.lower(),
    f"lasku{FI}",  # inside a word
    f"{FI}x",  # characters after it
    f"{FI}.",
    f"Hetu:{FI};",
    "180788 - 417D",  # spaces around the sign
    "180788- 417D",
    "180788 -417D",
    "180788-417 D",  # a space before the check character
    "18.07.88-417D",  # dots in the date
    "18/07/88-417D",
    "18 07 88 - 417D",
    "180788\u2010417D",  # hyphen
    "180788\u2011417D",  # non-breaking hyphen
    "180788\u2013417D",  # en dash
    "180788\u2014417D",  # em dash
    "180788\u2015417D",  # horizontal bar
    "180788\u2212417D",  # minus sign
    "180788\ufe58417D",  # small em dash
    "180788\ufe63417D",  # small hyphen-minus
    "180788\uff0d417D",  # full-width hyphen-minus
    "180788\u200b-417D",  # zero-width space
    "1807\u200d88-417D",  # zero-width joiner inside the date
    "180788-\u2060417D",  # word joiner
    "\ufeff180788-417D",  # byte order mark
    "180788\u00ad417D",  # soft hyphen (dropped: the code without its sign)
    "\u2068180788-417D\u2069",  # bidirectional isolates
    "180788\u00a0-\u00a0417D",  # no-break spaces
    FI.translate(FULL_WIDTH),  # full-width digits and letters
    "\u0661\u0668\u0660\u0667\u0668\u0668-\u0664\u0661\u0667D",  # Arabic-Indic digits
    "1\u03328\u033207\u0332" + "88-417D",  # combining marks on the digits
    "180788417D",  # no sign at all
    "180788 417D",  # a space for the sign
    hetu("180788", "Y", 417),  # the century signs in use since 2023
    hetu("180788", "U", 417),
    hetu("180788", "x", 417).lower(),
    hetu("180708", "A", 417),
    hetu("180708", "F", 417),
    hetu("180788", "+", 417),
    hetu("180788", "-", 917),  # temporary code
    FI_DIGIT_CHECK,
    FI_DIGIT_CHECK.replace("-", ""),  # ten bare digits: a HETU without its sign
    f"laskulle {FI_DIGIT_CHECK.replace('-', '')}.",
]

SE = "811218-9876"
SE_COORDINATION = "811278-9873"  # samordningsnummer: day + 60
SWEDISH_SPELLINGS = [
    SE,
    "811218+9876",  # the separator of people aged 100 and over
    "19811218-9876",
    "198112189876",  # twelve digits, no separator
    "8112189876",  # ten digits, no separator
    "811218 9876",
    "19811218 9876",
    "811218 - 9876",
    "pnr811218-9876",  # inside a word
    f"{SE}abc",
    f"({SE})",
    "81.12.18-9876",
    "1981.12.18-9876",
    "811218\u20139876",
    "811218\u22129876",
    "19811218\u20119876",
    "811218\uff0d9876",
    "8112\u200b18-9876",
    "811218-\u200c9876",
    SE.translate(FULL_WIDTH),
    SE_COORDINATION,
    "19811278-9873",
    "8112789873",
]
# Written with a sign or a separator, a Swedish number is found in a Finnish consortium too.
SWEDISH_SPELLINGS_FOUND_EVERYWHERE = [s for s in SWEDISH_SPELLINGS if not s.replace(" ", "").isdigit()]

LOOK_ALIKES = [
    # phone numbers
    "0401234567",
    "040 123 4567",
    "040-123 4567",
    "+358 40 123 4567",
    "+358401234567",
    "358401234567",
    "09 310 85000",
    "+46 70 123 45 67",
    "070-123 45 67",
    "0413-620 45",
    # ISBNs
    "978-951-0-12345-6",
    "9789510123456",
    "ISBN 951-0-12345-X",
    "0306406152",
    # library card numbers (14 digits), and their first ten digits typed into a search
    "24400000001234",
    "2440000000",
    "24500000000077",
    # dates and times
    "18.07.1988",
    "18.7.88",
    "1988-07-18",
    "2024-01-15 klo 14.30",
    "10.00-18.00",
    "ma-pe 9-20",
    # invoice, reference and business numbers
    "lasku 2026-77",
    "lasku 2440000000",
    "INV-2024-000123",
    "viite 12345 67890",
    "RF18 5390 0754 7034",
    "FI21 1234 5600 0007 85",
    "1234567-8",  # Finnish business id (Y-tunnus)
    "556036-0793",  # Swedish organisation number
    "faktura 2026/4711",
    # words
    "HETU-lomake palautettu",
    "personnummer saknas",
]


@pytest.mark.parametrize("country", ["FI", "SE"])
@pytest.mark.parametrize("text", FINNISH_SPELLINGS)
def test_a_finnish_code_is_found_however_it_is_written(text, country):
    assert contains_identity_code(text, country=country)


@pytest.mark.parametrize("text", SWEDISH_SPELLINGS)
def test_a_swedish_code_is_found_however_it_is_written(text):
    assert contains_identity_code(text, country="SE")


@pytest.mark.parametrize("text", SWEDISH_SPELLINGS_FOUND_EVERYWHERE)
def test_a_swedish_code_with_a_separator_is_found_in_a_finnish_consortium(text):
    assert contains_identity_code(text, country="FI")
    assert contains_identity_code(text)


@pytest.mark.parametrize("country", ["FI", "SE", None])
@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_pass(text, country):
    assert not contains_identity_code(text, country=country)


def test_bare_digit_runs_in_a_finnish_consortium_are_read_as_hetus_only():
    """The documented rule: 0401234567 is not a code in Finland, whatever its Luhn digit says."""
    assert not contains_identity_code("8112189876", country="FI")
    assert not contains_identity_code("198112189876", country="FI")
    assert contains_identity_code("8112189876", country="SE")
    # 040 1234567 written without spaces is 04.01.23 + 456 + 7: a date whenever the subscriber number starts
    # with 1-9 (the month is 01-09), and then one in 31 has the right HETU check character. Read as a
    # personnummer as well, the Luhn digit would refuse about as many again. Written with its spaces
    # (040 123 4567) a phone number is never read as a code.
    sample = range(0, 10_000_000, 997)
    finnish = sum(contains_identity_code(f"040{n:07d}", country="FI") for n in sample) / len(sample)
    swedish = sum(contains_identity_code(f"040{n:07d}", country="SE") for n in sample) / len(sample)
    assert finnish < 1 / 30
    assert swedish > 2 * finnish
    assert not any(contains_identity_code(f"040 {n // 10_000:03d} {n % 10_000:04d}", country="FI") for n in sample)


def test_a_code_inside_a_longer_number_is_not_a_bare_run():
    assert not contains_identity_code(f"9{FI_DIGIT_CHECK.replace('-', '')}")
    assert not contains_identity_code(f"{FI_DIGIT_CHECK.replace('-', '')}9")
    assert not contains_identity_code("98112189876", country="SE")


@pytest.mark.parametrize(
    "invalid",
    [
        "180788-417E",  # wrong check character
        "310288-417D",  # 31 February
        "180788-001X",  # individual number 001 is never given
        "811218-9875",  # wrong Luhn digit
        "811299-9876",  # day 99
    ],
)
def test_a_code_whose_check_fails_is_not_one(invalid):
    assert not contains_identity_code(invalid, country="SE")


def test_every_unicode_dash_is_read_as_a_hyphen():
    dashes = {chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Pd"} - {"-"}
    assert dashes <= _DASHES
    assert all(normalise_free_text(f"1{dash}2") == "1-2" for dash in dashes)


def test_normalising_drops_every_format_character():
    formats = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    assert all(normalise_free_text(f"18{f}07") == "1807" for f in formats)
