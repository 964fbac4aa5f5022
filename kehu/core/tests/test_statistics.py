"""Planner statistics (kehu/core/statistics.py): SQLite's figures written by the daily job."""

import pytest
from django.db import connection

from kehu.core import registries, statistics
from kehu.customers.testing import make_customer

pytestmark = pytest.mark.django_db


def test_the_job_is_declared_daily_and_runs_as_the_scheduler_calls_it():
    job = registries.jobs[statistics.refresh_statistics.name]
    assert job.daily_at == 4
    assert job.task.call("2026-12-04T04:00:00+08:00")["vendor"] == connection.vendor


def test_refresh_writes_the_figures_sqlite_plans_with(org):
    for i in range(30):
        make_customer(org.manager if i % 2 else org.manager2, f"统计客户{i}")
    result = statistics.refresh(["customers_customer"])
    if connection.vendor != "sqlite":
        assert result == {"vendor": connection.vendor, "analyzed": 0}  # autovacuum's work there
        return
    assert result["analyzed"] == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'customers_customer'")
        rows = dict(cursor.fetchall())
    assert rows, "no figures written"
    total = int(next(iter(rows.values())).split()[0])
    assert total >= 30  # the rows of the table, counted (approximately, under analysis_limit)
    statistics.refresh()  # every table
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT tbl) FROM sqlite_stat1")
        assert cursor.fetchone()[0] > 10


def test_figures_exported_from_one_database_make_another_plan_as_it_does(org):
    """load_figures: a small database told that customers_customer has a million rows and 5,000 per
    owner plans an owner's list from the owner's index; forget_figures gives the guesses back."""
    if connection.vendor != "sqlite":  # PostgreSQL's figures come from autovacuum
        assert statistics.refresh()["analyzed"] == 0
        return
    make_customer(org.manager, "统计客户")
    statistics.refresh(["customers_customer"])
    figures = statistics.export_figures()
    assert "customers_customer" in figures
    index = next(i for i in figures["customers_customer"] if i)
    written = statistics.load_figures({"customers_customer": {index: "1000000 5000", "no_such_index": "1 1"}})
    assert written == 1  # the index this schema does not have is left out
    assert statistics.export_figures()["customers_customer"][index] == "1000000 5000"
    statistics.forget_figures()
    assert statistics.export_figures() == {}


@pytest.mark.django_db
def test_a_migration_analyses_the_indexes_it_adds_where_the_database_has_figures(org):
    """analyze_indexes_operation: an index created after ANALYZE gets figures of its own (SQLite),
    and a database without any figures is left without (nothing to be undervalued against)."""
    from django.db import migrations

    from kehu.activities.testing import make_followup

    make_followup(make_customer(org.manager, "统计客户"), org.manager)  # an empty table has no figures
    operation = statistics.analyze_indexes_operation("fu_created_cover_idx")
    assert isinstance(operation, migrations.RunPython)

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")  # no figures: nothing written
    operation.code(None, editor)
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        assert cursor.fetchone() is None
        cursor.execute("ANALYZE customers_customer")  # figures of another table
        operation.code(None, editor)
        cursor.execute("SELECT tbl FROM sqlite_stat1 WHERE idx = 'fu_created_cover_idx'")
        assert cursor.fetchone() == ("activities_followup",)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="autovacuum is PostgreSQL's")
def test_the_large_tables_users_write_most_are_vacuumed_and_analysed_after_a_small_share():
    """At the default 10-20 % a million customers waited 100,000-200,000 changes: the newest rows
    unknown to the planner and not all-visible, the trigram index's pending list read by every
    search. The migrations give them 1-2 %."""
    tables = ["customers_customer", "customers_contact", "activities_followup", "activities_task",
              "sales_opportunity"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)", [tables])
        options = {name: dict(o.split("=", 1) for o in (opts or [])) for name, opts in cursor.fetchall()}
    assert set(options) == set(tables)
    for table in tables:
        assert options[table] == statistics.AUTOVACUUM, (table, options[table])
