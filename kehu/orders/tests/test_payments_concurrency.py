"""Payments of one order at once, on real concurrent connections (as kehu/catalog/tests/
test_concurrency.py: on SQLite the committed data is copied to a file the threads share): exactly
what the order is worth is received, every other payment is refused as an overpayment, and the
kept figure equals the payments' sum."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from kehu.core.testing.concurrency import THREADS, run_threads  # its shared_database fixture: conftest.py
from kehu.core.testing.factories import make_user
from kehu.orders.models import Order, Payment
from kehu.orders.payments import record_payment
from kehu.orders.testing import make_order, service_line


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_payments_never_overpay(shared_database):
    user = make_user("cashier")
    order = make_order(user, lines=[service_line(unit_price="1000.00", tax_rate="0")])
    thread_database = shared_database()
    paid, refused = [], []
    lock = threading.Lock()

    def work(i):
        thread_database()
        try:
            record_payment(order, Decimal("300.00"), None, reference=f"T{i}")  # None: the system, no right check
            with lock:
                paid.append(i)
        except ValidationError as exc:
            with lock:
                refused.append(" ".join(exc.messages))

    run_threads(work)
    state = {}

    def check():
        thread_database()
        try:
            state["rows"] = sorted(Payment.objects.filter(order=order).values_list("amount", flat=True))
            state["kept"] = Order.all_objects.get(pk=order.pk).amount_received
        finally:
            connections.close_all()

    t = threading.Thread(target=check)
    t.start()
    t.join()
    assert len(paid) == 3 and len(refused) == THREADS - 3, (paid, refused)
    assert state["rows"] == [Decimal("300.00")] * 3 and state["kept"] == Decimal("900.00")
