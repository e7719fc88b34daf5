"""Texts that look like identity codes but are not: a seeded corpus for measuring the detector's refusals.

What library notes, reasons and contact fields hold besides words: dates and times, phone numbers with and
without spaces, card numbers, ISBNs, invoice and reference numbers, sums of money, addresses, Finnish
business ids and Swedish organisation numbers, and notes that mix them. Each generator draws from a
seeded random.Random, with valid check digits where the number has one, so the same corpus is measured
every time. Print the refusal rate of each kind, in both consortiums and under the phone number rule:

    .venv/bin/python -m tests.core.identity_code_lookalikes            # 5,000 texts of each kind
    .venv/bin/python -m tests.core.identity_code_lookalikes --count 20000 --seed 7
"""

import argparse
import random
from collections.abc import Callable, Iterator

from stdnum import luhn

Generator = Callable[[random.Random], str]


def _date(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(1, 28 if rng.random() < 0.2 else 31), rng.randint(1, 12), rng.randint(1990, 2030)


def _time(rng: random.Random) -> tuple[int, int]:
    return rng.randint(7, 21), rng.choice((0, 0, 15, 30, 45, rng.randint(0, 59)))


def date_and_time(rng: random.Random) -> str:
    (d, m, y), (hh, mm), (hh2, mm2) = _date(rng), _time(rng), _time(rng)
    (d2, m2, y2) = _date(rng)
    return rng.choice(
        (
            f"{d:02d}.{m:02d}.{y} {hh:02d}.{mm:02d}",
            f"{d}.{m}.{y} klo {hh}",
            f"{d:02d}.{m:02d}.{y} klo {hh:02d}.{mm:02d}\u2013{hh2:02d}.{mm2:02d}",
            f"{d:02d}.{m:02d}.{y} kl. {hh:02d}:{mm:02d}",
            f"{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}",
            f"{y}-{m:02d}-{d:02d} kl. {hh:02d}.{mm:02d}",
            f"{d:02d}.{m:02d}.{y % 100:02d}",
            f"{d:02d}/{m:02d}/{y}",
            f"{d}.{m}.\u2013{d2}.{m2}.{y}",
            f"{d:02d}.{m:02d}.{y}\u2013{d2:02d}.{m2:02d}.{y2}",
            f"{y}-{m:02d}-{d:02d}\u2013{y2}-{m2:02d}-{d2:02d}",
            f"{y}-{m:02d}-{d:02d} - {y2}-{m2:02d}-{d2:02d}",
            f"{d:02d}.{m:02d}.{y} {hh:02d}{mm:02d}",
            f"{d:02d}.{m:02d}.{y} {rng.randint(1, 9999)}",
        )
    )


def compact_date_and_number(rng: random.Random) -> str:
    """A date written as six or eight digits (a file or archive reference) and a four-digit time or number:
    the shape of a code written with a space, so the kind the rule refuses most."""
    (d, m, y), (hh, mm) = _date(rng), _time(rng)
    number = rng.choice((f"{hh:02d}{mm:02d}", f"{rng.randint(0, 9999):04d}"))
    return rng.choice(
        (
            f"{d:02d}{m:02d}{y % 100:02d} {number}",
            f"{y % 100:02d}{m:02d}{d:02d} {number}",
            f"{y}{m:02d}{d:02d} {number}",
        )
    )


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def phone_fi(rng: random.Random) -> str:
    prefix = rng.choice(("040", "041", "044", "045", "046", "050", "0400", "0500", "0457"))
    subscriber = _digits(rng, 7)
    area, landline = rng.choice(("09", "016", "015", "03", "02", "017")), _digits(rng, rng.choice((6, 7)))
    return rng.choice(
        (
            f"{prefix} {subscriber[:3]} {subscriber[3:]}",
            f"{prefix}-{subscriber[:3]} {subscriber[3:]}",
            f"{prefix} {subscriber}",
            f"{prefix}-{subscriber}",
            f"{prefix}{subscriber}",
            f"+358 {prefix[1:]} {subscriber}",
            f"+358 {prefix[1:]} {subscriber[:3]} {subscriber[3:]}",
            f"+358{prefix[1:]}{subscriber}",
            f"{prefix} {subscriber[:3]} {subscriber[3:5]} {subscriber[5:]}",
            f"{area} {landline[:3]} {landline[3:]}",
            f"({area}) {landline}",
            f"{area}-{landline}",
            f"{area}{landline}",
        )
    )


def phone_se(rng: random.Random) -> str:
    prefix, subscriber = rng.choice(("070", "072", "073", "076", "079")), _digits(rng, 7)
    area, landline = rng.choice(("08", "031", "040", "046", "0413", "0418")), _digits(rng, rng.choice((5, 6, 7)))
    return rng.choice(
        (
            f"{prefix}-{subscriber[:3]} {subscriber[3:5]} {subscriber[5:]}",
            f"{prefix} {subscriber[:3]} {subscriber[3:5]} {subscriber[5:]}",
            f"{prefix}{subscriber}",
            f"{prefix}-{subscriber}",
            f"+46 {prefix[1:]} {subscriber[:3]} {subscriber[3:5]} {subscriber[5:]}",
            f"+46{prefix[1:]}{subscriber}",
            f"{area}-{landline[:-4]} {landline[-4:-2]} {landline[-2:]}",
            f"{area}-{landline}",
            f"{area} {landline}",
            f"{area}{landline}",
        )
    )


def _with_luhn(digits: str) -> str:
    return digits + luhn.calc_check_digit(digits)


def card_number(rng: random.Random) -> str:
    library = rng.choice(("2440", "2450", "2460", "2910")) + _digits(rng, 10)
    payment = _with_luhn(rng.choice(("4", "51", "55", "37")) + _digits(rng, 14))[:16]
    payment = _with_luhn(payment[:15])
    return rng.choice(
        (
            library,
            f"kortti {library}",
            library[:10],  # the start of a card number typed into a search
            payment,
            " ".join(payment[i : i + 4] for i in range(0, 16, 4)),
            f"**** **** **** {payment[-4:]}",
        )
    )


def isbn(rng: random.Random) -> str:
    group = rng.choice(("951", "952", "91", "0", "1", "3"))
    body = group + _digits(rng, 9 - len(group))
    check10 = sum((10 - i) * int(c) for i, c in enumerate(body)) % 11
    isbn10 = body + ("0123456789X"[(11 - check10) % 11])
    body13 = "978" + body
    isbn13 = body13 + str((10 - sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(body13)) % 10) % 10)
    publisher = rng.randint(1, 5)
    rest = isbn10[len(group) : 9]
    hyphen10 = f"{group}-{rest[:publisher]}-{rest[publisher:]}-{isbn10[-1]}"
    hyphen13 = f"978-{group}-{rest[:publisher]}-{rest[publisher:]}-{isbn13[-1]}"
    return rng.choice((f"ISBN {isbn10}", isbn10, hyphen10, f"ISBN {hyphen10}", isbn13, hyphen13, f"ISBN {hyphen13}"))


def _finnish_reference(base: str) -> str:
    weights = (7, 3, 1)
    total = sum(int(c) * weights[i % 3] for i, c in enumerate(reversed(base)))
    return base + str((10 - total % 10) % 10)


def invoice_number(rng: random.Random) -> str:
    year = rng.randint(2015, 2030)
    reference = _finnish_reference(_digits(rng, rng.randint(3, 19)).lstrip("0") or "1")
    grouped = " ".join(reference[max(0, i - 5) : i] for i in range(len(reference), 0, -5)[::-1])
    ocr = _with_luhn(_digits(rng, rng.randint(5, 15)))
    iban = f"FI{rng.randint(10, 99)} {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 2)}"
    return rng.choice(
        (
            f"lasku {year}-{rng.randint(1, 999999):06d}",
            f"INV-{year}-{rng.randint(1, 999999):06d}",
            f"lasku nro {rng.randint(1000, 9999999)}",
            f"viitenumero {grouped}",
            f"viite {reference}",
            f"RF{rng.randint(10, 99)} {grouped}",
            f"OCR {ocr}",
            iban,
            f"faktura {year}/{rng.randint(1, 9999)}",
            f"tilaus {rng.randint(100000, 999999)}-{rng.randint(1, 99)}",
        )
    )


def sum_of_money(rng: random.Random) -> str:
    euros, cents = rng.randint(0, 99999), rng.randint(0, 99)
    grouped = f"{euros:,}".replace(",", " ")
    (d, m, y) = _date(rng)
    return rng.choice(
        (
            f"{euros},{cents:02d} €",
            f"{grouped},{cents:02d} €",
            f"{euros} €",
            f"maksettu {d:02d}.{m:02d}.{y} {euros},{cents:02d} €",
            f"maksettu {d}.{m}.{y} {euros} €",
            f"{grouped}:- kr",
            f"SEK {grouped},{cents:02d}",
            f"€{euros:,}.{cents:02d}",
            f"{euros} euroa {cents} senttiä",
        )
    )


def address(rng: random.Random) -> str:
    street = rng.choice(("Kotikatu", "Koskikatu", "Pohjolankatu", "Storgatan", "Järnvägsgatan", "Hallonvägen"))
    number, letter, flat = rng.randint(1, 150), rng.choice("ABCDEFGH"), rng.randint(1, 120)
    fi_code, se_code = f"{rng.randint(0, 99999):05d}", f"{rng.randint(100, 999)} {rng.randint(10, 99)}"
    city = rng.choice(("Helsinki", "Rovaniemi", "Kemi", "Eslöv", "Lund", "Malmö", "Tornio", "Mikkeli"))
    return rng.choice(
        (
            f"{street} {number} {letter} {flat}, {fi_code} {city}",
            f"{street} {number} {letter} {flat}",
            f"{street} {number}, {fi_code} {city.upper()}",
            f"PL {rng.randint(1, 9999)}, {fi_code} {city}",
            f"{street} {number} {letter}, {se_code} {city}",
            f"Box {rng.randint(1, 9999)}, {se_code} {city}",
            f"{street} {number}-{number + 2}, lgh {rng.randint(1001, 1504)}, {se_code} {city}",
            f"{fi_code} {city}",
        )
    )


def organisation_number(rng: random.Random) -> str:
    swedish = _with_luhn(rng.choice("2589") + _digits(rng, 8))
    while int(swedish[2:4]) < 20:  # the "month" of an organisation number is 20 or more
        swedish = _with_luhn(rng.choice("2589") + _digits(rng, 8))
    body = _digits(rng, 7)
    remainder = sum(int(c) * w for c, w in zip(body, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    business_id = f"{body}-{0 if remainder == 0 else 11 - remainder}" if remainder != 1 else f"{body}-X"
    return rng.choice(
        (
            f"{swedish[:6]}-{swedish[6:]}",
            f"org.nr {swedish[:6]}-{swedish[6:]}",
            f"16{swedish[:6]}-{swedish[6:]}",
            swedish,
            f"Y-tunnus {business_id}" if not business_id.endswith("X") else "Y-tunnus puuttuu",
        )
    )


def number_and_letter(rng: random.Random) -> str:
    """A number followed by a letter on its own: an initial, a staircase, a shelf or a version."""
    number = rng.choice(PARTS[:4])(rng)
    letter = rng.choice("ABCDEFHJKLMNPRSTUVWXY")
    surname = rng.choice(("Virtanen", "Korhonen", "Nieminen", "Andersson", "Lindqvist"))
    return rng.choice(
        (
            f"{number} {letter}. {surname}",
            f"{number} / {letter} {surname}",
            f"{number}, {letter}-rappu",
            f"{number} {letter}",
            f"{number}{letter}",
            f"{number}-{letter}",
            f"{number} ({letter})",
        )
    )


FILLER = (
    "Soitti",
    "Asiakas kävi",
    "Palautti kirjat",
    "Maksoi",
    "Sovittu",
    "Ringde",
    "Betalade",
    "Lånade",
    "huom.",
    "numerosta",
    "klo",
    "ja",
    "och",
    "tel.",
    "puh.",
    "eräpäivä",
    "osoite",
)


def note(rng: random.Random) -> str:
    """A note mixing two to four of the other kinds, with words between them (or none)."""
    parts = []
    for _ in range(rng.randint(2, 4)):
        if rng.random() < 0.7:
            parts.append(rng.choice(FILLER))
        parts.append(rng.choice(PARTS)(rng))
    return " ".join(parts) + rng.choice((".", "", "!"))


PARTS: tuple[Generator, ...] = (
    date_and_time,
    phone_fi,
    phone_se,
    card_number,
    isbn,
    invoice_number,
    sum_of_money,
    address,
    organisation_number,
)
KINDS: dict[str, Generator] = {
    "dates and times": date_and_time,
    "compact date and a number": compact_date_and_number,
    "phone numbers (FI)": phone_fi,
    "phone numbers (SE)": phone_se,
    "card numbers": card_number,
    "ISBNs": isbn,
    "invoice and reference numbers": invoice_number,
    "sums of money": sum_of_money,
    "addresses": address,
    "organisation numbers": organisation_number,
    "a number and a letter": number_and_letter,
    "notes mixing them": note,
}


def corpus(kind: str, *, count: int, seed: int = 2026) -> Iterator[str]:
    rng = random.Random(f"{seed}:{kind}")
    generate = KINDS[kind]
    for _ in range(count):
        yield generate(rng)


def refusal_rates(detect, *, count: int, seed: int = 2026) -> dict[str, dict[str, float]]:
    """{kind: {rule: share refused}} for the rules FI, SE and phone (a phone number field)."""
    rules = {
        "FI": lambda text: detect(text, country="FI"),
        "SE": lambda text: detect(text, country="SE"),
        "phone": lambda text: detect(text, country="SE", phone_number=True),
    }
    rates = {}
    for kind in KINDS:
        texts = list(corpus(kind, count=count, seed=seed))
        rates[kind] = {rule: sum(map(refused, texts)) / len(texts) for rule, refused in rules.items()}
    return rates


def main() -> None:
    from core.identity_code_text import contains_identity_code

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="texts of each kind (default 5000)")
    parser.add_argument("--seed", type=int, default=2026)
    arguments = parser.parse_args()
    rates = refusal_rates(contains_identity_code, count=arguments.count, seed=arguments.seed)
    print(f"{'kind':32} {'FI':>7} {'SE':>7} {'phone':>7}   ({arguments.count} texts each, seed {arguments.seed})")
    for kind, by_rule in rates.items():
        print(f"{kind:32} " + " ".join(f"{100 * by_rule[rule]:6.2f}%" for rule in ("FI", "SE", "phone")))


if __name__ == "__main__":
    main()
