"""Many shipments of the last units at once, on real concurrent connections: exactly the stock on
hand is shipped, the rest are refused, the balance never goes below zero and equals the ledger sum.

PostgreSQL: the threads use the test database (each thread its own connection). SQLite: the test
database is in memory (shared cache, where a second writer fails instead of waiting), so the
committed test data is copied into a database file and the threads' connections open that file:
WAL, busy timeout and `BEGIN IMMEDIATE`, as the application runs (kehu/settings.py)."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Sum

from kehu.catalog.models import Product, StockBalance, StockMove
from kehu.catalog.services import move_stock
from kehu.catalog.testing import make_product
from kehu.core.testing.concurrency import THREADS, run_threads  # its shared_database fixture: conftest.py
from kehu.core.testing.factories import make_user


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("stock, per_shipment", [(1, 1), (5, 2)])
def test_concurrent_shipments_of_the_last_units(shared_database, stock, per_shipment):
    user = make_user("warehouse_clerk")
    product = make_product(user, name="最后一台样机", stock=stock)
    thread_database = shared_database()
    shipped: list[Decimal] = []
    refused: list[str] = []
    lock = threading.Lock()
    state = {}

    def work(i):
        thread_database()
        try:
            move_stock(product, -per_shipment, "shipment", user, document=("order", i, f"DD{i:04d}"))
            with lock:
                shipped.append(Decimal(per_shipment))
        except ValidationError as exc:
            with lock:
                refused.append(" ".join(exc.messages))

    run_threads(work)

    def check():  # read where the threads wrote
        thread_database()
        try:
            state["balance"] = StockBalance.objects.get(product=product).on_hand
            state["ledger"] = StockMove.objects.filter(product=product).aggregate(s=Sum("quantity"))["s"]
            state["moves"] = StockMove.objects.filter(product=product).count()
            state["on_hand"] = Product.objects.get(pk=product.pk).on_hand
            state["negative"] = StockMove.objects.filter(product=product, balance_after__lt=0).exists()
        finally:
            connections.close_all()

    t = threading.Thread(target=check)
    t.start()
    t.join()
    expected = stock // per_shipment
    assert len(shipped) == expected and len(refused) == THREADS - expected, (shipped, refused)
    assert all("最后一台样机" in message for message in refused)
    assert state["balance"] == stock - expected * per_shipment >= 0
    assert state["balance"] == state["ledger"] == state["on_hand"]
    assert state["moves"] == 1 + expected and not state["negative"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_first_moves_create_one_balance_row(shared_database):
    """No balance row yet: every thread's receipt creates or finds the same row (INSERT … ON
    CONFLICT DO NOTHING, then the row lock), none fails, none is lost."""
    user = make_user("receiver")
    product = make_product(user, name="新到的商品")
    thread_database = shared_database()
    state = {}

    def work(i):
        thread_database()
        move_stock(product, 2, "receipt", user)

    run_threads(work)

    def check():
        thread_database()
        try:
            state["rows"] = list(StockBalance.objects.filter(product=product).values_list("on_hand", flat=True))
            state["on_hand"] = Product.objects.get(pk=product.pk).on_hand
        finally:
            connections.close_all()

    t = threading.Thread(target=check)
    t.start()
    t.join()
    assert state["rows"] == [2 * THREADS] and state["on_hand"] == 2 * THREADS
