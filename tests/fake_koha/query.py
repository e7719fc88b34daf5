"""Koha's list machinery, as the fake answers it: `q` JSON filters, plain field parameters with `_match`,
`_order_by`, and `_page`/`_per_page` with the headers Koha sends (Koha/REST/Plugin/Objects.pm, Query.pm and
Pagination.pm, described in ../shared/koha/README.md sections 3 and 4).

A query is compiled once into a predicate over a "row" getter, so a list of 100,000 patrons is filtered in
one pass and the result cached by the server between the pages of one sync.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from functools import lru_cache, partial
from typing import Any
from urllib.parse import urlencode

Row = Callable[[str], Any]
Predicate = Callable[[Row], bool]

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


class InvalidQuery(Exception):
    """Koha answers 400 with error_code invalid_query; the message is Koha-like and has no field values."""


class BadParameters(Exception):
    """Koha's validate_query_parameters: 400 with a bare list of {path, message}."""

    def __init__(self, errors: list[dict[str, str]]):
        super().__init__("bad parameters")
        self.errors = errors


def parse_datetime(value: Any) -> datetime:
    """RFC 3339 as Koha's _recursive_fixup reads it (`Z` or an offset); a naive value is refused, as Koha's
    parser does not guess a time zone for a date-time."""
    if not isinstance(value, str):
        raise InvalidQuery("Invalid date-time in query")
    text = value.strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidQuery("Invalid date-time in query") from None
    if parsed.tzinfo is None or "T" not in text.upper():
        raise InvalidQuery("Invalid date-time in query")
    return parsed


def _like(pattern: Any) -> re.Pattern[str]:
    """SQL LIKE (`%` any run, `_` one character), case-insensitive as MySQL's default collation."""
    parts = []
    for char in str(pattern):
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


class QueryCompiler:
    """Compiles SQL::Abstract-style JSON to a predicate. `fields` are the object's API names with their kind
    ("datetime", "date", "int", "bool", "str"); `relations` the embedded relations that may be queried with dot
    notation (only when embedded, as in Koha, where the join exists only then)."""

    def __init__(self, fields: Mapping[str, str], relations: Mapping[str, Mapping[str, str]] | None = None):
        self.fields = fields
        self.relations = relations or {}

    def kind_of(self, key: str) -> str:
        if key in self.fields:
            return self.fields[key]
        relation, _, column = key.partition(".")
        if column and column in self.relations.get(relation, {}):
            return self.relations[relation][column]
        raise InvalidQuery("Invalid query: unknown field")

    def compile(self, node: Any) -> Predicate:
        if isinstance(node, list):
            alternatives = [self.compile(item) for item in node]
            return lambda row: any(p(row) for p in alternatives)
        if not isinstance(node, dict):
            raise InvalidQuery("Invalid query")
        parts: list[Predicate] = []
        for key, value in node.items():
            if key == "-and":
                items = value if isinstance(value, list) else [value]
                parts.append(_all_of([self.compile(item) for item in items]))
            elif key == "-or":
                parts.append(self.compile(value if isinstance(value, list) else [value]))
            elif key.startswith("-"):
                raise InvalidQuery("Invalid operator in query")
            else:
                parts.append(self.field(key, value))
        return lambda row: all(p(row) for p in parts)

    def coerce(self, kind: str, value: Any) -> Any:
        if value is None:
            return None
        if kind == "datetime":
            return parse_datetime(value)
        if kind == "date":
            try:
                return date.fromisoformat(str(value))
            except ValueError:
                raise InvalidQuery("Invalid date in query") from None
        if kind == "int":
            try:
                return int(value)
            except (TypeError, ValueError):
                raise InvalidQuery("Invalid query") from None
        if kind == "bool":
            return bool(value) if not isinstance(value, str) else value.lower() in ("1", "true")
        return str(value)

    def field(self, key: str, condition: Any) -> Predicate:
        kind = self.kind_of(key)
        if isinstance(condition, list):
            alternatives = [self.field(key, item) for item in condition]
            return lambda row: any(p(row) for p in alternatives)
        if not isinstance(condition, dict):
            return self.operator(key, kind, "=", condition)
        parts = [self.operator(key, kind, op, value) for op, value in condition.items()]
        return lambda row: all(p(row) for p in parts)

    def operator(self, key: str, kind: str, op: str, operand: Any) -> Predicate:
        read = value_reader(key, kind)
        if op in COMPARISONS:
            wanted = self.coerce(kind, operand)
            compare = COMPARISONS[op]
            if wanted is None:
                return (lambda row: read(row) is None) if op == "=" else (lambda row: read(row) is not None)
            return lambda row: (have := read(row)) is not None and compare(have, wanted)
        if op == "-not":
            inner = self.field(key, operand)
            return lambda row: not inner(row)
        if op in ("-like", "-not_like"):
            pattern = _like(operand)
            positive = op == "-like"
            return lambda row: (have := row(key)) is not None and bool(pattern.fullmatch(str(have))) == positive
        if op in ("-in", "-not_in"):
            if not isinstance(operand, list):
                raise InvalidQuery("Invalid query")
            wanted_set = {self.coerce(kind, item) for item in operand}
            positive = op == "-in"
            return lambda row: (have := read(row)) is not None and (have in wanted_set) == positive
        if op in ("-between", "-not_between"):
            if not isinstance(operand, list) or len(operand) != 2:
                raise InvalidQuery("Invalid query")
            low, high = (self.coerce(kind, item) for item in operand)
            positive = op == "-between"
            return lambda row: (have := read(row)) is not None and (low <= have <= high) == positive
        raise InvalidQuery("Invalid operator in query")


@lru_cache(maxsize=65536)
def _stored_datetime(value: str) -> datetime:
    """Stored timestamps repeat (a bulk load shares one), so each text is parsed once."""
    return datetime.fromisoformat(value)


def value_reader(key: str, kind: str) -> Callable[[Row], Any]:
    """A stored value in the comparable form of its kind (date-times are stored as RFC 3339 text)."""
    if kind == "datetime":

        def read_datetime(row: Row) -> Any:
            value = row(key)
            return None if value is None else _stored_datetime(value)

        return read_datetime
    if kind == "date":

        def read_date(row: Row) -> Any:
            value = row(key)
            return None if value is None else date.fromisoformat(value)

        return read_date
    return lambda row: row(key)


def parse_q(values: Iterable[str]) -> list[Any]:
    """Each `q` is JSON; several are ANDed (Koha merges them with -and)."""
    parsed = []
    for text in values:
        try:
            parsed.append(json.loads(text))
        except ValueError:
            raise InvalidQuery("Malformed query string in q parameter") from None
    return parsed


def match_condition(value: str, match: str) -> dict[str, str] | str:
    """A plain field parameter (`?surname=Virta`) as Koha's build_query_params turns it into a condition:
    `_match` defaults to `contains`, so `?patron_id=1` also finds 10 and 21 (use q or `_match=exact`)."""
    if match == "exact":
        return value
    pattern = {"contains": f"%{value}%", "starts_with": f"{value}%", "ends_with": f"%{value}"}[match]
    return {"-like": pattern}


def order_key(order_by: list[str], fields: Mapping[str, str]) -> list[tuple[str, bool]]:
    """`_order_by=+updated_on,-patron_id` as (field, descending) pairs; unknown fields are a bad query."""
    keys = []
    for item in order_by:
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            descending = part.startswith("-")
            name = part.lstrip("+-")
            if name not in fields:
                raise InvalidQuery("Invalid query: unknown field in _order_by")
            keys.append((name, descending))
    return keys


def sort_objects(objects: list[dict[str, Any]], keys: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    """Stable multi-key sort, NULLs first as MySQL sorts them ascending."""
    for name, descending in reversed(keys):
        objects.sort(key=partial(_sortable_field, name), reverse=descending)
    return objects


def page_bounds(page_text: str | None, per_page_text: str | None, default_per_page: int) -> tuple[int, int]:
    """(_page, _per_page) as Koha validates them: integers, _per_page -1 for everything, 0 refused."""
    errors = []
    try:
        page = int(page_text) if page_text is not None else 1
        if page < 1:
            raise ValueError
    except ValueError:
        errors.append({"message": "Expected integer - got string.", "path": "/query/_page"})
        page = 1
    try:
        per_page = int(per_page_text) if per_page_text is not None else default_per_page
        if per_page == 0 or per_page < -1:
            errors.append({"message": "Invalid value for _per_page.", "path": "/query/_per_page"})
    except ValueError:
        errors.append({"message": "Expected integer - got string.", "path": "/query/_per_page"})
        per_page = default_per_page
    if errors:
        raise BadParameters(errors)
    return page, per_page


def link_header(base_url: str, query: list[tuple[str, str]], page: int, per_page: int, total: int) -> str | None:
    """RFC 5988 links as Koha's Pagination.pm writes them: first, prev, next, last, on the request's URL."""
    if per_page == -1:
        return None
    last = max(1, math.ceil(total / per_page))
    kept = [(name, value) for name, value in query if name not in ("_page", "_per_page")]

    def link(target: int, rel: str) -> str:
        params = [*kept, ("_page", str(target)), ("_per_page", str(per_page))]
        return f'<{base_url}?{urlencode(params)}>; rel="{rel}"'

    links = [link(1, "first")]
    if page > 1:
        links.append(link(min(page - 1, last), "prev"))
    if page < last:
        links.append(link(page + 1, "next"))
    links.append(link(last, "last"))
    return ", ".join(links)


def _sortable_field(name: str, obj: dict[str, Any]) -> tuple[bool, Any]:
    value = obj.get(name)
    return (value is not None, value if value is not None else "")


def _all_of(predicates: list[Predicate]) -> Predicate:
    return lambda row: all(p(row) for p in predicates)
