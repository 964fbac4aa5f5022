"""Smoke test of the benchmark suite (issue 4) at BENCH_SCALE=small: no timing assertion, only that
it runs end to end.

Always on its own SQLite file, whatever DATABASE_URL the suite runs with.
"""

import json

from kehu.bench import SCALES, run

CUSTOMERS = SCALES["small"]  # BENCH_SCALE=small: 10,000 customers and everything that hangs off them


def test_bench_smoke(tmp_path):
    db = run.SqliteDatabase(tmp_path)
    rows, notes = run.run_database(db, CUSTOMERS, tmp_path, requests=3, warmup=1, seconds=1.0,
                                   generated_requests=(1, 1), generated_sample=15, mixed_seconds=2,
                                   worker_models=[("sync", 2, 1)])
    md, js = tmp_path / "benchmarks.md", tmp_path / "benchmarks.json"
    run.write_outputs(rows, {"sqlite": notes}, md, js, "pytest tests/test_bench_smoke.py")

    scenarios = {r["scenario"] for r in rows}
    for user in ("supervisor", "admin"):
        for name in ("api list first page", "api list deep page", "api search name substring",
                     "api search pinyin initials", "api search phone", "api search contact name", "api detail",
                     "html customer page", "html customer timeline", "html customer list",
                     "api create customer", "api list throughput (8 clients)", "api opportunity list",
                     "api follow-ups of a customer"):
            assert f"{user}: {name}" in scenarios
    assert any(r["worker_rss_mb"] for r in rows), "no worker memory measured"
    for r in rows:
        assert r["statuses"] and set(r["statuses"]) <= {200, 201}, (r["scenario"], r["statuses"])
    data = json.loads(js.read_text())
    assert len(data) == len(rows)
    for item in data:
        assert set(item) == set(run.KEYS)
        assert item["database"] == "sqlite" and item["customers"] == CUSTOMERS
    text = md.read_text()
    assert "| scenario |" in text
    counts = notes["counts"]  # the other modules' rows are generated too
    assert counts["customers"] == CUSTOMERS and counts["followups"] > 3 * CUSTOMERS
    assert counts["opportunities"] > CUSTOMERS // 2 and counts["tasks"] > CUSTOMERS // 2
    assert f"{counts['followups']:,} follow-ups" in text
    # the generated scenarios (issue 17): every record type's list, every role, the landing pages
    generated = notes["generated"]
    assert notes["generated_count"] > 1000
    names = {(g["role"], g["name"]) for g in generated}
    for role in ("admin", "supervisor", "rep"):
        for name in ("home (page shell)", "opportunity board", "opportunity forecast", "public pool (html)",
                     "calendar feed", "calendar feed, unchanged (If-None-Match)", "api customer edit (notes)",
                     "api follow-up create", "duplicate check name + phone + e-mail (api)",
                     "customer: api first page", "customer: html first page"):
            assert (role, name) in names, (role, name)
    groups = {g["group"] for g in generated}
    assert {"list customer", "list contact", "list opportunity", "list followup", "list task", "list planstep",
            "landing", "search", "writes"} <= groups
    for g in generated:
        assert g["verdict"] in ("PASS", "FAIL", "not shown", "–"), g
        if g["verdict"] != "not shown":  # no error status anywhere; a timing FAIL is allowed here
            assert set(g["statuses"]) <= run.OK_STATUSES, (g["role"], g["name"], g["path"], g["statuses"])
    feed = next(g for g in generated if g["name"] == "calendar feed, unchanged (If-None-Match)")
    assert 304 in feed["statuses"]
    assert "## Generated scenarios" in text and "| customer: api first page | admin |" in text
    # the mixed load ran through wrk (installed by make test) with no error
    (mixed,) = notes["mixed"]
    assert mixed["requests"] > 0, mixed
    # no request answered with an error; a lost socket is reported, and rare (wrk reconnects to
    # sync workers after every response; a reset while it writes the next request is one error)
    assert mixed["status_errors"] == 0 and not mixed["failed_requests"], (
        f"failed requests {mixed['failed_requests']}, status errors {mixed['status_errors']}, "
        f"sockets {mixed['socket_errors']}")
    assert sum(mixed["socket_errors"].values()) <= max(2, mixed["requests"] // 500), mixed
    assert "## Mixed load: worker models" in text
    with_raw = {r["scenario"] for r in rows if r["raw_sql_ms"] is not None}
    assert "admin: api follow-ups of a customer" in with_raw and "admin: api opportunity list" in with_raw


def test_bench_keeps_the_hand_written_analysis(tmp_path):
    """A new run replaces the figures but keeps what follows the analysis marker."""
    md, js = tmp_path / "benchmarks.md", tmp_path / "benchmarks.json"
    md.write_text(f"# Benchmarks\n\n| old | table |\n\n{run.ANALYSIS_MARKER}\n\n## Budgets\n\nverdicts\n")
    row = dict.fromkeys(run.KEYS)
    row.update(scenario="admin: api detail", database="sqlite", customers=10, p50_ms=1.5)
    run.write_outputs([row], {}, md, js, "test")
    text = md.read_text()
    assert "| old | table |" not in text and "| admin: api detail | sqlite |" in text
    assert text.index("| admin: api detail |") < text.index(run.ANALYSIS_MARKER) < text.index("verdicts")
    run.write_outputs([row], {}, md, js, "test")
    assert md.read_text().count("verdicts") == 1
