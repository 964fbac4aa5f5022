"""The demo's quotations and orders (`kehu demo`): for the demo customers, quotations in every
state and orders in every state — created, processing, partly shipped, shipped, delivered, late and
cancelled — made through the services, so stock, totals, the timeline and the customers' figures are
what users would have produced. Loaded once: nothing happens when orders exist already."""

import datetime
import random
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kehu.catalog.models import Product
from kehu.core.registry import registry
from kehu.customers.models import Customer

from . import services
from .models import Order, Quotation

TITLES = ["办公设备采购", "网络改造项目", "年度软件订阅", "会议室升级", "新办公室开荒", "打印耗材补货"]


def _lines(rng, goods, services_):
    picked = rng.sample(goods, k=min(len(goods), rng.randint(1, 3)))
    lines = [{"product": p, "quantity": Decimal(rng.choice([1, 2, 3, 5])), "discount_pct": Decimal(
        rng.choice(["0", "0", "5", "10"]))} for p in picked]
    if services_ and rng.random() < .5:
        lines.append({"product": rng.choice(services_), "quantity": Decimal(rng.choice([1, 10, 20]))})
    return lines


def load(users: dict, rng: random.Random | None = None) -> int:
    """Create the demo quotations and orders once; returns the number of orders made (0: already there)."""
    if Order.all_objects.exists() or not Product.all_objects.exists():
        return 0
    rng = rng or random.Random(2026)
    goods = list(Product.objects.filter(kind="goods", active=True).order_by("code"))
    service_products = list(Product.objects.filter(kind="service", active=True).order_by("code"))
    customers = list(Customer.objects.filter(owner__isnull=False).select_related("owner").order_by("id")[:40])
    quotation_flow = registry.get("quotation").workflow
    order_flow = registry.get("order").workflow
    today = timezone.localdate()
    made = 0
    with transaction.atomic():
        for n, customer in enumerate(customers):
            owner = customer.owner
            title = f"{customer.name[:10]} · {TITLES[n % len(TITLES)]}"
            # a quotation, in one of its states; every third one is accepted and became the order
            quotation = Quotation(customer=customer, owner=owner, created_by=owner, title=title,
                                  quoted_on=today - datetime.timedelta(days=20 + n),
                                  valid_until=today + datetime.timedelta(days=rng.randint(-5, 30)),
                                  terms="款到发货；质保一年。")
            quotation.save()
            for line in _lines(rng, goods, service_products):
                services.save_line(quotation, owner, line)
            state = n % 6
            if state >= 1:
                quotation_flow.take(quotation, "send", owner, {})
            if state == 2:
                quotation_flow.take(quotation, "reject", owner, {"comment": "预算不足"})
            if state in (3, 4, 5):
                quotation_flow.take(quotation, "accept", owner, {})
                order = services.order_from_quotation(quotation, owner)
            else:
                order = Order(customer=customer, owner=owner, created_by=owner, title=title)
                order.save()
                for line in _lines(rng, goods, service_products):
                    services.save_line(order, owner, line)
            order = Order.objects.get(pk=order.pk)  # the lines' saves gave it new versions
            order.order_date = today - datetime.timedelta(days=n % 25)
            order.promised_date = today + datetime.timedelta(days=rng.randint(-6, 20))
            order.delivery_address = customer.address
            order.save()
            made += 1
            _advance(order, n % 7, owner, order_flow)
    return made


def _advance(order, state, owner, flow):
    """0 created, 1 processing, 2 partly shipped, 3-4 shipped, 5 delivered, 6 cancelled."""
    order = Order.objects.get(pk=order.pk)
    if state == 6:
        flow.take(order, "cancel", owner, {"comment": "客户改期，取消本单"})
        return
    if state >= 1:
        flow.take(order, "process", owner, {})
    if state >= 2:
        lines = [ln for ln in order.lines.select_related("product") if ln.to_ship > 0]
        if not lines:
            return
        try:
            if state == 2:  # half of the first line
                half = max((lines[0].to_ship / 2).quantize(Decimal(1)), Decimal(1))
                services.record_shipment(order, owner, {lines[0].pk: half}, carrier="顺丰速运",
                                         tracking_number=f"SF{order.pk:010d}")
                return
            services.record_shipment(order, owner, {ln.pk: ln.to_ship for ln in lines}, carrier="德邦物流",
                                     tracking_number=f"DB{order.pk:010d}")
        except ValidationError:  # stock ran out in the demo warehouse: the order waits, as real ones do
            return
    if state >= 5:
        order = Order.objects.get(pk=order.pk)
        if order.status == "shipped":
            flow.take(order, "deliver", owner, {"comment": "客户已签收"})
