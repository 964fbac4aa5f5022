"""Keyset (cursor) pagination: constant cost at any depth, no COUNT(*) of the whole table.

Sorting is allowed only on indexed fields; the primary key breaks ties so the order is total.
A cursor is an opaque, URL-safe token holding the last row's sort value and id.
"""

from __future__ import annotations

import base64
import datetime
import json
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q


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


def paginate(queryset, *, sort: str, cursor: str | None, size: int, values: list[str] | None = None) -> Page:
    """One page by keyset. With `values`, rows are dicts of those columns (plus the sort key and
    "id") instead of model instances: the API list builds no objects."""
    field = sort.lstrip("-")
    desc = sort.startswith("-")
    direction = "next"
    if cursor:
        data = decode_cursor(cursor)
        if data["s"] != sort:
            raise InvalidCursor("cursor belongs to another sort order")
        direction = data["d"]
        value, pk = data["v"], data["id"]
        # Going backwards, walk the reversed order and flip the result.
        forward_desc = desc if direction == "next" else not desc
        op = "lt" if forward_desc else "gt"
        if field == "id":
            queryset = queryset.filter(**{f"pk__{op}": pk})
        else:
            queryset = queryset.filter(Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"pk__{op}": pk}))
    else:
        forward_desc = desc
    prefix = "-" if forward_desc else ""
    order = [f"{prefix}{field}"] + ([f"{prefix}pk"] if field != "id" else [])
    queryset = queryset.order_by(*order)
    if values is not None:
        queryset = queryset.values(*dict.fromkeys([*values, "id", field]))
    rows = list(queryset[: size + 1])
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
