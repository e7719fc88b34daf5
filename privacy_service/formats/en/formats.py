"""English: 3 Dec 2026 14:30, day before month in words, so no reader takes 03.12 for 12 March."""

DATE_FORMAT = SHORT_DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "j M Y H:i"
