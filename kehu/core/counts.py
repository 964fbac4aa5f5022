"""How many records a list holds, without counting a million rows.

An exact `COUNT(*)` reads every matching row (220 ms for 766k customers on PostgreSQL, 808 ms on
SQLite). A list count is exact up to COUNT_EXACT_LIMIT, counted over a LIMITed subquery, so it
never reads more than that many index entries; above it the list shows an estimate: on PostgreSQL
the planner's row estimate of the same query (EXPLAIN, from the table's statistics: no rows
read), shown as "about N"; on SQLite, which has no such estimate, "more than 10,000".
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import connections
from django.utils.translation import gettext as _

COUNT_EXACT_LIMIT = 10_000


@dataclass
class ListCount:
    value: int
    exact: bool
    estimated: bool = False  # False and not exact: "more than value"

    def __str__(self) -> str:
        if self.exact:
            return _("%(count)s records") % {"count": f"{self.value:,}"}
        if self.estimated:
            return _("about %(count)s records") % {"count": f"{self.value:,}"}
        return _("more than %(count)s records") % {"count": f"{self.value:,}"}


def list_count(qs, limit: int = COUNT_EXACT_LIMIT) -> ListCount:
    """The count of `qs`: exact up to `limit`, above it an estimate (see the module)."""
    qs = qs.order_by().values("pk")
    n = qs[: limit + 1].count()
    if n <= limit:
        return ListCount(n, exact=True)
    estimate = planner_estimate(qs)
    if estimate is not None and estimate > limit:
        return ListCount(_round(estimate), exact=False, estimated=True)
    return ListCount(limit, exact=False)


def planner_estimate(qs) -> int | None:
    """PostgreSQL's row estimate of `qs` (EXPLAIN, planning only); None elsewhere."""
    connection = connections[qs.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _round(n: int) -> int:
    """Two significant digits: an estimate should not look exact."""
    digits = len(str(n)) - 2
    return round(n, -digits) if digits > 0 else n
