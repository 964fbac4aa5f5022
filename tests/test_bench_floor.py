"""What makes a bench run's verdicts mean the code: the floor beside a generated scenario over
budget (kehu/bench/floor.py, run.attach_floors: the request in-process and its SQL replayed, the
reads only; the report shows both beside the FAIL), and the data set read into the page cache
before measuring (run.warm_cache)."""

import json
from types import SimpleNamespace

import pytest
from django.db import connection

from kehu.bench import floor, run
from kehu.core.testing.factories import make_org


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_request_is_timed_in_process_and_its_reads_replayed():
    org = make_org()
    rows = list(floor.floors([(org.admin.username, "/api/v1/customers/"), (org.manager.username, "/customers/")],
                             runs=2, replays=2))
    assert [(r["path"], r["status"]) for r in rows] == [("/api/v1/customers/", 200), ("/customers/", 200)]
    for r in rows:
        assert r["queries"] >= 1 and r["sql_floor_ms"] > 0 and r["p50_ms"] >= r["sql_floor_ms"] / 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_replay_runs_reads_only_and_leaves_no_transaction_open():
    from kehu.accounts.models import User

    make_org()
    before = User.objects.count()
    statements = ["SELECT COUNT(*) FROM accounts_user",
                  "INSERT INTO core_tag (name, color) VALUES ('replayed', 'blue')",
                  "UPDATE accounts_user SET first_name = 'replayed'"]
    if connection.vendor == "postgresql":  # a probe's transaction with its SET LOCAL, and one never committed
        statements += ["BEGIN", "SET LOCAL enable_seqscan = off", "SELECT id FROM accounts_user", "COMMIT",
                       "BEGIN", "SELECT 1"]
    ms = floor._replay(connection, statements, replays=3)
    assert ms > 0
    assert User.objects.count() == before and not User.objects.filter(first_name="replayed").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM core_tag WHERE name = 'replayed'")
        assert cursor.fetchone()[0] == 0
    assert not connection.in_atomic_block
    if connection.vendor == "postgresql":
        assert connection.connection.info.transaction_status == 0  # idle: nothing left open


def test_the_floor_stands_beside_each_fail_still_over_budget(monkeypatch, tmp_path):
    spec = {"users": {"admin": {"username": "boss"}, "rep": {"username": "rep1"}}}

    def row(name, role, path, p95, verdict="FAIL", statuses=(200,), method=None):
        return {"name": name, "role": role, "group": "list customer", "client": "api", "path": path, "budget_ms": 20,
                "method": method, "database": "postgresql", "p50_ms": p95 - 1, "p95_ms": p95, "n": 5,
                "statuses": list(statuses), "verdict": verdict}

    rows = [row("slow", "admin", "/api/v1/customers/?q=5957", 31), row("fast", "rep", "/api/v1/x/", 5, "PASS"),
            row("gone", "admin", "/api/v1/gone/", 3, statuses=(404,)), row("edit", "rep", "/api/v1/y/", 40,
                                                                            method="PATCH"),
            row("near", "rep", "/api/v1/customers/?q=北", 24)]
    seen = {}

    def fake_run_cmd(args, env, what):
        seen["entries"] = open(args[-1], encoding="utf-8").read().splitlines()
        out = [{"user": "boss", "path": "/api/v1/customers/?q=5957", "status": 200, "p50_ms": 24.5,
                "sql_floor_ms": 21.2, "queries": 4},
               {"user": "rep1", "path": "/api/v1/customers/?q=北", "status": 200, "p50_ms": 12.0,
                "sql_floor_ms": 6.1, "queries": 3}]
        return SimpleNamespace(stdout="\n".join(json.dumps(o, ensure_ascii=False) for o in out))

    monkeypatch.setattr(run, "run_cmd", fake_run_cmd)
    assert run.attach_floors({}, tmp_path, spec, rows, SimpleNamespace(vendor="postgresql")) == 2
    # the slowest against its budget first; neither a PASS, a wrong status nor a write is measured
    assert seen["entries"] == ["boss /api/v1/customers/?q=5957", "rep1 /api/v1/customers/?q=北"]
    assert rows[0]["floor"] == {"p50_ms": 24.5, "sql_floor_ms": 21.2, "queries": 4}
    assert all("floor" not in r for r in rows[1:4])

    text = "\n".join(run.generated_md({"postgresql": {"generated": rows}}))
    assert "**FAIL**; floor: in-process p50 24.5, SQL 21.2 (4 queries); reason: the SQL alone is over budget" in text
    assert "floor: in-process p50 12, SQL 6.1 (3 queries); reason: within budget in-process" in text
    rows[4]["floor"]["p50_ms"] = 22.0
    assert "reason: Django's work in the request" in run.floor_reason(rows[4])
    assert "the floor beside 2 of the FAIL rows" in text
    assert "1 over budget in-process too, 1 of them with the SQL alone over budget; 1 within budget" in text


def test_the_data_set_is_read_into_the_page_cache_before_measuring(tmp_path):
    import sqlite3

    path = tmp_path / "kehu.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 500)
    warm = run.warm_cache(run.ExistingDatabase(f"sqlite:///{path}"))
    assert warm["bytes"] == path.stat().st_size > 500_000 and "file" in warm["how"]
    run.write_outputs([], {"sqlite": {"warm": warm}}, tmp_path / "b.md", tmp_path / "b.json", "pytest")
    assert "- page cache warmed before measuring: the database file and its WAL read through" in (
        tmp_path / "b.md").read_text()


@pytest.mark.django_db
def test_a_postgresql_data_set_is_prewarmed_table_and_index():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's branch; SQLite's is the test above")
    s = connection.settings_dict
    url = f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"
    warm = run.warm_cache(run.ExistingDatabase(url))
    # the tables and their indexes (pg_prewarm), or at least every table once
    assert warm["bytes"] is None or warm["bytes"] > 1_000_000, warm
