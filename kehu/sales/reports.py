"""The pipeline's reports: the board's column totals and the forecast go through the report layer
(kehu/core/reports.py), which answers them from the running totals (`PipelineTotal`, kept by
triggers: kehu/sales/totals.py) when they cover the request, and from the opportunities otherwise.

    rows = pipeline_report(user, ["stage"], owner=some_user)                     # the board
    rows = pipeline_report(user, ["stage", Bucket("expected_close", "month", name="month")],
                           open_only=True, close_from=..., close_to=...)         # the forecast
"""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.db.models import Count, F, Sum
from django.utils.translation import gettext_lazy as _

from kehu.core.money import CENT, round_money
from kehu.core.reports import Bucket, Rollup, active_filters, aggregate, merge_rows, report

from .forms import OpportunityFilterSet

# what the board and the forecast show; "weighted" is Σ amount × probability (%), so ÷ 100
PIPELINE_MEASURES = {"n": Count("id"), "total": Sum("amount"), "weighted": Sum(F("amount") * F("probability"))}


class PipelineFilterSet(OpportunityFilterSet):
    """The list's filters, and the board's: a department (and below) and the board's names of the
    expected-close range. No custom-field filters: the board offers none."""

    department = django_filters.ModelChoiceFilter(queryset=None, method="filter_department", label=_("Department"))
    close_from = django_filters.DateFilter(field_name="expected_close", lookup_expr="gte",
                                           label=_("Expected close from"))
    close_to = django_filters.DateFilter(field_name="expected_close", lookup_expr="lte", label=_("Expected close to"))
    custom_field_filters = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from kehu.accounts.models import Department

        self.filters["department"].queryset = Department.objects.all()

    def filter_department(self, queryset, name, value):
        return queryset.filter(owner__department__path__startswith=value.path) if value else queryset


class PipelineRollup(Rollup):
    """`PipelineTotal` as a report source: counts, amounts and weighted amounts of the live
    opportunities per stage, owner, expected close month and open/closed, for the filters on
    those (owner, mine, department, stage, open, the close-date range). Whole months of a close
    range come from the totals, the days at its edges from the opportunities' close-date index."""

    groups = {"stage": "stage_id", "owner": "owner_key"}
    filters = {"owner", "mine", "department", "stage", "open", "close_after", "close_before", "close_from",
               "close_to"}
    columns = {"n": "n", "total": "total_cents", "weighted": "weighted_cents"}

    def column(self, measure) -> str | None:
        for name, column in self.columns.items():
            if measure == PIPELINE_MEASURES[name]:
                return column
        return None

    def answer(self, rt, user, filterset, groups, measures):
        from kehu.accounts.models import User
        from kehu.accounts.scope import scope_key

        from . import totals
        from .models import PipelineTotal

        columns = {name: self.column(measure) for name, measure in measures.items()}
        if None in columns.values():
            return None
        keys = []
        for group in groups:
            if isinstance(group, Bucket):
                if group.field != "expected_close" or group.unit not in ("month", "quarter", "year"):
                    return None
                keys.append("close_month")
            elif group in self.groups:
                keys.append(self.groups[group])
            else:
                return None
        applied = active_filters(filterset)
        if set(applied) - self.filters:
            return None

        scope = scope_key(user)
        if scope[0] == "none":
            return []
        rows = PipelineTotal.objects.all()
        if scope[0] != "all":
            rows = rows.filter(owner_key__in=scope[1])
        if "owner" in applied:
            rows = rows.filter(owner_key=int(applied["owner"]))
        if applied.get("mine") and filterset.user is not None:
            rows = rows.filter(owner_key=filterset.user.pk)
        if "department" in applied:
            rows = rows.filter(owner_key__in=User.objects.filter(
                department__path__startswith=applied["department"].path).values("pk"))
        if "stage" in applied:
            rows = rows.filter(stage_id=applied["stage"].pk)
        if "open" in applied:
            rows = rows.filter(is_open=applied["open"])
        lows = [applied[n] for n in ("close_after", "close_from") if n in applied]
        highs = [applied[n] for n in ("close_before", "close_to") if n in applied]
        low, high = (max(lows) if lows else None), (min(highs) if highs else None)
        edges = []
        if low is not None or high is not None:
            months, edges = totals.split_range(low, high)
            rows = rows.filter(close_month__gte=months[0], close_month__lte=months[1]) if months else rows.none()

        sums = {name: Sum(column) for name, column in columns.items()}
        found = (rows.order_by().values(*keys).annotate(**sums) if keys else [rows.aggregate(**sums)])
        out = []
        for row in found:
            line = {}
            for group, key in zip(groups, keys, strict=True):
                value = row[key]
                if isinstance(group, Bucket):
                    value = totals.month_start(value) if value else None
                    value = value if value is None or group.unit == "month" else _bucket(value, group.unit)
                    line[group.key] = value
                else:
                    line[group] = (value or None) if key == "owner_key" else value
            for name, column in columns.items():
                line[name] = _from_column(column, row[name])
            out.append(line)
        # the days at the edges of the range: from the opportunities (filtered like the list)
        qs = filterset.qs if filterset is not None and filterset.is_bound else rt.visible(user)
        for first, last in edges:
            out += aggregate(qs.filter(expected_close__gte=first, expected_close__lte=last), groups, measures)
        return merge_rows(out, [g.key if isinstance(g, Bucket) else g for g in groups], measures)


def _bucket(day, unit):
    from kehu.core.reports import bucket_start

    return bucket_start(day, unit)


def _from_column(column: str, value):
    """A total's stored unit as the measure's: cents to the amount, cents × % to amount × %."""
    if column == "n":
        return value or 0
    return (Decimal(value or 0) / 100).quantize(CENT)


def filter_data(**filters) -> dict:
    """The board's chosen filters (`BoardFilterForm.totals_filters()`: objects and dates) as
    `PipelineFilterSet` data."""
    data = {}
    for name, value in filters.items():
        if value in (None, ""):
            continue
        data[name] = value.pk if hasattr(value, "pk") else value.isoformat() if hasattr(value, "isoformat") else value
    return data


def pipeline_report(user, group_by, *, open_only: bool = False, **filters) -> list[dict]:
    """The pipeline measures (n, total, weighted = Σ amount × %) of the opportunities `user` may
    see, per `group_by`, with the board's filters (owner, department, close_from, close_to)."""
    from kehu.core.registry import registry

    data = filter_data(**filters)
    if open_only:
        data["open"] = "true"
    return report(registry.get("opportunity"), user, data, group_by=group_by, measures=PIPELINE_MEASURES,
                  filterset=PipelineFilterSet, labels=False)


def weighted_amount(value) -> Decimal:
    """Σ amount × probability (%) as the weighted amount, rounded once: Σ / 100."""
    return round_money(Decimal(value or 0) / 100)
