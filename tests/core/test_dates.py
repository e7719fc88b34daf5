"""Ages at their boundaries: the day before the birthday, the day, the day after; the leap-day birth."""

import datetime

import pytest

from core.dates import age_on

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (D(2008, 6, 15), D(2026, 6, 14), 17),  # the day before the eighteenth birthday
        (D(2008, 6, 15), D(2026, 6, 15), 18),  # the birthday
        (D(2008, 6, 15), D(2026, 6, 16), 18),  # the day after
        (D(2008, 1, 1), D(2025, 12, 31), 17),  # across the turn of the year
        (D(2008, 1, 1), D(2026, 1, 1), 18),
        (D(2008, 12, 31), D(2026, 12, 30), 17),
        (D(2008, 12, 31), D(2026, 12, 31), 18),
        (D(2026, 3, 3), D(2026, 3, 3), 0),  # born today
    ],
)
def test_a_year_of_age_is_reached_on_the_birthdays_date(born, day, age):
    assert age_on(born, day) == age


@pytest.mark.parametrize(
    ("day", "age"),
    [
        (D(2026, 2, 27), 17),
        (D(2026, 2, 28), 17),  # a common year: 28 February is not yet the birthday...
        (D(2026, 3, 1), 18),  # ...1 March is
        (D(2028, 2, 28), 19),  # a leap year: the birthday is 29 February itself
        (D(2028, 2, 29), 20),
        (D(2028, 3, 1), 20),
    ],
)
def test_someone_born_on_29_february_comes_of_age_on_1_march_in_a_common_year(day, age):
    assert age_on(D(2008, 2, 29), day) == age
