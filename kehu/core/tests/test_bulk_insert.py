"""The imports' bulk writer (kehu/core/imports/bulk.py): rows equal to what bulk_create writes, found
by the search index afterwards, and on SQLite written through one INSERT ... SELECT per call (a
full-text index flushes its pending terms at every statement, so a row per statement was 4x slower)."""

from decimal import Decimal

import pytest
from django.db import connection, transaction

from kehu.core.imports import bulk
from kehu.core.testing.factories import make_user
from kehu.customers.models import Customer

pytestmark = pytest.mark.django_db

FIELDS = ("name", "phone", "email", "owner_id", "created_by_id", "employees", "annual_revenue", "first_contact_date",
          "custom_fields", "search_text", "status", "grade", "revenue", "order_count")


def customers(owner, prefix, n):
    out = []
    for i in range(n):
        c = Customer(name=f"{prefix}批量写入{i}号有限公司", phone=f"+86137{i:08d}", email=f"b{i}@{prefix}.example.com",
                     owner=owner, created_by=owner, employees=10 + i, annual_revenue=Decimal("1234.50"),
                     first_contact_date="2026-01-05", custom_fields={"k": i} if i % 2 else {})
        out.append(c)
    Customer.numbering.fill_many(out)
    for c in out:
        c.search_text = c.build_search_text()
    return out


def stored(ids):
    rows = Customer.all_objects.filter(pk__in=ids).order_by("pk").values(*FIELDS)
    return [{**r, "name": r["name"][1:], "email": r["email"].split("@")[0],
             "search_text": None} for r in rows]


def test_rows_equal_bulk_creates_and_ids_are_given():
    owner = make_user("bulk_owner", "account_manager")
    mine = customers(owner, "甲", 30)
    theirs = customers(owner, "乙", 30)
    with transaction.atomic():
        bulk.insert(Customer, mine)
    Customer.objects.bulk_create(theirs)
    assert all(c.pk and not c._state.adding for c in mine)
    assert len({c.pk for c in mine}) == 30
    assert stored([c.pk for c in mine]) == stored([c.pk for c in theirs])
    one = Customer.objects.get(pk=mine[3].pk)
    assert one.updated_at == Customer.objects.get(pk=mine[20].pk).updated_at  # auto_now: the batch's moment
    assert one.annual_revenue == Decimal("1234.50") and one.custom_fields == {"k": 3}


def test_written_rows_are_found_by_the_search_index():
    owner = make_user("bulk_owner", "account_manager")
    rows = customers(owner, "丙", 50)
    with transaction.atomic():
        bulk.insert(Customer, rows)
    from kehu.customers.forms import CustomerFilterSet

    found = CustomerFilterSet({"q": "丙批量写入37号"}, queryset=Customer.objects.all()).qs
    assert list(found.values_list("pk", flat=True)) == [rows[37].pk]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # raises when the index and the table disagree
            cursor.execute("INSERT INTO customers_customer_fts(customers_customer_fts, rank) VALUES ('integrity-check', 1)")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL writes with COPY: one statement already")
def test_sqlite_writes_the_table_in_one_statement():
    owner = make_user("bulk_owner", "account_manager")
    rows = customers(owner, "丁", 200)
    seen = []
    connection.ensure_connection()
    connection.connection.set_trace_callback(seen.append)
    try:
        with transaction.atomic():
            bulk.insert(Customer, rows)
    finally:
        connection.connection.set_trace_callback(None)
    into_table = [s for s in seen if s.lstrip().upper().startswith("INSERT INTO") and "customers_customer\"" in
                  s.split("(")[0] and "temp." not in s.split("(")[0]]
    # one statement (SQLite traces it again at each trigger it runs; a statement per row would give
    # each row's own text, its values expanded)
    assert len(set(into_table)) == 1, sorted({s[:90] for s in into_table})[:3]
    assert Customer.all_objects.filter(name__startswith="丁批量写入").count() == 200
