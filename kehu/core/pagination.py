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

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Expression, F, Q, Value
from django.db.models.lookups import Exact, GreaterThan, IsNull, LessThan


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
             reuse=None) -> Page:
    """One page by keyset. With `values`, rows are dicts of those columns (plus the sort key and
    "id") instead of model instances: the API list builds no objects.

    With `values`, `queryset` may also be a function that builds the queryset. `reuse` is then a
    key naming everything the queryset's SQL depends on besides the page: the record type and the
    user's data scope, for instance. The function is called only the first time this database
    connection sees the key with this sort, size and kind of cursor; later pages run the same compiled SQL with
    the new cursor's values. Building and compiling a Django query cost about half of a list API
    request (docs/benchmarks.md)."""
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
        rows = _value_rows(queryset, reuse, field, forward_desc, data, size, values)
    else:
        qs = queryset
        if data is not None:
            qs, _fields = _after(qs, field, forward_desc, data,
                                 lambda name, model_field: Value(data[name], output_field=model_field))
        rows = list(_ordered(qs, field, forward_desc)[: size + 1])
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


def _ordered(qs, field: str, forward_desc: bool):
    prefix = "-" if forward_desc else ""
    return qs.order_by(f"{prefix}{field}", *([f"{prefix}pk"] if field != "id" else []))


def _after(qs, field: str, forward_desc: bool, data: dict, param):
    """`qs` narrowed to the rows after the cursor's (value, id) in the walk's order, and the model
    fields of the cursor's "v" and "id". `param(name, model_field)` makes the expression that
    stands for data[name]: a Value, or a CursorParam in a query compiled for reuse.

    NULLs sort where the database puts them (largest on PostgreSQL, smallest on SQLite), so its
    index on the field serves the walk; a NULL-valued cursor continues among the NULLs, then past
    them."""
    pk_field = qs.model._meta.pk
    model_field = pk_field if field == "id" else qs.model._meta.get_field(field)
    fields = {"v": model_field, "id": pk_field}
    after = LessThan if forward_desc else GreaterThan
    pk_after = Q(after(F("pk"), param("id", pk_field)))
    if field == "id":
        return qs.filter(pk_after), fields
    nulls_first_in_walk = connections[qs.db].features.nulls_order_largest == forward_desc
    if data["v"] is None:
        condition = Q(IsNull(F(field), True)) & pk_after
        if nulls_first_in_walk:
            condition |= Q(IsNull(F(field), False))
        return qs.filter(condition), fields
    value = param("v", model_field)
    condition = Q(after(F(field), value)) | (Q(Exact(F(field), value)) & pk_after)
    if model_field.null and not nulls_first_in_walk:
        condition |= Q(IsNull(F(field), True))
    return qs.filter(condition), fields


class _Slot:
    """A parameter of a compiled page query that the cursor fills in."""

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
        return "%s", [_Slot(self.name)]


@dataclass
class _Compiled:
    sql: str
    params: tuple
    compiler: object
    names: list
    fields: dict  # slot name -> model field, to adapt the cursor's values for the database


REUSE_LIMIT = 256  # compiled page queries kept per database connection


def _value_rows(queryset, reuse, field, forward_desc, data, size, values):
    connection = connections[DEFAULT_DB_ALIAS]
    key = None
    if reuse is not None:
        shape = None if data is None else data["v"] is None
        key = (reuse, field, forward_desc, shape, size, tuple(values))
        store = connection.__dict__.setdefault("_kehu_page_queries", OrderedDict())
        compiled = store.get(key)
        if compiled is not None:
            store.move_to_end(key)
            return _run(connection, compiled, data)
    qs = queryset() if callable(queryset) else queryset
    if qs.db != DEFAULT_DB_ALIAS:
        connection, key = connections[qs.db], None
    fields = {}
    if data is not None:
        qs, fields = _after(qs, field, forward_desc, data, CursorParam)
    qs = _ordered(qs, field, forward_desc).values(*dict.fromkeys([*values, "id", field]))[: size + 1]
    query = qs.query
    compiler = query.get_compiler(using=qs.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return []
    names = [*query.extra_select, *query.values_select, *query.annotation_select]
    compiled = _Compiled(sql, tuple(params), compiler, names, fields)
    if key is not None:
        store[key] = compiled
        if len(store) > REUSE_LIMIT:
            store.popitem(last=False)
    return _run(connection, compiled, data)


def _run(connection, compiled: _Compiled, data) -> list[dict]:
    params = compiled.params
    if compiled.fields:
        adapted = {name: f.get_db_prep_value(data[name], connection=connection) for name, f in compiled.fields.items()}
        params = tuple(adapted[p.name] if isinstance(p, _Slot) else p for p in params)
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        rows = cursor.fetchall()
    names = compiled.names
    return [dict(zip(names, row, strict=False)) for row in compiled.compiler.results_iter(results=[rows])]
