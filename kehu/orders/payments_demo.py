"""The demo's payment plans, payments, refunds and invoices (`kehu demo`), for the demo orders and
contracts: delivered orders paid and invoiced, shipped ones partly paid, some orders with an
instalment past due (so My day's overdue panel and the list's "overdue" status show), contracts in
force with their plan and first payment. Made through kehu.orders.payments, so the order's payment
status, the customer's kept figures and the timeline are what users would have produced. Loaded
once: nothing happens when payments exist already."""

import datetime
import random
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kehu.core.models import DictItem
from kehu.core.money import round_money
from kehu.core.registry import registry

from . import payments
from .models import Contract, Invoice, Order, Payment

TAX = Decimal("0.13")


def _split(total: Decimal, shares) -> list[Decimal]:
    """`total` in parts by `shares` (fractions adding up to 1), the last part taking the cents left."""
    parts = [round_money(total * Decimal(s)) for s in shares[:-1]]
    return [*parts, total - sum(parts, Decimal("0"))]


def _plan(doc, user, today, shares, first_due_in, step):
    amounts = _split(payments.doc_total(doc), shares)
    rows = [{"due_on": today + datetime.timedelta(days=first_due_in + i * step), "amount": a}
            for i, a in enumerate(amounts)]
    payments.set_plan(doc, rows, user)
    return rows


def load(users: dict, rng: random.Random | None = None) -> int:
    """Create the demo payments once; returns the number of payments recorded (0: already there)."""
    if Payment.all_objects.exists() or not Order.all_objects.exists():
        return 0
    rng = rng or random.Random(2026)
    finance = users.get("finance") or users.get("admin")
    methods = list(DictItem.objects.filter(kind="payment_method", active=True).order_by("order", "id"))
    invoice_flow = registry.get("invoice").workflow
    today = timezone.localdate()
    made = 0

    def pay(doc, amount, days_ago, note=""):
        nonlocal made
        payments.record_payment(doc, amount, finance, received_on=today - datetime.timedelta(days=days_ago),
                                method=rng.choice(methods) if methods else None,
                                reference=f"HD{rng.randint(10**9, 10**10 - 1)}", notes=note)
        made += 1

    with transaction.atomic():
        orders = Order.objects.exclude(status=Order.Status.CANCELLED).filter(total__gt=0).order_by("id")
        for n, order in enumerate(orders.select_related("customer", "owner")):
            try:
                if order.status == Order.Status.DELIVERED:
                    # paid in full in two payments, invoiced; most invoices issued by finance
                    rows = _plan(order, order.owner, today, ("0.3", "0.7"), -40, 30)
                    pay(order, rows[0]["amount"], 38, "预付款")
                    pay(order, rows[1]["amount"], 8, "尾款")
                    invoice = payments.request_invoice(
                        order, order.total, round_money(order.total - order.total / (1 + TAX)),
                        Invoice.Type.SPECIAL if n % 2 else Invoice.Type.ORDINARY, order.owner)
                    if n % 3:
                        invoice_flow.take(invoice, "issue", finance,
                                          {"invoice_number": f"{rng.randint(10**7, 10**8 - 1)}"})
                elif order.status == Order.Status.SHIPPED:
                    # the deposit is in, the balance falls due after delivery
                    rows = _plan(order, order.owner, today, ("0.3", "0.7"), -15, 30)
                    pay(order, rows[0]["amount"], 14, "预付款")
                    if n % 2:  # the deposit's invoice asked for, not issued yet
                        payments.request_invoice(order, rows[0]["amount"],
                                                 round_money(rows[0]["amount"] - rows[0]["amount"] / (1 + TAX)),
                                                 Invoice.Type.ORDINARY, order.owner)
                elif order.status == Order.Status.PROCESSING:
                    # every other one has its deposit past due: an overdue order on My day
                    _plan(order, order.owner, today, ("0.5", "0.5"), -5 if n % 2 else 10, 45)
                elif n % 2:
                    _plan(order, order.owner, today, ("1",), 30, 0)
            except ValidationError:  # an order the demo cannot pay (nothing due): left unpaid, as some are
                continue
        for n, contract in enumerate(Contract.objects.filter(status=Contract.Status.ACTIVE, amount__gt=0)
                                     .select_related("owner").order_by("id")):
            try:
                rows = _plan(contract, contract.owner, today, ("0.3", "0.6", "0.1"), -60 + n * 7, 90)
                if rows[0]["due_on"] <= today:
                    pay(contract, rows[0]["amount"], max((today - rows[0]["due_on"]).days - 2, 0), "合同预付款")
            except ValidationError:
                continue
    return made
