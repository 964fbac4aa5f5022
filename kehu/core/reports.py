"""The report query layer: counts and sums of a record type's visible records, grouped by fields
and by date buckets, with the same filters as its list.

    from django.db.models import Count, Sum
    from kehu.core.reports import Bucket, report

    rows = report(registry.get("opportunity"), request.user, request.GET,
                  group_by=["stage", Bucket("expected_close", "month")],
                  measures={"n": Count("id"), "total": Sum("amount")})
    # [{"stage": 3, "stage_label": "方案报价", "expected_close_month": date(2026, 11, 1),
    #   "expected_close_month_label": "2026-11", "n": 12, "total": Decimal("845000.00")}, ...]

- Rows are read through `list_queryset(rt, user, data)`: the user's data scope and the list's filter
  set (or `filterset=`, a subclass with more filters); invalid filters raise `InvalidFilters`.
- `Bucket(field, unit)`: day, week (ISO, from Monday), month, quarter or year. A date-time field is
  bucketed in the current time zone (the user's: a row at 23:30 UTC is the next day in Shanghai).
  A date field is grouped by its own values in SQL and bucketed in Python: no function per row.
- Sums are exact Decimals: PostgreSQL sums numeric; on SQLite, which stores decimals as floats,
  a Sum of a decimal expression is summed as whole cents (integers) and divided back. A sum or
  count of nothing is 0 (0.00), never None.
- A record type may declare pre-aggregated sources (`RecordType.rollups`, a list of `Rollup`): the
  first one that covers the grouping, the measures and the filters given answers instead of the
  rows (the pipeline's `PipelineTotal`, kept by triggers, kehu/sales/reports.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import django_filters.constants
from django.db import connection, models
from django.db.models import Aggregate, F, Sum, Value
from django.db.models.functions import Cast, Round, Trunc
from django.utils import timezone
from django.utils.translation import gettext as _

from .money import CENT

UNITS = ("day", "week", "month", "quarter", "year")


@dataclass(frozen=True)
class Bucket:
    """Group by the day, week, month, quarter or year of a date or date-time field."""

    field: str
    unit: str = "month"
    name: str = ""  # the row's key; default "<field>_<unit>"

    def __post_init__(self):
        if self.unit not in UNITS:
            raise ValueError(f"Bucket unit must be one of {UNITS}, not {self.unit!r}")

    @property
    def key(self) -> str:
        return self.name or f"{self.field}_{self.unit}"


def bucket_start(day: datetime.date, unit: str) -> datetime.date:
    """The first day of the bucket `day` lies in."""
    if unit == "day":
        return day
    if unit == "week":
        return day - datetime.timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def bucket_label(day: datetime.date | None, unit: str) -> str:
    if day is None:
        return _("No date")
    if unit == "day":
        return day.isoformat()
    if unit == "week":
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"
    if unit == "month":
        return f"{day:%Y-%m}"
    if unit == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


class Rollup:
    """A pre-aggregated source of a record type's reports (a table of running totals).

    `answer()` gives the rows (group keys and measures, unlabelled) when this source covers the
    request, None when it does not: the layer then aggregates the records themselves."""

    def answer(self, rt, user, filterset, groups: list, measures: dict) -> list[dict] | None:
        raise NotImplementedError


def active_filters(filterset) -> dict:
    """{filter name: cleaned value} of the filters a bound, valid filter set applies."""
    if filterset is None or not filterset.is_bound:
        return {}
    return {name: value for name, value in filterset.form.cleaned_data.items()
            if value not in django_filters.constants.EMPTY_VALUES}


def report(rt, user, data=None, *, group_by=(), measures: dict, filterset=None, labels: bool = True,
           rollups: bool = True) -> list[dict]:
    """Rows of `measures` (name → a Django aggregate: Count("id"), Sum("amount")...) per group of
    `group_by` (field names and `Bucket`s) over the records of `rt` that `user` may see, filtered
    by the list's filter set with `data`. Each row holds the group keys (a foreign key's id, a
    bucket's first day), `<key>_label` when `labels`, and the measures; sorted by the keys.
    `rollups=False` aggregates the records even when a pre-aggregated source covers the report."""
    from .filters import list_queryset

    groups = [g if isinstance(g, Bucket) else str(g) for g in group_by]
    fs, qs = list_queryset(rt, user, data, filterset=filterset)
    rows = None
    if rollups:
        for rollup in getattr(rt, "rollups", None) or ():
            rows = rollup.answer(rt, user, fs, groups, measures)
            if rows is not None:
                break
    if rows is None:
        rows = aggregate(qs, groups, measures)
    rows.sort(key=lambda row: tuple(_sort_key(row[_key(g)]) for g in groups))
    if labels:
        add_labels(rt.model, groups, rows)
    return rows


def _key(group) -> str:
    return group.key if isinstance(group, Bucket) else group


def _sort_key(value):
    return (value is None, value if value is not None else 0)


def _field(model, name: str):
    """The model field at the end of a lookup path ("stage", "customer__industry")."""
    *path, last = name.split("__")
    for part in path:
        model = model._meta.get_field(part).related_model
    return model._meta.get_field(last)


def _is_decimal(measure, model) -> bool:
    try:
        output = measure.copy().resolve_expression(model._default_manager.all().query).output_field
    except Exception:
        return False
    return isinstance(output, models.DecimalField)


def exact_sum(measure, model):
    """On SQLite, a Sum of a decimal expression as whole cents (an integer sum, exact) and the
    divisor to apply afterwards; elsewhere the measure itself. SQLite keeps decimals as floats:
    summing a million of them drifts."""
    if connection.vendor != "sqlite" or not isinstance(measure, Sum) or not _is_decimal(measure, model):
        return measure, None
    expression = measure.get_source_expressions()[0]
    cents = Cast(Round(expression * Value(100)), models.BigIntegerField())
    return Sum(cents, filter=measure.filter), Decimal(100)


def aggregate(qs, groups: list, measures: dict) -> list[dict]:
    """The measures per group, from the records of `qs` (a visible, filtered queryset)."""
    model = qs.model
    tz = timezone.get_current_timezone()
    values: list[str] = []
    annotations: dict = {}
    python_buckets: list[tuple[str, str, str]] = []  # (row key, SQL column, unit): date fields
    for group in groups:
        if isinstance(group, Bucket):
            field = _field(model, group.field)
            if isinstance(field, models.DateTimeField):
                annotations[group.key] = Trunc(group.field, group.unit, output_field=models.DateTimeField(),
                                               tzinfo=tz)
                values.append(group.key)
            elif isinstance(field, models.DateField):
                column = f"_{group.key}"
                annotations[column] = F(group.field)
                values.append(column)
                python_buckets.append((group.key, column, group.unit))
            else:
                raise ValueError(f"{group.field} is not a date or date-time field")
        else:
            values.append(group)
    divisors = {}
    aggregates = {}
    for name, measure in measures.items():
        if not isinstance(measure, Aggregate):
            raise TypeError(f"Measure {name!r} must be an aggregate (Count, Sum, ...)")
        aggregates[name], divisors[name] = exact_sum(measure, model)
    base = qs.select_related(None).prefetch_related(None).order_by()
    if annotations:
        base = base.annotate(**annotations)
    rows = list(base.values(*values).annotate(**aggregates)) if values else [base.aggregate(**aggregates)]
    zeros = {name: Decimal("0.00") if _is_decimal(m, model) else 0 for name, m in measures.items()
             if isinstance(m, (Sum, models.Count))}
    for row in rows:
        for name, divisor in divisors.items():
            if divisor is not None and row[name] is not None:
                row[name] = (Decimal(row[name]) / divisor).quantize(CENT)
        for name, zero in zeros.items():  # a count or sum of nothing is 0, as the running totals say
            if row[name] is None:
                row[name] = zero
        for group in groups:
            if isinstance(group, Bucket) and group.key in row and isinstance(row[group.key], datetime.datetime):
                moment = row[group.key]
                row[group.key] = (timezone.localtime(moment, tz) if timezone.is_aware(moment) else moment).date()
    if python_buckets:
        rows = merge_rows([_bucketed(row, python_buckets) for row in rows], [_key(g) for g in groups], measures)
    return rows


def _bucketed(row: dict, buckets) -> dict:
    row = dict(row)
    for key, column, unit in buckets:
        day = row.pop(column)
        row[key] = bucket_start(day, unit) if day is not None else None
    return row


def merge_rows(rows, keys: list[str], measures) -> list[dict]:
    """Rows with the same keys summed into one (None counts as nothing)."""
    merged: dict = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        line = merged.get(key)
        if line is None:
            merged[key] = dict(row)
            continue
        for name in measures:
            a, b = line.get(name), row.get(name)
            line[name] = b if a is None else a if b is None else a + b
    return list(merged.values())


def add_labels(model, groups: list, rows: list[dict]) -> None:
    """`<key>_label` of every group key: a related record's name (one query per related model, the
    dictionary and users from memory), a choice's label, a bucket's name (2026-11, 2026-Q4)."""
    from . import dictionary
    from .models import DictItem

    for group in groups:
        key = _key(group)
        label = f"{key}_label"
        if isinstance(group, Bucket):
            for row in rows:
                row[label] = bucket_label(row[key], group.unit)
            continue
        field = _field(model, group)
        none = _("None")
        if field.is_relation and field.related_model is not None:
            ids = {row[key] for row in rows if row[key] is not None}
            if field.related_model is DictItem:
                items = dictionary.items_by_id()
                names = {pk: str(items[pk]) for pk in ids if pk in items}
            else:
                names = {pk: str(obj) for pk, obj in field.related_model._default_manager.in_bulk(ids).items()}
            for row in rows:
                row[label] = none if row[key] is None else names.get(row[key], str(row[key]))
        elif field.choices:
            choices = {k: str(v) for k, v in field.flatchoices}
            for row in rows:
                row[label] = none if row[key] in (None, "") else choices.get(row[key], str(row[key]))
        elif isinstance(field, models.BooleanField):
            for row in rows:
                row[label] = none if row[key] is None else _("Yes") if row[key] else _("No")
        else:
            for row in rows:
                row[label] = none if row[key] is None else str(row[key])
