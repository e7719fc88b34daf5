"""Finding personal identity codes in free text, however they are written (Finnish HETU, Swedish personnummer).

One detector for every text that is typed and stored or logged (notes, reasons, ban, DPO and breach texts,
names, addresses and phone numbers) and for every search: a code belongs in the sotu-silo only (Finnish
Data Protection Act 1050/2018 s. 29; the Swedish Act 2018:218, 3 ch. 10 §, allows the personnummer only
where clearly justified). ``contains_identity_code`` says whether a text holds one.

How a text is read:

1. **Normalised** (``normalise_free_text``): compatibility forms folded and accents taken off (NFKD, then
   combining marks dropped: full-width, mathematical and circled characters read as plain ones), invisible
   characters dropped (every Default_Ignorable_Code_Point of Unicode, every format character, and blank
   characters such as U+2800 BRAILLE PATTERN BLANK), every decimal digit read as ASCII, every dash and
   minus look-alike read as ``-``, and letters of other scripts that look like Latin ones (Cyrillic,
   Greek, Cherokee, small capitals) read as those.
2. **Split into letters and digits and the gaps between them.** A gap of whitespace and at most two
   other characters that are neither letters nor digits (``.``, ``-``, ``/``, ``_``, ``:``, ``+``, a
   bracket...) joins the characters on each side; a longer gap, or another letter, ends a candidate.
3. **Every position is tried** as the start of a code: a HETU, DDMMYY or DDMMYYYY, the century sign
   (optional: the check character does not depend on it), three digits and the check character; a
   personnummer, YYMMDD or YYYYMMDD, and four digits (a samordningsnummer's day is the day + 60).
   A candidate counts only when its date is real and its check character (HETU: the remainder of the
   nine digits divided by 31; personnummer: the Luhn digit) is right, and its shape is a code's.

The shape. A code's parts are its date's parts (day, month, year), the sign, the individual number and
the check character. A candidate counts when its gaps fall only between those parts (``18 07 88 -
417D``, ``18.07.1988-417D``, ``880718 1238``, ``180788-417-D``) or between every two of its characters
(``1 8 0 7 8 8 - 4 1 7 D``), never inside a part (``09 123 4567`` is not read as 09.12.34 + 567), and:

- with a letter (the century sign or the check character), always; but a check letter set apart by a gap
  that begins a word (``120324 007 kpl``) is a word, not a check character;
- with digits only, which could be any number, only when nothing joins it to more digits (``98112189876``
  holds no code) and it is written as a code is:

  - its date in one piece and a gap after the date or before the check digit (``880718 1238``,
    ``010203-1230``, ``010203 123 0``);
  - its date in parts (``88-07-18-1238``, ``01.02.03-1230``) and a ``-`` or ``+`` before the individual
    number, with no hyphenated number after it: ``12.03.2024 1430`` (a date and a time) and
    ``2024-03-12-2024-04-01`` (a date range) are not codes;
  - a gap between every two digits (``8 8 0 7 1 8 - 1 2 3 8``);
  - bare: a HETU without its sign (ten digits, or twelve with a four-digit year) in every consortium; a
    personnummer (ten or twelve bare digits) only in a Swedish consortium (``country="SE"``). In Finland
    such a run is far more often a phone number (0401234567) than a Swedish code: read as a personnummer
    as well, mobile numbers written without spaces would be refused about three times as often (8 % of
    them instead of 3 %: the Luhn digit is right for one in ten that start with a date, the HETU check
    character for one in 31).

A phone number field (``phone_number=True``) reads only what is written as a code and never as a phone
number: a candidate with a letter, or with its date in one piece and a ``-`` or ``+`` after it
(``010203-1230``, ``880718-1238``). Bare digit runs and digit groups apart, the way phone numbers are
written, are not codes there.

The refusal rates this gives on thousands of generated look-alikes (dates, times, phone numbers, card
numbers, ISBNs, invoice and reference numbers, sums, addresses, organisation numbers) are measured by
``python -m tests.core.identity_code_lookalikes`` and given in docs/identity-codes.md.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from stdnum import luhn

# --- Normalising ------------------------------------------------------------------------------------------

# Default_Ignorable_Code_Point (Unicode 15, DerivedCoreProperties.txt): characters a renderer shows as
# nothing, whatever their category (U+3164 HANGUL FILLER is a letter, Lo). Hard-coded: Python's
# unicodedata does not have the property.
_DEFAULT_IGNORABLE: Final = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
# Characters that are not ignorable but render as an empty cell.
_BLANKS: Final = frozenset("\u2800")  # BRAILLE PATTERN BLANK
_INVISIBLE: Final = _BLANKS | frozenset(chr(c) for low, high in _DEFAULT_IGNORABLE for c in range(low, high + 1))
# Also dropped: format characters (Cf), combining marks (Mn, Me: accents, so that a D with a dot is a D) and
# control characters that are not whitespace.
_DROPPED_CATEGORIES: Final = frozenset({"Cf", "Mn", "Me", "Cc"})

# Dash look-alikes read as "-": Unicode's dash punctuation (category Pd, Unicode 15; a test checks the list
# against unicodedata), the minus signs (U+2212, U+02D7, U+2796) and the hyphen bullet (U+2043).
_DASHES: Final = frozenset(
    "\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d"
    "\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead\u2212\u02d7\u2796\u2043"
)
_PLUSES: Final = frozenset("\u02d6\u2795")  # the others (full-width, small, super- and subscript) fold in NFKD

# Letters of other scripts that look like the Latin letters of a check character or a century sign (after
# Unicode's confusables.txt): Cyrillic, Greek, Cherokee, Armenian, Latin small capitals and barred D's.
_LOOK_ALIKES: Final[dict[str, str]] = {
    "A": "\u0410\u0430\u0391\u03b1\u13aa\u1d00",
    "B": "\u0412\u0432\u0392\u13f4\u0299",
    "C": "\u0421\u0441\u13df\u1d04",
    "D": "\u0500\u0501\u13a0\u1d05\u0110\u0111\u00d0",
    "E": "\u0415\u0435\u0395\u13ac\u1d07",
    "F": "\ua730",
    "H": "\u041d\u043d\u04ba\u04bb\u0397\u13bb\u029c",
    "J": "\u0408\u0458\u037f\u13ab\u1d0a",
    "K": "\u041a\u043a\u039a\u03ba\u13e6\u1d0b",
    "L": "\u13de\u029f\u0141\u0142",
    "M": "\u041c\u043c\u039c\u13b7\u1d0d",
    "N": "\u039d\u0274",
    "P": "\u0420\u0440\u03a1\u03c1\u13e2\u1d18",
    "R": "\u13d2\u0280",
    "S": "\u0405\u0455\u13da\ua731",
    "T": "\u0422\u0442\u03a4\u13a2\u1d1b",
    "U": "\u03c5\u054d\u057d\u1d1c",
    "V": "\u0474\u0475\u03bd\u13d9\u1d20",
    "W": "\u051c\u051d\u13b3\u1d21",
    "X": "\u0425\u0445\u03a7\u03c7",
    "Y": "\u0423\u0443\u04ae\u04af\u03a5\u028f",
}
_LOOK_ALIKE_OF: Final[dict[str, str]] = {
    **{look_alike: latin for latin, look_alikes in _LOOK_ALIKES.items() for look_alike in look_alikes},
    **dict.fromkeys(_DASHES, "-"),
    **dict.fromkeys(_PLUSES, "+"),
}


def _read_as(character: str) -> str | None:
    """What one character (after NFKD) reads as: None for nothing."""
    if character.isspace():
        return " "
    if character in _LOOK_ALIKE_OF:
        return _LOOK_ALIKE_OF[character]
    if character in _INVISIBLE or unicodedata.category(character) in _DROPPED_CATEGORIES:
        return None
    if character.isdecimal():
        return str(unicodedata.decimal(character))
    return character


class _ReadingTable(dict):
    """str.translate's table of what each character reads as, worked out the first time it is seen (up to
    a bound, so that texts of every code point cannot grow it without end)."""

    BOUND = 20_000

    def __missing__(self, code_point: int) -> str | None:
        reading = _read_as(chr(code_point))
        if len(self) < self.BOUND:
            self[code_point] = reading
        return reading


_READING: Final = _ReadingTable()


def normalise_free_text(text: str) -> str:
    """``text`` as the detector reads it (see the module docstring): every whitespace character a space.

    Only for finding codes: the text itself is stored as it was written.
    """
    return unicodedata.normalize("NFKD", text or "").translate(_READING)


# --- Letters, digits and the gaps between them ---------------------------------------------------------

_GAP_MARKS_MAX: Final = 2
# The gap before a character: none, one that joins it to the one before (with or without a "-" or "+",
# the separators a code itself is written with), or one that does not.
_JOINED, _SEPARATED, _SIGNED, _BROKEN = 0, 1, 2, 3
_RUNS: Final = re.compile(r"([^\W_]+)|[\W_]+")  # letters and digits, or what is between them


def _gap(separators: str) -> int:
    marks = len(separators) - separators.count(" ")
    if marks > _GAP_MARKS_MAX:
        return _BROKEN
    return _SIGNED if "-" in separators or "+" in separators else _SEPARATED


def _characters_and_gaps(text: str) -> tuple[str, list[int]]:
    """The letters and digits of the normalised ``text``, in upper case, and the gap before each (and one
    after the last)."""
    characters: list[str] = []
    gaps: list[int] = []
    gap = _BROKEN  # nothing before the first
    for run in _RUNS.finditer(text):
        letters_and_digits = run[1]
        if letters_and_digits is None:
            gap = _gap(run[0]) if characters else _BROKEN
            continue
        upper = letters_and_digits.upper()
        characters.append(upper if len(upper) == len(letters_and_digits) else letters_and_digits)
        gaps.append(gap)
        gaps.extend([_JOINED] * (len(letters_and_digits) - 1))
        gap = _SEPARATED  # the end of the text
    gaps.append(gap)
    return "".join(characters), gaps


# --- Candidates ------------------------------------------------------------------------------------------

_DIGITS: Final = "0123456789"
_CENTURY_SIGN_LETTERS: Final = "ABCDEFUVWXY"  # "+" and "-" are separators: the century is then any
_CENTURY_OF_SIGN: Final = {**dict.fromkeys("UVWXY", 1900), **dict.fromkeys("ABCDEF", 2000)}
_HETU_CHECK_CHARACTERS: Final = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_ANY_CENTURY: Final = (1800, 1900, 2000)
_COORDINATION_DAY_OFFSET: Final = 60

# Where a gap falls: inside a part, between the date's parts, between the date and the rest (the sign,
# the individual number), or before the check character.
_INSIDE, _IN_DATE, _AFTER_DATE, _BEFORE_CHECK = range(4)


@dataclass(frozen=True, slots=True)
class _Part:
    name: str
    length: int
    allowed: str
    optional: bool = False


_DAY, _MONTH = _Part("day", 2, _DIGITS), _Part("month", 2, _DIGITS)
_SIGN = _Part("sign", 1, _CENTURY_SIGN_LETTERS, optional=True)
_INDIVIDUAL, _CHECK = _Part("individual", 3, _DIGITS), _Part("check", 1, _HETU_CHECK_CHARACTERS)
_TAIL = _Part("tail", 4, _DIGITS)
# The shapes: the date's parts, then the rest.
_HETU_SHAPES: Final = (
    ((_DAY, _MONTH, _Part("year", 2, _DIGITS)), (_SIGN, _INDIVIDUAL, _CHECK)),
    ((_DAY, _MONTH, _Part("year", 4, _DIGITS)), (_SIGN, _INDIVIDUAL, _CHECK)),
)
_PERSONNUMMER_SHAPES: Final = (
    ((_Part("year", 2, _DIGITS), _MONTH, _DAY), (_TAIL,)),
    ((_Part("year", 4, _DIGITS), _MONTH, _DAY), (_TAIL,)),
)
# Where a shape may start: its date's day, month and century must be there (the characters are read
# without the gaps between them, so this holds for every candidate). A regular expression finds them fast.
_DAY_RE, _MONTH_RE = r"(?:0[1-9]|[12]\d|3[01])", r"(?:0[1-9]|1[0-2])"
_SWEDISH_DAY_RE = r"(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])"
_FIRST_LOOK: Final = {
    _HETU_SHAPES[0]: re.compile(rf"(?={_DAY_RE}{_MONTH_RE}\d\d)", re.ASCII),
    _HETU_SHAPES[1]: re.compile(rf"(?={_DAY_RE}{_MONTH_RE}(?:18|19|20)\d\d)", re.ASCII),
    _PERSONNUMMER_SHAPES[0]: re.compile(rf"(?=\d\d{_MONTH_RE}{_SWEDISH_DAY_RE})", re.ASCII),
    _PERSONNUMMER_SHAPES[1]: re.compile(rf"(?=(?:18|19|20)\d\d{_MONTH_RE}{_SWEDISH_DAY_RE})", re.ASCII),
}
_SHORTEST: Final = 10  # characters of the shortest code (a HETU without its sign, a 10-digit personnummer)


@dataclass(frozen=True, slots=True)
class _Candidate:
    parts: dict[str, str]
    gaps: tuple[tuple[int, int], ...]  # (gap, where it falls) between each two of its characters
    start: int  # index of its first character
    end: int  # index after its last character


def _candidate(characters: str, gaps: list[int], start: int, shape) -> _Candidate | None:
    """The characters from ``start`` read in ``shape``, or None when they do not fit it."""
    date, rest = shape
    parts, inner, index = {}, [], start
    for part in (*date, *rest):
        if part.optional and (index >= len(characters) or characters[index] not in part.allowed):
            continue
        value = characters[index : index + part.length]
        if len(value) < part.length or any(character not in part.allowed for character in value):
            return None
        for offset in range(part.length):
            if index + offset == start:
                continue
            gap = gaps[index + offset]
            if gap == _BROKEN:
                return None
            if offset:
                where = _INSIDE
            elif part is _CHECK:
                where = _BEFORE_CHECK
            elif part in date:
                where = _IN_DATE
            else:
                where = _AFTER_DATE
            inner.append((gap, where))
        parts[part.name] = value
        index += part.length
    return _Candidate(parts=parts, gaps=tuple(inner), start=start, end=index)


def _date_is_real(years, month: int, day: int) -> bool:
    for year in years:
        try:
            datetime.date(year, month, day)
        except ValueError:
            continue
        return True
    return False


def _is_hetu(parts: dict[str, str]) -> bool:
    """A Finnish code (temporary ones too): a real date in the century of its sign or year, the check."""
    year = parts["year"]
    if len(year) == 4:
        years = [int(year)] if year[:2] in ("18", "19", "20") else []
    elif parts.get("sign"):
        years = [_CENTURY_OF_SIGN[parts["sign"]] + int(year)]
    else:
        years = [century + int(year) for century in _ANY_CENTURY]
    if not _date_is_real(years, int(parts["month"]), int(parts["day"])):
        return False
    if int(parts["individual"]) < 2:  # 000 and 001 are never given
        return False
    number = int(f"{parts['day']}{parts['month']}{year[-2:]}{parts['individual']}")
    return _HETU_CHECK_CHARACTERS[number % 31] == parts["check"]


def _is_personnummer(parts: dict[str, str]) -> bool:
    """A Swedish personnummer or samordningsnummer (day + 60): a real date, the Luhn check digit."""
    year, month, day = parts["year"], parts["month"], parts["day"]
    if len(year) == 4:
        years = [int(year)] if year[:2] in ("18", "19", "20") else []
    else:
        years = [century + int(year) for century in _ANY_CENTURY]
    real_day = int(day) - _COORDINATION_DAY_OFFSET if int(day) > _COORDINATION_DAY_OFFSET else int(day)
    return _date_is_real(years, int(month), real_day) and luhn.is_valid(f"{year[-2:]}{month}{day}{parts['tail']}")


# --- The shape of a code -----------------------------------------------------------------------------------


def _looks_like_a_code(
    candidate: _Candidate, characters: str, gaps: list[int], *, country: str | None, phone_number: bool
) -> bool:
    """Whether a valid candidate is written as a code is (the rules of the module docstring)."""
    inner = candidate.gaps
    every_character_apart = all(gap != _JOINED for gap, _where in inner)
    if not every_character_apart and any(gap != _JOINED for gap, where in inner if where == _INSIDE):
        return False
    after = characters[candidate.end] if candidate.end < len(characters) else ""
    joined_after = gaps[candidate.end] == _JOINED
    check = candidate.parts.get("check", "")
    if after.isdigit() and joined_after and not check.isalpha():
        return False  # part of a longer number
    if candidate.parts.get("sign") or check.isalpha():
        set_apart = inner[-1][0] != _JOINED
        return not (check.isalpha() and set_apart and after.isalpha() and joined_after)
    if candidate.start and characters[candidate.start - 1].isdigit() and gaps[candidate.start] == _JOINED:
        return False
    date_in_one_piece = all(gap == _JOINED for gap, where in inner if where == _IN_DATE)
    signed = [gap for gap, where in inner if where == _AFTER_DATE] == [_SIGNED]
    if phone_number:
        return date_in_one_piece and signed
    if all(gap == _JOINED for gap, _where in inner):  # bare digits
        return "check" in candidate.parts or country == "SE"
    if every_character_apart or date_in_one_piece:
        return True
    return signed and not (after.isdigit() and gaps[candidate.end] == _SIGNED)


def contains_identity_code(text: str, *, country: str | None = None, phone_number: bool = False) -> bool:
    """Whether ``text`` holds a Finnish or Swedish personal identity code, however it is written.

    ``country`` is the consortium's jurisdiction ("FI", "SE" or None for not known, read as in Finland): it
    decides only whether bare runs of ten or twelve digits are read as personnummer. ``phone_number``: the
    text is a phone number (see the module docstring). HETUs of every century sign, temporary ones too, and
    personnummer and samordningsnummer of 10 or 12 digits are found in every consortium.
    """
    characters, gaps = _characters_and_gaps(normalise_free_text(text))
    if len(characters) < _SHORTEST:
        return False
    for shapes, is_code in ((_HETU_SHAPES, _is_hetu), (_PERSONNUMMER_SHAPES, _is_personnummer)):
        for shape in shapes:
            for start in _FIRST_LOOK[shape].finditer(characters):
                candidate = _candidate(characters, gaps, start.start(), shape)
                if (
                    candidate is not None
                    and is_code(candidate.parts)
                    and _looks_like_a_code(candidate, characters, gaps, country=country, phone_number=phone_number)
                ):
                    return True
    return False
