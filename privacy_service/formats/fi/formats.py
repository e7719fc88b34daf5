"""Finnish: 03.12.2026 14.30 (one format, short and long alike; see privacy_service/formats/__init__.py)."""

DATE_FORMAT = SHORT_DATE_FORMAT = "d.m.Y"
TIME_FORMAT = "H.i"
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "d.m.Y H.i"
