"""A hot query's SQL compiled once per thread and run again with the request's values (issue 16).

Why: profiling the patron detail API and page under load (bench/http_ratio.py, cProfile with a CPU clock) showed
that building and compiling two querysets, the session's user (with the staff profile and three aggregated
subqueries of roles) and the patron (with its eight EXISTS), took about half of a request's Python time: the same
SQL, rebuilt from expressions on every request, with only the user id, or the consortium and patron ids, changing.

`CompiledQuery(build)` calls `build(key, **values)` (a queryset that depends on nothing but `values`, each an
integer, and on the `key` given with them, e.g. the day) the first time in a thread and for that key, twice, with
two sets of stand-in values, and compiles both. It checks that the two SQL texts are the same and that their
parameters differ exactly where a stand-in went in, and nowhere else: a query that depended on anything else that
changed between the two builds (the clock, a counter) is refused with an error, never cached. Later calls copy the
compiled statement, put the request's values where the stand-ins were, and let Django's ModelIterable make the
objects (select_related and annotations included), exactly as `list(build(key, **values))` would; the select's
converters (which depend on the expressions and the backend only) are looked up on the first run and kept too.

What is kept: the SQL text and the other parameters, per thread, database alias and key; nothing of the rows.
A changed row, role or permission is read by the very next request, as before. Not for a queryset that
prefetches (`prefetch_related`): only the main query is compiled.
"""

import copy
import threading
from collections.abc import Callable, Hashable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

# Stand-ins no real id takes (negative), within a 32-bit integer column's range (Django turns a lookup of a value
# out of the column's range into an empty result, without SQL); two sets, so that a parameter that merely happens
# to equal one is told apart.
_STAND_INS = ((-2_000_000_001, 1), (-1_900_000_001, 1))


class CompiledQueryError(Exception):
    """The queryset depends on more than the values it names (its two builds differ elsewhere)."""


class _Statement:
    def __init__(self, compiler: Any, sql: str, params: tuple, positions: dict[str, list[int]]) -> None:
        self.compiler = compiler  # set up by as_sql(): select, klass_info, annotation_col_map
        self.sql = sql
        self.params = params
        self.positions = positions
        self.converters: dict | None = None  # the compiler's get_converters() of the select, asked once


def _converters_once(statement: _Statement) -> Callable[[Any], dict]:
    """The copied compiler's get_converters: the select's converters found on the first run and kept with the
    statement. They depend only on the statement's expressions and the database's backend (the cache is per thread,
    alias and vendor), never on a value; Django looked them up again for each of the some fifty columns on every
    run (about 7 % of the detail API's CPU, issue 16)."""

    def get_converters(expressions: Any) -> dict:
        if statement.converters is None:
            # The compiled (never run) compiler's own method: a composite key's columns recurse into it, not here.
            statement.converters = statement.compiler.get_converters(expressions)
        return statement.converters

    return get_converters


class CompiledQuery:
    def __init__(self, build: Callable[..., QuerySet], *, names: tuple[str, ...]) -> None:
        self._build = build
        self._names = names
        self._local = threading.local()

    def _stand_ins(self, which: int) -> dict[str, int]:
        base, step = _STAND_INS[which]
        return {name: base - step * index for index, name in enumerate(self._names)}

    def _compile(self, using: str, key: Hashable) -> tuple[QuerySet, _Statement]:
        built = []
        for which in (0, 1):
            queryset = self._build(key, **self._stand_ins(which))
            compiler = queryset.query.get_compiler(using=using)
            sql, params = compiler.as_sql()
            built.append((queryset, compiler, sql, tuple(params)))
        (queryset, compiler, sql, params), (_, _, other_sql, other_params) = built
        if sql != other_sql or len(params) != len(other_params):
            raise CompiledQueryError("the query's SQL changes with its values")
        first, second = self._stand_ins(0), self._stand_ins(1)
        positions: dict[str, list[int]] = {name: [] for name in self._names}
        for index, (one, two) in enumerate(zip(params, other_params, strict=True)):
            if one == two:
                continue
            name = next((n for n in self._names if one == first[n] and two == second[n]), None)
            if name is None:
                raise CompiledQueryError(f"the query's parameter {index} depends on something else")
            positions[name].append(index)
        if not all(positions.values()):
            raise CompiledQueryError("a value the query names is not in its parameters")
        return queryset, _Statement(compiler, sql, params, positions)

    def objects(self, *, key: Hashable = None, using: str = DEFAULT_DB_ALIAS, **values: int) -> list[Any]:
        """`list(build(key, **values))`, from the SQL compiled once for `key` in this thread."""
        if set(values) != set(self._names):
            raise TypeError(f"values {sorted(values)} given, {sorted(self._names)} expected")
        cache: dict[tuple[str, str, Hashable], tuple[QuerySet, _Statement]] = self._local.__dict__.setdefault(
            "cache", {}
        )
        cache_key = (using, connections[using].vendor, key)
        if cache_key not in cache:
            if len(cache) > 4:  # an old day's statement: at most a few keys are live at once
                cache.clear()
            cache[cache_key] = self._compile(using, key)
        template, statement = cache[cache_key]
        params = list(statement.params)
        for name, indexes in statement.positions.items():
            value = int(values[name])
            for index in indexes:
                params[index] = value
        compiler = copy.copy(statement.compiler)
        compiler.connection = connections[using]
        compiler.as_sql = lambda *args, **kwargs: (statement.sql, tuple(params))  # what execute_sql runs
        compiler.get_converters = _converters_once(statement)  # what results_iter asks
        queryset = template.using(using)  # a clone: the template stays as compiled
        # ModelIterable asks the query for its compiler: this one runs the compiled statement.
        queryset.query.get_compiler = lambda *args, **kwargs: compiler  # type: ignore[method-assign]
        return list(queryset)
