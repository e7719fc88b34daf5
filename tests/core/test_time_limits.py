"""Statutory time limits: the one-month period of GDPR Art. 12(3) as Regulation 1182/71 counts it."""

import datetime

import pytest

from core.time_limits import is_working_day, last_day_of_time_limit, months_after

D = datetime.date


@pytest.mark.parametrize(
    ("received", "country", "due"),
    [
        # Same date next month, on a working day.
        (D(2026, 3, 10), "FI", D(2026, 4, 10)),
        # 31 January: February has no 31st, so its last day; 28.2.2025 is a Friday.
        (D(2025, 1, 31), "FI", D(2025, 2, 28)),
        # A leap year's last day of February, a Thursday.
        (D(2024, 1, 31), "FI", D(2024, 2, 29)),
        # 28.2.2026 is a Saturday: the period runs to Monday 2.3.
        (D(2026, 1, 31), "FI", D(2026, 3, 2)),
        # 30 April + 1 month = 30 May 2026, a Saturday: Monday 1.6.
        (D(2026, 4, 30), "SE", D(2026, 6, 1)),
        # Independence Day (Monday 6.12.2027) is a public holiday: Tuesday 7.12.
        (D(2027, 11, 6), "FI", D(2027, 12, 7)),
        # Sweden's national day, Tuesday 6.6.2028: Wednesday 7.6. In Finland 6.6. is a working day.
        (D(2028, 5, 6), "SE", D(2028, 6, 7)),
        (D(2028, 5, 6), "FI", D(2028, 6, 6)),
        # Christmas Eve and the holidays after it: 24.12.2026 (Thursday) -> Monday 28.12.
        (D(2026, 11, 24), "FI", D(2026, 12, 28)),
    ],
)
def test_one_month_after_receipt(received, country, due):
    assert months_after(received, 1, country=country) == due


def test_three_months_is_counted_from_receipt_not_from_the_moved_day():
    # 31.1.2026 + 1 month moves to 2.3., but + 3 months is 30.4.2026 (Thursday), not 2.6.
    assert months_after(D(2026, 1, 31), 3, country="FI") == D(2026, 4, 30)


def test_a_working_day_stays_put():
    assert is_working_day(D(2026, 11, 23), country="FI")
    assert last_day_of_time_limit(D(2026, 11, 23), country="FI") == D(2026, 11, 23)
