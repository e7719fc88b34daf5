"""One date format per language (FORMAT_MODULE_PATH): what a page shows as a date, short or long.

Django's own formats have two per language (a long DATE_FORMAT "3. joulukuuta 2026" and a SHORT_DATE_FORMAT
"3.12.2026"), and the pages had hand-written ones besides. Here each language has one date, one time and one
date-time format, and pages use the names (DATE_FORMAT, SHORT_DATE_FORMAT, ...), never a pattern:
fi and Finland-Swedish (sv_FI) 03.12.2026 14.30, Sweden's Swedish 2026-12-03 14:30, English 3 Dec 2026 14:30.
Input formats, separators and the first day of the week stay Django's, except Finland-Swedish input (d.m.Y).
Legal documents keep their own fixed format (templates/bans/decision_*.html: a Finnish authority's decision).
"""
