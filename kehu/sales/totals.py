"""The pipeline's running totals (`PipelineTotal`): kept by triggers, read by the board and the forecast
through the report layer (kehu/sales/reports.py: `PipelineRollup`).

Aggregating the visible opportunities on each request read ~750k index entries at 1M customers
(admin and supervisors: 100-300 ms on PostgreSQL, seconds on SQLite). The totals per (stage, owner,
expected close month, open) are a few thousand rows, so a column's count, amount and weighted
amount are sums over the rows of the owners in the user's data scope.

They are kept by triggers on `sales_opportunity` (`PG_CREATE`, `SQLITE_CREATE`, migration 0007), not
by Python code: a trigger sees every write, including `QuerySet.update()`, deletes, raw SQL and
bulk loads (`COPY`), so no write path can forget them.

- PostgreSQL: INSERT and DELETE are statement triggers over their transition tables (a bulk load
  becomes one grouped upsert per statement); UPDATE is a row trigger that fires only when a column
  the totals depend on changed (`WHEN`), so the version bump every save makes costs nothing. The
  two rows an update touches are upserted in key order, so two concurrent moves cannot deadlock.
- SQLite: row triggers (one writer at a time).

`rebuild()` recomputes every row (the migration, and `verify()` tells any difference from a direct
aggregate: the tests compare them after every kind of write)."""

from __future__ import annotations

import datetime

from django.db import connection, transaction

TABLE = "sales_pipelinetotal"
COLUMNS = "stage_id, owner_key, close_month, is_open, n, total_cents, weighted_cents"
KEY = "stage_id, owner_key, close_month, is_open"
ADD = ("n = t.n + excluded.n, total_cents = t.total_cents + excluded.total_cents, "
       "weighted_cents = t.weighted_cents + excluded.weighted_cents")
# the columns a total depends on: a change of any other column (version, title, updated_at) is ignored
WATCHED = ("stage_id", "owner_id", "amount", "probability", "expected_close", "closed_at", "deleted_at")


def _pg_values(r: str, sign: str) -> str:
    """The key and the signed measures of row `r` (OLD, NEW or a transition table's alias)."""
    month = f"COALESCE((EXTRACT(YEAR FROM {r}.expected_close) * 100 + EXTRACT(MONTH FROM {r}.expected_close))::int, 0)"
    return (f"{r}.stage_id, COALESCE({r}.owner_id, 0), {month}, {r}.closed_at IS NULL, {sign}1, "
            f"{sign}COALESCE(({r}.amount * 100)::bigint, 0), "
            f"{sign}COALESCE(({r}.amount * 100)::bigint * {r}.probability, 0)")


def _pg_upsert(select: str) -> str:
    return (f"INSERT INTO {TABLE} AS t ({COLUMNS}) "
            f"SELECT s, o, m, op, sum(dn), sum(dt), sum(dw) FROM ({select}) AS d(s, o, m, op, dn, dt, dw) "
            "GROUP BY s, o, m, op HAVING sum(dn) <> 0 OR sum(dt) <> 0 OR sum(dw) <> 0 ORDER BY s, o, m, op "
            f"ON CONFLICT ({KEY}) DO UPDATE SET {ADD}")


PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION sales_pipeline_total() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {_pg_upsert(f"SELECT {_pg_values('r', '')} FROM new_rows r WHERE r.deleted_at IS NULL")};
  ELSIF TG_OP = 'DELETE' THEN
    {_pg_upsert(f"SELECT {_pg_values('r', '-')} FROM old_rows r WHERE r.deleted_at IS NULL")};
  ELSIF TG_OP = 'UPDATE' THEN
    {_pg_upsert(f"SELECT {_pg_values('OLD', '-')} WHERE OLD.deleted_at IS NULL "
                f"UNION ALL SELECT {_pg_values('NEW', '')} WHERE NEW.deleted_at IS NULL")};
  ELSIF TG_OP = 'TRUNCATE' THEN
    DELETE FROM {TABLE};
  END IF;
  RETURN NULL;
END $$
"""
PG_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)
PG_CREATE = [
    PG_FUNCTION,
    "CREATE TRIGGER sales_pipeline_total_ins AFTER INSERT ON sales_opportunity "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sales_pipeline_total()",
    "CREATE TRIGGER sales_pipeline_total_del AFTER DELETE ON sales_opportunity "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sales_pipeline_total()",
    f"CREATE TRIGGER sales_pipeline_total_upd AFTER UPDATE ON sales_opportunity FOR EACH ROW "
    f"WHEN ({PG_CHANGED}) EXECUTE FUNCTION sales_pipeline_total()",
    "CREATE TRIGGER sales_pipeline_total_trunc AFTER TRUNCATE ON sales_opportunity "
    "FOR EACH STATEMENT EXECUTE FUNCTION sales_pipeline_total()",
]
PG_DROP = [
    "DROP TRIGGER IF EXISTS sales_pipeline_total_ins ON sales_opportunity",
    "DROP TRIGGER IF EXISTS sales_pipeline_total_del ON sales_opportunity",
    "DROP TRIGGER IF EXISTS sales_pipeline_total_upd ON sales_opportunity",
    "DROP TRIGGER IF EXISTS sales_pipeline_total_trunc ON sales_opportunity",
    "DROP FUNCTION IF EXISTS sales_pipeline_total()",
]


def _sqlite_upsert(r: str, sign: str) -> str:
    cents = f"CAST(round({r}.amount * 100) AS INTEGER)"
    month = f"COALESCE(CAST(substr({r}.expected_close, 1, 4) || substr({r}.expected_close, 6, 2) AS INTEGER), 0)"
    return (f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {r}.stage_id, COALESCE({r}.owner_id, 0), {month}, "
            f"{r}.closed_at IS NULL, {sign}1, {sign}COALESCE({cents}, 0), {sign}COALESCE({cents} * {r}.probability, 0) "
            f"WHERE {r}.deleted_at IS NULL ON CONFLICT ({KEY}) DO UPDATE SET {ADD.replace('t.', '')};")


SQLITE_CHANGED = " OR ".join(f"old.{c} IS NOT new.{c}" for c in WATCHED)
SQLITE_CREATE = [
    f"CREATE TRIGGER sales_pipeline_total_ai AFTER INSERT ON sales_opportunity BEGIN {_sqlite_upsert('new', '')} END",
    f"CREATE TRIGGER sales_pipeline_total_ad AFTER DELETE ON sales_opportunity BEGIN {_sqlite_upsert('old', '-')} END",
    f"CREATE TRIGGER sales_pipeline_total_au AFTER UPDATE OF {', '.join(WATCHED)} ON sales_opportunity "
    f"WHEN {SQLITE_CHANGED} BEGIN {_sqlite_upsert('old', '-')} {_sqlite_upsert('new', '')} END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS sales_pipeline_total_ai",
    "DROP TRIGGER IF EXISTS sales_pipeline_total_ad",
    "DROP TRIGGER IF EXISTS sales_pipeline_total_au",
]


def _aggregate_sql(vendor: str) -> str:
    """The totals as a direct aggregate of the live opportunities, in `COLUMNS` order."""
    if vendor == "postgresql":
        month = "COALESCE((EXTRACT(YEAR FROM expected_close) * 100 + EXTRACT(MONTH FROM expected_close))::int, 0)"
        cents = "(amount * 100)::bigint"
    else:
        month = "COALESCE(CAST(substr(expected_close, 1, 4) || substr(expected_close, 6, 2) AS INTEGER), 0)"
        cents = "CAST(round(amount * 100) AS INTEGER)"
    return (f"SELECT stage_id, COALESCE(owner_id, 0), {month}, closed_at IS NULL, "
            f"count(*), COALESCE(sum({cents}), 0), COALESCE(sum({cents} * probability), 0) "
            "FROM sales_opportunity WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4")


def install(schema_editor) -> None:
    """Create the triggers of this database and fill the totals from the opportunities."""
    vendor = schema_editor.connection.vendor
    for sql in PG_CREATE if vendor == "postgresql" else SQLITE_CREATE if vendor == "sqlite" else []:
        schema_editor.execute(sql, params=None)
    rebuild(schema_editor.connection)


def uninstall(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for sql in PG_DROP if vendor == "postgresql" else SQLITE_DROP if vendor == "sqlite" else []:
        schema_editor.execute(sql, params=None)


def rebuild(conn=None) -> None:
    """Recompute every total from the opportunities (the writers wait meanwhile on PostgreSQL)."""
    conn = conn or connection
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute("LOCK TABLE sales_opportunity IN SHARE MODE")
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(f"INSERT INTO {TABLE} ({COLUMNS}) " + _aggregate_sql(conn.vendor))


def verify(conn=None) -> list[tuple]:
    """The keys whose stored totals differ from a direct aggregate of the opportunities, as
    (key, stored, actual); empty when they agree."""
    from .models import PipelineTotal

    conn = conn or connection
    stored = {(r.stage_id, r.owner_key, r.close_month, bool(r.is_open)): (r.n, r.total_cents, r.weighted_cents)
              for r in PipelineTotal.objects.using(conn.alias).all()}
    with conn.cursor() as cursor:
        cursor.execute(_aggregate_sql(conn.vendor))
        actual = {(s, o, m, bool(op)): (n, t, w) for s, o, m, op, n, t, w in cursor.fetchall()}
    zero = (0, 0, 0)
    return [(key, stored.get(key, zero), actual.get(key, zero)) for key in sorted(set(stored) | set(actual))
            if stored.get(key, zero) != actual.get(key, zero)]


# --- reading: the report layer's source (kehu/sales/reports.py: PipelineRollup) ------------------

def month_key(day: datetime.date) -> int:
    return day.year * 100 + day.month


def month_start(key: int) -> datetime.date:
    return datetime.date(key // 100, key % 100, 1)


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def split_range(close_from, close_to):
    """An expected-close range as (whole months the totals answer: (first key, last key) or None,
    day ranges at its edges that the opportunities answer: [(from, to), ...]). Without a bound the
    months are open on that side (None), and opportunities without a date are left out."""
    first = close_from if close_from is None or close_from.day == 1 else _next_month(close_from)
    end = None if close_to is None else _next_month(close_to) - datetime.timedelta(days=1)
    last = close_to if close_to is None or close_to == end else close_to.replace(day=1) - datetime.timedelta(days=1)
    if first is not None and last is not None and first > last:
        return None, [(close_from, close_to)]
    edges = []
    if close_from is not None and close_from != first:
        edges.append((close_from, first - datetime.timedelta(days=1)))
    if close_to is not None and close_to != last:
        edges.append((last + datetime.timedelta(days=1), close_to))
    months = (month_key(first) if first else 1, month_key(last) if last else 999912)
    return months, edges
