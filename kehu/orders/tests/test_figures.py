"""The customer's kept order figures (kehu.orders.figures): after any sequence of what users do to
orders — create, change lines, move to another customer, cancel, delete, restore — the kept
figures equal what `kehu recompute` computes from the documents."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from kehu.core.registry import registry
from kehu.core.relations import delete_record, restore_record
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer
from kehu.orders import figures, services
from kehu.orders.models import Order
from kehu.orders.testing import make_order, service_line

pytestmark = pytest.mark.django_db

PRICES = ["0.10", "33.33", "1000.00", "0.01", "19.99", "12345.67"]
QUANTITIES = ["1", "3", "0.5", "2.333", "10"]


def _line(rng):
    return service_line(description=f"服务{rng.randint(1, 99)}", quantity=rng.choice(QUANTITIES),
                        unit_price=rng.choice(PRICES), tax_rate=rng.choice(["0", "6", "13"]),
                        discount_pct=rng.choice(["0", "33.33", "10"]))


def _assert_kept_equals_computed(customers):
    ids = [c.pk for c in customers]
    computed = figures.computed(ids)
    for pk in ids:
        assert figures.kept(pk) == computed[pk], pk


def test_a_new_order_sets_the_customers_figures(org):
    customer = make_customer(org.manager)
    order = make_order(org.manager, customer=customer, lines=[service_line(quantity="3", unit_price="0.10",
                                                                             tax_rate="13")])
    kept = figures.kept(customer.pk)
    assert kept["order_count"] == 1
    assert kept["revenue"] == order.total == Decimal("0.34")  # 0.30 + 13 % tax 0.039 -> 0.04
    assert kept["first_order_on"] == kept["last_order_on"] == order.order_date
    assert kept["receivables"] == Decimal("0.34")
    assert kept["gross_profit"] == Decimal("0.30")  # no cost on a free-text line


def test_a_cancelled_order_no_longer_counts(org):
    customer = make_customer(org.manager)
    order = make_order(org.manager, customer=customer)
    registry.get("order").workflow.take(order, "cancel", org.manager, {"comment": "客户取消"})
    kept = figures.kept(customer.pk)
    assert kept["order_count"] == 0 and kept["revenue"] == 0 and kept["first_order_on"] is None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_figures_equal_the_recomputation_after_random_operations(org, seed):
    rng = random.Random(seed)
    customers = [make_customer(org.manager) for _ in range(3)]
    orders: list[Order] = []
    rt = registry.get("order")
    today = timezone.localdate()
    for _step in range(40):
        op = rng.choice(["create", "create", "line", "line", "delete_line", "date", "move", "cancel",
                         "deliver", "delete", "restore"])
        live = [o for o in orders if o.deleted_at is None]
        created = [o for o in live if o.status == "created"]
        if op == "create" or not orders:
            orders.append(make_order(org.manager, customer=rng.choice(customers),
                                     lines=[_line(rng) for _ in range(rng.randint(1, 3))],
                                     order_date=today - timedelta(days=rng.randint(0, 400))))
        elif op == "line" and created:
            order = rng.choice(created)
            existing = list(order.lines.all())
            services.save_line(order, org.manager, _line(rng), line=rng.choice(existing) if existing and rng.random() < .5
                               else None)
        elif op == "delete_line" and created:
            order = rng.choice(created)
            line = order.lines.first()
            if line is not None:
                services.delete_line(order, org.manager, line)
        elif op == "date" and live:
            order = rng.choice(live)
            if order.status in ("created", "processing"):
                order.order_date = today - timedelta(days=rng.randint(0, 400))
                order.save()
        elif op == "move" and created:
            order = rng.choice(created)
            order.customer = rng.choice(customers)
            order.save()
        elif op == "cancel" and created:
            rt.workflow.take(rng.choice(created), "cancel", org.manager, {"comment": "测试"})
        elif op == "deliver" and created:
            order = rng.choice(created)
            for step in ("process", "ship", "deliver"):
                order = rt.workflow.take(order, step, org.manager, {})
        elif op == "delete" and live:
            order = rng.choice(live)
            if order.status == "cancelled" or not order.shipments.exists():
                delete_record(rt, order, org.manager)
        elif op == "restore":
            gone = [o for o in orders if o.deleted_at is not None]
            if gone:
                restore_record(rt, rng.choice(gone), org.manager)
        orders = [Order.all_objects.get(pk=o.pk) for o in orders]
        _assert_kept_equals_computed(customers)
    assert sum(figures.kept(c.pk)["order_count"] for c in customers) == sum(
        1 for o in orders if o.deleted_at is None and o.status != "cancelled")
    # the command finds nothing to correct
    assert figures.recompute_all() == 0


def test_recompute_repairs_figures_changed_behind_its_back(org, capsys):
    customer = make_customer(org.manager)
    order = make_order(org.manager, customer=customer)
    Customer.all_objects.filter(pk=customer.pk).update(order_count=7, revenue=Decimal("1.00"), first_order_on=None)
    Order.all_objects.filter(pk=order.pk).update(amount_received=Decimal("5.00"))  # no payment says so
    call_command("recompute")
    assert "1" in capsys.readouterr().out
    kept = figures.kept(customer.pk)
    assert kept["order_count"] == 1 and kept["revenue"] == order.total and kept["first_order_on"] == order.order_date
    assert Order.objects.get(pk=order.pk).amount_received == 0
    assert kept["receivables"] == order.total
