"""The data-quality scan's similar names (issue 15), on the database of DATABASE_URL (migrated).

    # a generated data set: rename 1 % of the customers to a variant of another customer's name
    DATABASE_URL=sqlite:////tmp/qs/kehu.sqlite3 python scripts/bench_similar_names.py --rename
    # a million customers with only the columns a customer needs (the generator's names, 1 % variants)
    DATABASE_URL=postgres://kehu@127.0.0.1:54352/kehu_m1 python scripts/bench_similar_names.py --insert 1000000

Then, either way, times `scan_similar_names` alone and the four duplicate kinds (`--runs` times), and
counts how many renamed customers are in a group. A variant moves the place into brackets and
changes the legal form (北京华信科技有限公司 → 华信科技（北京）股份有限公司); an English name gets a typo
(Blue River Trading → Blue River Tradings)."""

import argparse
import datetime
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from kehu.bench.generate import (  # noqa: E402
    BRAND_CHARS,
    CITIES,
    CN_SUFFIXES,
    EN_FIRST,
    EN_KIND,
    EN_SECOND,
    EN_SUFFIXES,
    INDUSTRY_WORDS,
)
from kehu.customers import normalize, quality  # noqa: E402
from kehu.customers.models import Customer, QualityIssue, QualityScan  # noqa: E402

PLACES = sorted({c for _p, c in CITIES}, key=len, reverse=True)


def variant(name: str) -> str | None:
    city = next((c for c in PLACES if name.startswith(c)), None)
    if city:
        rest = name[len(city):]
        for legal in ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司"):
            if rest.endswith(legal):
                rest = rest[: -len(legal)]
                break
        return f"{rest}（{city}）" + random.choice(["有限公司", "股份有限公司", ""])
    words = name.split()
    if len(words) < 3:  # a variant already
        return None
    words[2] += "s"
    return " ".join(words)


def generated_name() -> str:
    if random.random() < 0.75:
        return (random.choice(CITIES)[1] + random.choice(BRAND_CHARS) + random.choice(BRAND_CHARS)
                + random.choice(INDUSTRY_WORDS) + random.choice(CN_SUFFIXES))
    return f"{random.choice(EN_FIRST)} {random.choice(EN_SECOND)} {random.choice(EN_KIND)} {random.choice(EN_SUFFIXES)}"


def rename() -> None:
    rows = list(Customer.objects.order_by("id").values_list("id", "name"))
    updates = []
    for _i in range(len(rows) // 100):
        new = variant(random.choice(rows)[1])
        if new:
            updates.append((new, normalize.name_key(new), random.choice(rows)[0]))
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany("UPDATE customers_customer SET name = %s, name_key = %s WHERE id = %s", updates)
    print(f"{len(updates)} customers renamed to a variant of another's name")


def insert(n: int) -> None:
    names = [generated_name() for _i in range(n)]
    for _i in range(n // 100):
        new = variant(random.choice(names))
        if new:
            names[random.randrange(n)] = new
    now = datetime.datetime.now(datetime.UTC).isoformat()
    cols = ["id", "created_at", "updated_at", "version", "custom_fields", "number", "name", "name_key", "grade",
            "status", "country", "province", "city", "address", "phone", "email", "website", "needs", "notes",
            "deal_products", "search_text", "last_activity_at", "order_count", "revenue", "gross_profit",
            "amount_received", "receivables"]
    sql = f"INSERT INTO customers_customer ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
    started = time.monotonic()
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM customers_customer")
        first = cur.fetchone()[0] + 1
        for off in range(0, n, 50000):
            rows = [(first + k, now, now, 1, "{}", f"M{first + k:012d}", names[k], normalize.name_key(names[k]), "",
                     "active", "中国", "", "", "", "", "", "", "", "", "", " ", now, 0, 0, 0, 0, 0)
                    for k in range(off, min(n, off + 50000))]
            with transaction.atomic():
                cur.executemany(sql, rows)
            print(f"{off + len(rows)} customers, {time.monotonic() - started:.0f} s", flush=True)
        cur.execute("ANALYZE")


def measure(runs: int) -> None:
    print(connection.vendor, Customer.objects.count(), "customers; load", os.getloadavg())
    for _run in range(runs):
        QualityIssue.objects.all().delete()
        scan = QualityScan.objects.create()
        started = time.monotonic()
        with transaction.atomic():
            quality.scan_similar_names(scan)
        alone = time.monotonic() - started
        QualityIssue.objects.all().delete()
        started = time.monotonic()
        with transaction.atomic():
            counts = quality.scan_duplicates(scan)
        print(f"similar names alone {alone:.2f} s; the four duplicate kinds {time.monotonic() - started:.2f} s; "
              f"groups {dict(counts['groups'])}; in groups {dict(counts['in_groups'])}")
    grouped = set(QualityIssue.objects.filter(scan=scan, kind=QualityIssue.Kind.DUP_SIMILAR)
                  .values_list("customer_id", flat=True))
    for label, q in (("bracketed variants", {"name__contains": "（"}), ("typos", {"name__regex": r"ss "})):
        ids = list(Customer.objects.filter(**q).values_list("id", flat=True))
        print(f"{label}: {len(ids)}, in a similar-name group: {sum(pk in grouped for pk in ids)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rename", action="store_true", help="rename 1 %% of the customers to variants first")
    parser.add_argument("--insert", type=int, default=0, help="insert N customers (names only) first")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    random.seed(args.seed)
    if args.insert:
        insert(args.insert)
    if args.rename:
        rename()
    measure(args.runs)
