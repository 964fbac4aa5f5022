"""Planner statistics kept fresh (issue 17).

SQLite plans with the figures of `ANALYZE` (the `sqlite_stat1` table) when a database has them and
guesses when it has none: a table that grew from empty to a million rows keeps planning as if it
were small. The department-scoped lists (`owner_id IN (…)`) are planned from the order's index
with figures and by sorting the department's rows without them (docs/benchmarks.md, "SQLite scope
plans"; the plan test's KNOWN_GAPS marked "Fix: ANALYZE"). The benchmark's databases are analyzed
when generated; a real installation is analyzed by this job, daily, and after an import.

The figures are those of a full ANALYZE (`PRAGMA analysis_limit = 0`), one table at a time, so each
table's figures are written in a transaction of their own and other writers wait for at most one
table (at 1M customers: 52 s for the whole database, the longest table 7 s, the 5M follow-ups;
writers wait up to busy_timeout, 10 s). An approximate ANALYZE misled the plans
at 1M: at `analysis_limit = 1000` the figure "rows per owner" of an owner index cannot exceed
1,001 (the truth: 15,500 payments per owner), and SQLite sorted a supervisor's payments instead of
walking the date index (1.0-1.5 s); at 100,000 the owner figures came close, but the figures of
sparse sort columns (a survey's answer time, a contract's signing date, an opportunity's amount)
did not, and those supervisor lists took 0.3-1.3 s. With the full figures all of them take
4-25 ms, as the benchmark (whose databases are fully analyzed when generated) measured them.

PostgreSQL's autovacuum analyzes and vacuums tables as they change, after a share of their rows:
by default 10 % changed for ANALYZE and 20 % for VACUUM, which at a million customers is 100,000
and 200,000 changes. Until then the newest rows, the ones users open most, are missing from the
planner's figures (the current month's customers were estimated at one row and sorted whole), are
not marked all-visible (counting them read the table: 5-13 ms instead of 2-3), and each edit's
search-text trigrams wait in the trigram index's pending list that every search reads. The large
tables users write most are given 1-2 % (`autovacuum_operation`, in their apps' migrations)."""

from __future__ import annotations

import logging
import time

from django.db import connection
from django_tasks import task

log = logging.getLogger(__name__)

ANALYSIS_LIMIT = 0  # a full ANALYZE (see the module: approximate figures misled the plans at 1M)


def refresh(tables: list[str] | None = None) -> dict:
    """Refresh the planner's figures of `tables` (all tables when None). Returns what was done."""
    if connection.vendor != "sqlite":
        return {"vendor": connection.vendor, "analyzed": 0}
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
        if not tables:  # every table, one ANALYZE (one write transaction) each
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                           "ORDER BY name")
            tables_now = [row[0] for row in cursor.fetchall()]
        for table in tables or tables_now:
            cursor.execute(f'ANALYZE "{table}"')
    seconds = round(time.monotonic() - started, 3)
    log.info("planner statistics refreshed (%s) in %.3f s", ", ".join(tables or ["all tables"]), seconds)
    return {"vendor": "sqlite", "analyzed": len(tables) if tables else "all", "seconds": seconds}


@task
def refresh_statistics(now: str | None = None) -> dict:
    """Daily (declared in kehu/core/registrations.py); `now` is the scheduler's tick, unused."""
    return refresh()


def export_figures() -> dict[str, dict[str, str]]:
    """The planner's figures of this SQLite database: {table: {index or "": stat}} (`sqlite_stat1`;
    "" is a table without an index). `load_figures` gives them to another database with the same
    schema, so that it plans as this one does (the plan test plans with the bench data set's)."""
    with connection.cursor() as cursor:
        return figures_of(cursor)


def figures_of(cursor) -> dict[str, dict[str, str]]:
    """`export_figures` through any DB-API cursor of a SQLite database (Django's or sqlite3's)."""
    cursor.execute("SELECT tbl, idx, stat FROM sqlite_stat1 ORDER BY tbl, idx")
    figures: dict[str, dict[str, str]] = {}
    for table, index, stat in cursor.fetchall():
        figures.setdefault(table, {})[index or ""] = stat
    return figures


def load_figures(figures: dict[str, dict[str, str]]) -> int:
    """Replace the planner's figures of the tables in `figures` (from `export_figures`) by those,
    for the indexes this database has, and make the planner read them. Returns the rows written.
    SQLite documents writing sqlite_stat1 to make a small database plan as a large one does."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # creates sqlite_stat1 and gives every table its own figures first
        cursor.execute("SELECT name, tbl_name FROM sqlite_schema WHERE type = 'index'")
        indexes = {(table, name) for name, table in cursor.fetchall()}
        written = 0
        for table, stats in figures.items():
            for index, stat in stats.items():
                if index and (table, index) not in indexes:
                    continue  # an index of the data set's schema that this one does not have
                cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = %s AND idx IS %s", [table, index or None])
                cursor.execute("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (%s, %s, %s)",
                               [table, index or None, stat])
                written += 1
        cursor.execute("ANALYZE sqlite_schema")  # the planner re-reads sqlite_stat1
    return written


def has_figures(cursor) -> bool:
    """Whether this SQLite database was ever analyzed (it has `sqlite_stat1`)."""
    cursor.execute("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat1'")
    return cursor.fetchone() is not None


def analyzed_rows(table: str) -> float:
    """The rows of `table` by its last ANALYZE (SQLite): the first figure of each of its lines in
    `sqlite_stat1` is the rows an index holds, the largest is the table's; 0 without figures."""
    with connection.cursor() as cursor:
        if not has_figures(cursor):
            return 0.0
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
        firsts = [(stat or "").split(" ", 1)[0] for (stat,) in cursor.fetchall()]
    return max((float(first) for first in firsts if first.isdigit()), default=0.0)


def forget_figures() -> None:
    """Remove every planner figure (SQLite): the planner's defaults again."""
    with connection.cursor() as cursor:
        if has_figures(cursor):
            cursor.execute("DELETE FROM sqlite_stat1")
            cursor.execute("ANALYZE sqlite_schema")


def analyze_indexes_operation(*names: str):
    """A migration operation giving indexes it has just created their planner figures on SQLite
    (ANALYZE of each index alone: seconds, not the whole database's 52 s at 1M), where the database
    has figures at all: an index without them is undervalued against the analysed ones (the
    forecast walked an owner index instead of its own; a covering index lost to a narrower one)."""
    from django.db import migrations

    def analyze(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "sqlite":
            return
        with connection.cursor() as cursor:
            if has_figures(cursor):
                for name in names:
                    cursor.execute(f'ANALYZE "{name}"')

    return migrations.RunPython(analyze, migrations.RunPython.noop)


# per-table autovacuum settings of the large tables users write most (see the module's doc)
AUTOVACUUM = {
    "autovacuum_analyze_scale_factor": "0.01",
    "autovacuum_vacuum_scale_factor": "0.02",
    "autovacuum_vacuum_insert_scale_factor": "0.02",  # PostgreSQL 13 and later
}


def autovacuum_operation(*tables: str):
    """A migration operation giving `tables` the AUTOVACUUM settings on PostgreSQL (a catalogue
    change: no table is rewritten or locked for long); nothing on SQLite."""
    from django.db import migrations

    def settings_for(connection) -> dict:
        if connection.pg_version < 130000:
            return {k: v for k, v in AUTOVACUUM.items() if "insert" not in k}
        return AUTOVACUUM

    def apply(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        options = ", ".join(f"{name} = {value}" for name, value in settings_for(connection).items())
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f'ALTER TABLE "{table}" SET ({options})')

    def revert(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f'ALTER TABLE "{table}" RESET ({", ".join(settings_for(connection))})')

    return migrations.RunPython(apply, revert)
