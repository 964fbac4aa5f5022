"""The SQLite database's own floor for the customer import's writes (docs/benchmarks.md, "Import"):
the rows an import wrote, inserted again by sqlite3 into a copy of an empty migrated database, every
index and trigger in place, 1,000 customers and their contacts per transaction, in four ways.

    python scripts/bench_import_floor.py IMPORTED.sqlite3 EMPTY.sqlite3

IMPORTED: a database `scripts/bench_import.py` imported into; EMPTY: a migrated database without
customers (the same schema)."""

import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

TABLES = ("customers_customer", "customers_contact")
TRIGGERS = ("customers_customer_fts_ai", "customers_contact_fts_ai")


def main(imported: str, empty: str, batch: int = 1000) -> None:
    source = sqlite3.connect(imported)
    data = {}
    for table in TABLES:
        cols = [r[1] for r in source.execute(f"PRAGMA table_info({table})")]
        data[table] = cols, source.execute(f"SELECT {','.join(cols)} FROM {table} ORDER BY id").fetchall()
    n = len(data[TABLES[0]][1])
    work = Path(tempfile.mkdtemp()) / "floor.sqlite3"

    def run(label, tables=TABLES, triggers=True, staged=False):
        shutil.copy(empty, work)
        db = sqlite3.connect(work, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        if not triggers:
            for trigger in TRIGGERS:
                db.execute(f"DROP TRIGGER {trigger}")
        started = time.perf_counter()
        for i in range(0, n, batch):
            db.execute("BEGIN IMMEDIATE")
            for table in tables:
                cols, rows = data[table]
                names, marks = ",".join(cols), ",".join("?" * len(cols))
                if staged:
                    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS stage_{table} ({names})")
                    db.executemany(f"INSERT INTO temp.stage_{table} VALUES ({marks})", rows[i:i + batch])
                    db.execute(f"INSERT INTO main.{table} ({names}) SELECT {names} FROM temp.stage_{table}")
                    db.execute(f"DELETE FROM temp.stage_{table}")
                else:
                    db.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows[i:i + batch])
            db.execute("COMMIT")
        seconds = time.perf_counter() - started
        db.close()
        print(f"{label}: {seconds:.2f} s, {n / seconds:,.0f} rows/s", flush=True)

    run("executemany into the tables")
    run("the same without the full-text triggers", triggers=False)
    run("customers only", tables=TABLES[:1])
    run("contacts only", tables=TABLES[1:])
    run("staged: a temporary table, then one INSERT ... SELECT per table", staged=True)
    shutil.rmtree(work.parent, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
