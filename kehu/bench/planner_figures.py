"""Write the planner figures of a bench data set (SQLite) for the plan test.

    KEHU_VAR_DIR=… DATABASE_URL=sqlite:///…/kehu.sqlite3 python -m kehu.bench.planner_figures OUT.json

The figures are taken as the daily statistics job takes them (kehu/core/statistics.py: an
approximate ANALYZE, analysis_limit rows per index), on a copy of the database, so the plan test
(kehu/core/tests/test_list_plans.py) plans its small tables as a production database of that size
would. Regenerate it when an index is added or the generator's distributions change."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--note", default="", help="what data set the figures come from")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    import django

    django.setup()
    from django.db import connection

    from kehu.core import statistics

    if connection.vendor != "sqlite":
        print("planner figures are SQLite's: DATABASE_URL must name a SQLite database", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "copy.sqlite3")
        source = sqlite3.connect(connection.settings_dict["NAME"])
        target = sqlite3.connect(copy)
        source.backup(target)
        source.close()
        target.execute(f"PRAGMA analysis_limit = {statistics.ANALYSIS_LIMIT}")
        target.execute("ANALYZE")
        figures = statistics.figures_of(target.cursor())
        target.close()
        shutil.rmtree(tmp, ignore_errors=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"note": args.note, "analysis_limit": statistics.ANALYSIS_LIMIT, "figures": figures}, f,
                  ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{sum(len(v) for v in figures.values())} figures of {len(figures)} tables -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
