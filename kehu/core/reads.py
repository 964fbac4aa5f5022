"""One record read by id through the caller's data scope, its SQL compiled once and run again.

An API read, edit or create reads its record through `visible(user)` by id, once or twice a
request (kehu/core/api.py `visible_or_none`). Django built and compiled that query every time:
the scope's conditions, the tag names' subquery, fifty columns quoted one by one, about 0.6 ms of
a 2.3 ms record read at 1M customers. The query depends only on the record type, what the data
scope's SQL depends on (`RecordType.scope_key`, the contract the list API's compiled pages keep
too: kehu/core/pagination.py), whether it is locked and whether its tag names come with it. It is
compiled once per connection with the id as a parameter slot, and each read runs that SQL with its
id and builds the instance as Django's ModelIterable does (the columns' converters, the related
objects joined, the annotations).

Not reused: a scope whose SQL holds the rows it lists (a rep's tickets: the key says so), a query
with prefetches (they run after the rows), another database than the default one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

from .pagination import CursorParam, Slot, column_converters, compiled_query, convert_rows, keep_compiled

EMPTY = object()  # a scope that sees nothing: no SQL to run


@dataclass
class _Read:
    sql: str
    params: tuple
    converters: list
    model: type
    init_list: list
    start: int
    end: int
    populators: list
    annotations: dict
    pk_field: object


def read_one(rt, user, pk: int, *, tags: bool = False, lock: bool = False):
    """The record `pk` of `rt` if `user` sees it, else None. `tags`: with its tag names
    (`tag_names`, PostgreSQL). `lock`: its row locked FOR UPDATE OF its own table (call inside a
    transaction)."""
    connection = connections[DEFAULT_DB_ALIAS]
    scope = rt.scope_key(user)
    key = None if scope[0] == "listed" else ("read", rt.key, scope, tags, lock)
    compiled = compiled_query(connection, key)
    if compiled is None:
        qs = _queryset(rt, user, tags, lock)
        if key is None or qs._prefetch_related_lookups or getattr(qs.query, "scope_branches", None) \
                or qs.db != DEFAULT_DB_ALIAS:
            return qs.filter(pk=pk).first()
        compiled = _compile(qs, connection)
        keep_compiled(connection, key, compiled)
    if compiled is EMPTY:
        return None
    if lock and connection.get_autocommit():
        raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
    low, high = connection.ops.integer_field_range(compiled.pk_field.get_internal_type())
    if (low is not None and pk < low) or (high is not None and pk > high):
        return None  # no such row (Django's lookup says so too; the database would refuse the number)
    value = compiled.pk_field.get_db_prep_value(pk, connection=connection)
    params = tuple(value if isinstance(p, Slot) else p for p in compiled.params)
    with _cursor(connection) as cursor:
        cursor.execute(compiled.sql, params)
        rows = cursor.fetchall()
    for row in convert_rows(compiled.converters, rows, connection):
        obj = compiled.model.from_db(DEFAULT_DB_ALIAS, compiled.init_list, row[compiled.start:compiled.end])
        for populator in compiled.populators:
            populator.populate(row, obj)
        for name, position in compiled.annotations.items():
            setattr(obj, name, row[position])
        return obj
    return None


def _cursor(connection):
    """A cursor of `connection` (Django's wrapper: logged, timed, its execute wrappers applied). On
    PostgreSQL one that runs its statement as a prepared statement of the connection: the same SQL
    a hundred times a minute was planned each time, 0.4 of its 0.45 ms on the server at 1M
    customers (pg_stat_statements; a primary-key read plans the same whatever its values)."""
    if connection.vendor != "postgresql" or not settings.KEHU_PREPARED_READS:
        return connection.cursor()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's prepared statements off (for poolers); a threshold no statement
        # reaches keeps every other query unprepared and lets `prepare=True` prepare this one
        raw.prepare_threshold = NEVER_BY_COUNT
    return connection._prepare_cursor(_prepared_cursor_class()(raw))


NEVER_BY_COUNT = 2**31 - 1


@functools.cache
def _prepared_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        """Server-side parameters, prepared on the first run (psycopg keeps it per connection)."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            result = super().execute(query, params, prepare=True, binary=binary)
            # what Django's query log reads (`last_executed_query`: `_query.query`), which
            # psycopg leaves empty after a prepared statement: the SQL with its values, when read
            self._query = _ShownQuery(self.connection, query, params)
            return result

    return PreparedCursor


class _ShownQuery:
    __slots__ = ("_connection", "_sql", "_params")

    def __init__(self, connection, sql, params):
        self._connection, self._sql, self._params = connection, sql, params

    @property
    def query(self) -> bytes:
        import psycopg

        return psycopg.ClientCursor(self._connection).mogrify(self._sql, self._params).encode()


def _queryset(rt, user, tags: bool, lock: bool):
    from .api import tag_names_subquery

    qs = rt.visible(user)
    if lock:
        qs = qs.select_for_update(of=("self",))
    if tags:
        qs = qs.annotate(tag_names=tag_names_subquery(rt.model))
    return qs


def _compile(qs, connection):
    pk_field = qs.model._meta.pk
    query = qs.filter(pk=CursorParam("pk", pk_field))[:1].query
    compiler = query.get_compiler(using=DEFAULT_DB_ALIAS)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return EMPTY
    select, klass_info = compiler.select, compiler.klass_info
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    return _Read(sql=sql, params=tuple(params), converters=column_converters(compiler), model=klass_info["model"],
                 init_list=[column[0].target.attname for column in select[start:end]], start=start, end=end,
                 populators=get_related_populators(klass_info, select, DEFAULT_DB_ALIAS),
                 annotations=dict(compiler.annotation_col_map or {}), pk_field=pk_field)
