"""ORM queries compiled once per IN-list length, for the selectors on the recommendation path.

Compiling a queryset to SQL costs Django 0.2-0.3 ms (resolving lookups, joins and the select
list): several times what SQLite or PostgreSQL then take to answer a lookup of 9 ids by primary
or unique key, and a recommendation request makes two such reads (the rated paintings, the
recommended ones). ``InListQuery`` compiles the ORM query once per (database, number of
values), with placeholder values, and runs that SQL with the request's values. The SQL is still
the ORM's (joins, quoting, the backend's dialect); only its compilation is kept.

Only for queries whose sole parameters are the IN list (checked when compiled: one parameter per
value) and whose columns need no converter (integers and text; tests compare the rows with the
ORM's on both databases). Values are de-duplicated and ``None`` dropped, as Django's ``In`` does;
their order within IN does not matter. Lists longer than ``MAX_COMPILED`` values are read
through the ORM as usual (the backend may split them; nothing long is kept).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet

#: lists longer than this are compiled per call (the ORM's own path)
MAX_COMPILED = 512


class InListQuery:
    """``build(values)`` -> a ``values_list`` queryset of ``model`` filtered by
    ``<key>__in=values`` only; ``prepare`` -> a value as the key field stores it (``int``,
    ``str``: what its ``get_prep_value`` would make of it, and the i-th placeholder of ``i``)."""

    def __init__(
        self, model: type[Model], build: Callable[[list[Any]], QuerySet], prepare: Callable[[Any], Any]
    ) -> None:
        self._model = model
        self._build = build
        self._prepare = prepare
        self._sql: dict[tuple[str, int], str] = {}

    def rows(self, values: Iterable[Any]) -> Sequence[tuple[Any, ...]]:
        """The rows of ``build(values)``, as its ``values_list`` gives them (in any order)."""
        distinct = list(dict.fromkeys(self._prepare(value) for value in values if value is not None))
        if not distinct:
            return []
        if len(distinct) > MAX_COMPILED:
            return list(self._build(distinct))
        alias = router.db_for_read(self._model)
        key = (alias, len(distinct))
        sql = self._sql.get(key)
        if sql is None:
            sql = self._compile(alias, len(distinct))
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, distinct)
            return cursor.fetchall()

    def _compile(self, alias: str, size: int) -> str:
        placeholders = [self._prepare(i) for i in range(size)]
        sql, params = self._build(placeholders).using(alias).query.get_compiler(using=alias).as_sql()
        if len(params) != size or set(params) != set(placeholders):
            raise ValueError(f"{sql!r}: its parameters are not just the IN list ({len(params)} for {size})")
        self._sql[(alias, size)] = sql  # a race compiles the same SQL twice, harmlessly
        return sql
