"""The benchmark suite behind `make bench` (issue 4).

generate.py fills a migrated database with bulk SQL; run.py starts `kehu serve`, measures the
scenarios with an httpx client, times the equivalent hand-written SQL and writes
docs/benchmarks.md and docs/benchmarks.json.
"""

SCALES = {"small": 10_000, "medium": 100_000, "full": 1_000_000}
