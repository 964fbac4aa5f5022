"""The floor of a request's SQL beside the request, for scenarios that miss their budget.

    KEHU_VAR_DIR=… DATABASE_URL=sqlite:///…/kehu.sqlite3 python -m kehu.bench.floor FILE

FILE has one `USERNAME PATH` a line (an API path is called with a new token of that user, another
path with the user logged in). For each: the request through Django's test client in this process,
10 runs after 3 (median and slowest), then each SELECT it ran replayed 7 times on the same
connection, the fastest of each summed: what the database needs, whatever Kehu does around it.
One JSON object a line on standard output. Used for docs/benchmarks.md ("fifth round")."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    import django

    django.setup()
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
                clients[username, api] = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
            else:
                clients[username, api] = Client()
                clients[username, api].force_login(user)
        return clients[username, api]

    with open(args.file, encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            username, path = line.split(None, 1)
            path = path.strip()
            c = client(username, path.startswith("/api/"))
            for _i in range(3):
                c.get(path)
            times = []
            for _i in range(10):
                started = time.perf_counter()
                response = c.get(path)
                times.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(connection) as queries:
                c.get(path)
            floor = 0.0
            for query in queries.captured_queries:
                sql = query["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                best = float("inf")
                with connection.cursor() as cursor:
                    for _i in range(7):
                        started = time.perf_counter()
                        cursor.execute(sql)
                        cursor.fetchall()
                        best = min(best, time.perf_counter() - started)
                floor += best * 1000
            print(json.dumps({"user": username, "path": path, "status": response.status_code,
                              "p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
                              "sql_floor_ms": round(floor, 1), "queries": len(queries.captured_queries)},
                             ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
