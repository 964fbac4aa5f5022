"""The floor of a request's SQL beside the request, for scenarios that miss their budget.

    KEHU_VAR_DIR=… DATABASE_URL=sqlite:///…/kehu.sqlite3 python -m kehu.bench.floor FILE

FILE has one `USERNAME PATH` a line (an API path is called with a new token of that user, another
path with the user logged in). For each: the request through Django's test client in this process,
10 runs after 3 (median and slowest), then each SELECT it ran replayed 7 times on the same
connection, the fastest of each summed: what the database needs, whatever Kehu does around it.
One JSON object a line on standard output. `kehu.bench.run` calls it for every generated scenario
still over budget after its second measurement, and shows both figures beside it."""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import time
from collections.abc import Iterable, Iterator

WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE)\b")


def floors(entries: Iterable[tuple[str, str]], runs: int = 10, replays: int = 7) -> Iterator[dict]:
    """(username, path) -> {user, path, status, p50_ms, max_ms, sql_floor_ms, queries} (Django set up)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kehu.accounts.models import ApiToken, User

    clients: dict = {}

    def client(username: str, api: bool) -> Client:
        if (username, api) not in clients:
            user = User.objects.get(username=username)
            if api:
                _token, secret = ApiToken.issue(user, name="bench floor")
                clients[username, api] = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {secret}")
            else:
                clients[username, api] = Client(HTTP_HOST="127.0.0.1")
                clients[username, api].force_login(user)
        return clients[username, api]

    def get(c: Client, path: str):
        response = c.get(path)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        return response

    for username, path in entries:
        c = client(username, path.startswith("/api/"))
        for _i in range(3):
            get(c, path)
        times = []
        for _i in range(runs):
            started = time.perf_counter()
            response = get(c, path)
            times.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            get(c, path)
        floor = _replay(connection, [q["sql"] for q in queries.captured_queries], replays)
        yield {"user": username, "path": path, "status": response.status_code,
               "p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
               "sql_floor_ms": round(floor, 2), "queries": len(queries.captured_queries)}


def _replay(connection, statements: list[str], replays: int) -> float:
    """The fastest of `replays` runs of each read (SELECT, EXPLAIN), summed (ms). On PostgreSQL the request's
    transactions and SET LOCALs are replayed around them (a probe's plan depends on them); writes
    are not replayed. SQLite's captured log has a BEGIN without its COMMIT: SELECTs only there."""
    reads = ("SELECT", "WITH", "EXPLAIN")
    kinds = reads + (("SET", "BEGIN", "COMMIT", "ROLLBACK") if connection.vendor == "postgresql" else ())
    words = [(sql.lstrip().split(None, 1)[0].upper(), sql) for sql in statements]
    # a read's first word hides a write only in a CTE (WITH … INSERT)
    plan = [(word, sql) for word, sql in words if word in kinds and (word != "WITH" or not WRITES.search(sql))]
    best = [float("inf")] * len(plan)
    with connection.cursor() as cursor:
        for _round in range(replays):
            open_transaction = False
            for i, (word, sql) in enumerate(plan):
                started = time.perf_counter()
                cursor.execute(sql)
                if word in reads:
                    cursor.fetchall()
                    best[i] = min(best[i], time.perf_counter() - started)
                open_transaction = (open_transaction or word == "BEGIN") and word not in ("COMMIT", "ROLLBACK")
            if open_transaction:
                cursor.execute("ROLLBACK")
    return sum(b for b in best if b != float("inf")) * 1000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    import django

    django.setup()
    with open(args.file, encoding="utf-8") as lines:
        entries = [tuple(line.split(None, 1)) for line in lines if line.strip()]
    for row in floors((username, path.strip()) for username, path in entries):
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
