"""Keyset (cursor) pagination: constant cost at any depth, no COUNT(*) of the whole table.

Sorting is allowed only on indexed fields; the primary key breaks ties so the order is total.
A cursor is an opaque, URL-safe token holding the last row's sort value and id.
"""

from __future__ import annotations

import base64
import datetime
import json
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Expression, F, Q, Value
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan, TupleLookupMixin
from django.db.models.lookups import GreaterThan, IsNull, LessThan
from django.db.models.sql.where import WhereNode

from .filters import IdList


class InvalidCursor(ValueError):
    pass


def _encode_value(value):
    if isinstance(value, datetime.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    return value


def _decode_value(value):
    if isinstance(value, dict):
        if "dt" in value:
            return datetime.datetime.fromisoformat(value["dt"])
        if "d" in value:
            return datetime.date.fromisoformat(value["d"])
        if "dec" in value:
            return Decimal(value["dec"])
    return value


def encode_cursor(sort: str, value, pk: int, direction: str) -> str:
    raw = json.dumps({"s": sort, "v": _encode_value(value), "id": pk, "d": direction}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> dict:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        data["v"] = _decode_value(data["v"])
        int(data["id"])
        if data["d"] not in ("next", "prev"):
            raise ValueError
        return data
    except Exception as exc:
        raise InvalidCursor("invalid cursor") from exc


@dataclass
class Page:
    items: list
    next_cursor: str | None
    prev_cursor: str | None
    sort: str

    @property
    def has_next(self):
        return self.next_cursor is not None

    @property
    def has_prev(self):
        return self.prev_cursor is not None


def parse_sort(sort: str | None, allowed: list[str], default: str) -> str:
    sort = sort or default
    if sort.lstrip("-") not in allowed:
        sort = default
    return sort


def paginate(queryset, *, sort: str, cursor: str | None, size: int, values: list[str] | None = None,
             reuse=None, slots: dict | None = None) -> Page:
    """One page by keyset. With `values`, rows are dicts of those columns (plus the sort key and
    "id") instead of model instances: the API list builds no objects.

    With `values`, `queryset` may also be a function that builds the queryset. `reuse` is then a
    key naming everything the queryset's SQL depends on besides the page: the record type and the
    user's data scope, for instance. The function is called only the first time this database
    connection sees the key with this sort, size and kind of cursor; later pages run the same compiled SQL with
    the new cursor's values. Building and compiling a Django query cost about half of a list API
    request (docs/benchmarks.md). `slots` ({name: (value, model field)}): the values of the
    queryset's other parameters (CursorParam: a filter's value, kehu.core.filters.prepare_reuse),
    filled in like the cursor's."""
    field = sort.lstrip("-")
    desc = sort.startswith("-")
    direction, data = "next", None
    if cursor:
        data = decode_cursor(cursor)
        if data["s"] != sort:
            raise InvalidCursor("cursor belongs to another sort order")
        direction = data["d"]
    # Going backwards, walk the reversed order and flip the result.
    forward_desc = desc if direction == "next" else not desc
    if values is not None:
        rows = _value_rows(queryset, reuse, field, forward_desc, data, size, values, slots or {})
    else:
        rows = _instance_rows(queryset, field, forward_desc, data, size)
    more = len(rows) > size
    rows = rows[:size]
    if direction == "prev":
        rows.reverse()
    if not rows:
        return Page([], None, None, sort)

    def token(obj, d):
        if values is not None:
            return encode_cursor(sort, obj[field], obj["id"], d)
        return encode_cursor(sort, getattr(obj, field) if field != "id" else obj.pk, obj.pk, d)

    if direction == "next":
        next_cursor = token(rows[-1], "next") if more else None
        prev_cursor = token(rows[0], "prev") if cursor else None
    else:
        next_cursor = token(rows[-1], "next")
        prev_cursor = token(rows[0], "prev") if more else None
    return Page(rows, next_cursor, prev_cursor, sort)


def _instance_rows(queryset, field: str, forward_desc: bool, data, size: int) -> list:
    """The page as model instances. The page's ids are found by a query on the list's own table
    (and only the joins its filters need); the rows with their select_related joins and
    prefetches are then loaded by id. With the joins in the page query, SQLite planned a
    supervisor's list users-first and sorted every customer of the department (772-802 ms at 1M
    rows; customer-first: 0.5 ms)."""
    bare = queryset.select_related(None).prefetch_related(None)
    if field == "id":  # another order's ids are read first below anyway
        bare = _narrowed(bare, field, forward_desc, data, size)
        if bare is None:
            return []
    ids = _page_ids(bare, field, forward_desc, data, size)
    if not ids:
        return []
    by_id = _loader(queryset).in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


def _page_ids(qs, field: str, forward_desc: bool, data, size: int) -> list:
    """The ids of the page after the cursor (up to size + 1), read segment by segment in the walk's order."""
    ids: list = []
    for condition in _segments(qs, field, forward_desc, data,
                               lambda name, model_field: Value(data[name], output_field=model_field)):
        segment = qs if condition is None else qs.filter(condition)
        ids += list(_ordered(segment, field, forward_desc).values_list("pk", flat=True)[: size + 1 - len(ids)])
        if len(ids) > size:
            break
    return ids


def _narrowed(qs, field: str, forward_desc: bool, data, size: int):
    """`qs`, or for a page of a single user's scope over several paths that is tested row by row
    (`scope_branches`, kehu.accounts.scope._listed_or_rowwise) `qs` narrowed to the ids that can
    make the page, read first; None when there are none. Walking the table's order testing the
    paths on each row read ~12,000 rows for a rep's tickets (7,000 of 1.5M, PostgreSQL):

    - in id order, each path's first size + 1 rows after the cursor, read from the path's (column,
      id) index in one UNION ALL: the page is among them, since each of its rows is among the first
      of its own path (a rep's tickets of low priority: 12-19 ms walked, 0.5 ms by path). The
      filters that the path's index holds are tested in it (`scope.tested_in_index`);
    - in another order, the page's ids alone, which the order's index answers without the table
      when it holds the paths' columns (`INCLUDE`, ticket_created_idx: 15 → 1.2 ms). Per path,
      each would read and sort all its rows (35 ms)."""
    branches = getattr(qs.query, "scope_branches", None)
    if not branches:
        return qs
    from kehu.accounts.scope import filters_hold_a_path, tested_in_index, without_rowwise_scope

    if field == "id":
        if filters_hold_a_path(qs, branches):
            # "mine" beside a scope of several paths: the filter is the scope, read down its
            # (column, id) index. (In another order the page's ids below stay cheaper: the order's
            # index holds the paths' columns, so the page is read without the table.)
            return without_rowwise_scope(qs)
        (condition,) = _segments(qs, field, forward_desc, data,
                                 lambda name, model_field: Value(data[name], output_field=model_field))
        bare = without_rowwise_scope(qs)
        ordered = _ordered(bare if condition is None else bare.filter(condition), field, forward_desc)
        parts = [tested_in_index(ordered.filter(branch), held).values_list("pk", flat=True)[: size + 1]
                 for branch, held in branches]
        ids = set(parts[0].union(*parts[1:], all=True))
    else:
        ids = _page_ids(qs, field, forward_desc, data, size)
    if not ids:
        return None
    # The page's rows by those ids alone (`unconditioned`). Kept beside the ids, the conditions
    # were planned again with them: a rep's tickets searched for a phone fragment (1,631 found, 49
    # in the rep's scope) were estimated at one row, and PostgreSQL walked every ticket of the
    # created-at index testing the two id lists and the scope's OR (472 ms at 1.5M tickets; by the
    # ids alone 0.1 ms)
    return unconditioned(qs).filter(pk__in=IdList(sorted(ids)))


def unconditioned(qs):
    """A copy of `qs` without its WHERE, for rows chosen by id under it; `qs` itself when a join its
    conditions made could repeat a row without them (a reverse or many-to-many relation: a filter
    on a tag). Joins along a foreign key keep one row per row, and the ids' rows met them already."""
    query = qs.query
    for join in query.alias_map.values():
        field = getattr(join, "join_field", None)
        if field is not None and not (field.many_to_one or field.one_to_one):
            return qs
    unconditioned = qs.all()
    unconditioned.query.where = WhereNode()
    return unconditioned


def _loader(queryset):
    """The queryset that loads the page's rows by id: its joins, prefetches and deferred fields,
    without its conditions, which the ids already met. The data scope of a ticket (owner, handler
    or customer's owner) is a union of three index reads: loading the rows, it was evaluated a
    second time (7 ms for a rep at 1.5M tickets). A queryset with annotations or extra SQL, which
    may depend on its joins, is kept whole."""
    query = queryset.query
    if query.annotations or query.extra or query.distinct:
        return queryset.order_by()
    loader = queryset.model._base_manager.db_manager(queryset.db).order_by()
    loader.query.select_related = query.select_related
    loader.query.deferred_loading = query.deferred_loading
    return loader.prefetch_related(*queryset._prefetch_related_lookups)


def _ordered(qs, field: str, forward_desc: bool):
    prefix = "-" if forward_desc else ""
    return qs.order_by(f"{prefix}{field}", *([f"{prefix}pk"] if field != "id" else []))


class RowAfter(TupleGreaterThan):
    """`(a, b) > (x, y)` written as a row-value comparison on every database (SQLite has row
    values since 3.15; Django's own tuple lookups expand them there into `a > x OR (a = x AND
    b > y)`, which no index can be entered with). The planner seeks the index on (a, b) to the
    cursor and reads on: at 100,000 rows deep 1.3 ms instead of 1,022 ms (docs/benchmarks.md)."""

    def as_sql(self, compiler, connection):
        return super(TupleLookupMixin, self).as_sql(compiler, connection)


class RowBefore(TupleLessThan):
    """`(a, b) < (x, y)`, as RowAfter."""

    def as_sql(self, compiler, connection):
        return super(TupleLookupMixin, self).as_sql(compiler, connection)


def _segments(qs, field: str, forward_desc: bool, data: dict | None, param) -> list:
    """The conditions whose rows, each read in the walk's order and one after the other, make the
    rows after the cursor: `[None]` (everything) without a cursor. `param(name, model_field)` makes
    the expression that stands for data[name]: a Value, or a CursorParam in a query compiled for
    reuse.

    Every segment can be entered through the index on (field, id): the first is a row
    comparison `(field, id) > (v, n)` (or `<` walking down). NULLs sort where the database puts
    them (largest on PostgreSQL, smallest on SQLite), so its index serves the walk; a row
    comparison never matches NULL, so a nullable field gets a second segment: past the last value
    the walk continues with the NULLs (`field IS NULL`, by id), and a cursor among the NULLs
    continues among them (`field IS NULL AND id > n`), then with the values (`field IS NOT
    NULL`) when the NULLs come first. One `OR` of these would make the planner read the index from
    its start."""
    if data is None:
        return [None]
    pk_field = qs.model._meta.pk
    after = LessThan if forward_desc else GreaterThan
    pk_after = Q(after(F("pk"), param("id", pk_field)))
    if field == "id":
        return [pk_after]
    model_field = qs.model._meta.get_field(field)
    nulls_first_in_walk = connections[qs.db].features.nulls_order_largest == forward_desc
    if data["v"] is None:
        segments = [Q(IsNull(F(field), True)) & pk_after]
        if nulls_first_in_walk:
            segments.append(Q(IsNull(F(field), False)))
        return segments
    row = RowBefore if forward_desc else RowAfter
    segments = [Q(row(Tuple(F(field), F("pk")), (param("v", model_field), param("id", pk_field))))]
    if model_field.null and not nulls_first_in_walk:
        segments.append(Q(IsNull(F(field), True)))
    return segments


class Slot:
    """A parameter of a compiled query that each run fills in: a page query's cursor and filter values
    (kehu/core/pagination.py), a record read's id (kehu/core/reads.py)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


class CursorParam(Expression):
    """The cursor's sort value or id in a page query, compiled as a bare parameter so the SQL can
    be reused for every cursor of the same shape."""

    def __init__(self, name: str, output_field):
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        return "%s", [Slot(self.name)]


@dataclass
class _Compiled:
    sql: str
    params: tuple
    converters: list  # (column, (converters, expression)): from_db_value of each column that has any
    names: list
    fields: dict  # slot name -> model field, to adapt the cursor's values for the database
    by_id_desc: bool | None = None  # rows come unordered (ids first): sorted by id here, descending if True


def column_converters(compiler) -> list:
    """The converters SQLCompiler.results_iter applies to a row of this compiled query, kept
    without the compiler: a compiled query then holds its SQL and these, not Django's whole query
    (~50 KB each; a worker keeps REUSE_LIMIT of them)."""
    return list(compiler.get_converters([s[0] for s in compiler.select[0:compiler.col_count]]).items())


def convert_rows(converters: list, rows, connection) -> list:
    """Rows (tuples) as lists with the column converters applied (SQLCompiler.apply_converters)."""
    if not converters:
        return rows
    out = []
    for row in rows:
        row = list(row)
        for pos, (convs, expression) in converters:
            value = row[pos]
            for converter in convs:
                value = converter(value, expression, connection)
            row[pos] = value
        out.append(row)
    return out


REUSE_LIMIT = 1024  # compiled queries kept per database connection (a few MB: column_converters)


def compiled_query(connection, key):
    """A query compiled on this connection under `key` (None if not, or `key` is None), now the
    most recently used. Page queries (below) and record reads (kehu/core/reads.py) share the store."""
    if key is None:
        return None
    store = connection.__dict__.setdefault("_kehu_page_queries", OrderedDict())
    compiled = store.get(key)
    if compiled is not None:
        store.move_to_end(key)
    return compiled


def keep_compiled(connection, key, compiled) -> None:
    """Keep `compiled` under `key` on this connection, forgetting the least recently used past
    REUSE_LIMIT."""
    store = connection.__dict__.setdefault("_kehu_page_queries", OrderedDict())
    store[key] = compiled
    if len(store) > REUSE_LIMIT:
        store.popitem(last=False)


def _value_rows(queryset, reuse, field, forward_desc, data, size, values, slots):
    connection = connections[DEFAULT_DB_ALIAS]
    filled = {**(data or {}), **{name: value for name, (value, _field) in slots.items()}}
    key = None
    if reuse is not None:
        shape = None if data is None else data["v"] is None
        key = (reuse, field, forward_desc, shape, size, tuple(values))
        compiled = compiled_query(connection, key)
        if compiled is not None:
            return _run_segments(connection, compiled, filled, size)
    qs = queryset() if callable(queryset) else queryset
    if qs.db != DEFAULT_DB_ALIAS:
        connection, key = connections[qs.db], None
    if getattr(qs.query, "scope_branches", None):
        qs, key = _narrowed(qs, field, forward_desc, data, size), None  # ids of this request in the SQL
        if qs is None:
            return []
    compiled = []
    ids_first = field == "id" and connection.vendor == "postgresql"
    for condition in _segments(qs, field, forward_desc, data, CursorParam):
        segment = qs if condition is None else qs.filter(condition)
        if ids_first:
            # PostgreSQL: the page's ids first, then their rows (one statement; sorted here, as
            # the ids came). A filtered page newest first was planned as a walk down the primary
            # key testing each row, which the planner prices as if matches were spread evenly: a
            # type the newest customers rarely have tested 17,000 rows (24 ms at 1M). The ids alone
            # are read from the filter's (column, id) index with the scope's owner beside the key
            # (cust_type_id_idx: 0.1 ms), the rows then by id.
            # The rows by the page's ids alone: with the list's conditions again beside them, a
            # number prefix's 4,936 payment ids were planned (4.3 ms) and read (3 ms) a second time
            page = _ordered(segment, field, forward_desc).values("pk")[: size + 1]
            segment = unconditioned(qs).filter(pk__in=page).order_by().values(*dict.fromkeys([*values, "id", field]))
        else:
            segment = _ordered(segment, field, forward_desc).values(*dict.fromkeys([*values, "id", field]))[: size + 1]
        query = segment.query
        compiler = query.get_compiler(using=segment.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            continue
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        named = {p.name for p in params if isinstance(p, Slot)}
        fields = {**_cursor_fields(qs, field), **{name: f for name, (_value, f) in slots.items()}}
        compiled.append(_Compiled(sql, tuple(params), column_converters(compiler), names,
                                  {name: f for name, f in fields.items() if name in named},
                                  forward_desc if ids_first else None))
    if key is not None:
        keep_compiled(connection, key, compiled)
    return _run_segments(connection, compiled, filled, size)


def _cursor_fields(qs, field: str) -> dict:
    pk_field = qs.model._meta.pk
    return {"v": pk_field if field == "id" else qs.model._meta.get_field(field), "id": pk_field}


def _run_segments(connection, compiled: list, data, size: int) -> list[dict]:
    rows: list[dict] = []
    for segment in compiled:
        rows += _run(connection, segment, data)[: size + 1 - len(rows)]
        if len(rows) > size:
            break
    return rows


def _run(connection, compiled: _Compiled, data) -> list[dict]:
    params = compiled.params
    if compiled.fields:
        adapted = {name: f.get_db_prep_value(data[name], connection=connection) for name, f in compiled.fields.items()}
        params = tuple(adapted[p.name] if isinstance(p, Slot) else p for p in params)
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        rows = cursor.fetchall()
    names = compiled.names
    rows = [dict(zip(names, row, strict=False)) for row in convert_rows(compiled.converters, rows, connection)]
    if compiled.by_id_desc is not None:
        rows.sort(key=itemgetter("id"), reverse=compiled.by_id_desc)
    return rows
