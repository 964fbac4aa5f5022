"""The demo's contracts (`kehu demo`): contracts of the demo customers in every state, some in force
ending within 30 / 60 / 90 days, one renewed; put in force, completed and terminated through the
workflow (so the history and the timeline show it). Loaded once: nothing happens when contracts
exist already."""

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kehu.core.registry import registry

from . import contracts
from .models import Contract

TITLES = ["年度软件服务合同", "CRM 系统采购合同", "网络设备采购及安装合同", "硬件维保服务合同", "实施与培训服务合同",
          "办公设备框架采购合同"]
TERMS = "合同签订后 7 日内预付 30%，验收合格后支付 60%，质保期满支付 10%。"


def load(users: dict, count: int = 24) -> int:
    from kehu.customers.models import Customer

    if Contract.all_objects.exists():
        return 0
    rng = random.Random(2026)
    customers = list(Customer.objects.filter(owner__isnull=False).select_related("owner").order_by("id")[:count])
    workflow = registry.get("contract").workflow
    today = timezone.localdate()
    made = 0
    with transaction.atomic():
        for i, customer in enumerate(customers):
            owner = customer.owner
            kind = i % 6  # draft, expiring soon (30/60/90), in force, completed, terminated
            length = rng.choice([180, 364, 729])
            ends_in = {1: 12 + i % 3 * 25, 2: 200}.get(kind, rng.randint(-200, 300))
            ends_on = today + datetime.timedelta(days=ends_in)
            starts_on = ends_on - datetime.timedelta(days=length)
            contract = Contract(customer=customer, owner=owner, created_by=owner, title=TITLES[i % len(TITLES)],
                                signed_on=min(starts_on, today) - datetime.timedelta(days=rng.randint(1, 20)),
                                starts_on=starts_on, ends_on=ends_on, terms=TERMS,
                                amount=Decimal(rng.randrange(20_000, 600_000, 1_000)))
            if kind == 0:
                contract.signed_on = None
            contract.save()
            made += 1
            if kind in (1, 2, 3, 4):
                workflow.take(contract, "activate", owner)
            if kind in (3,):
                workflow.take(contract, "complete", owner, {"comment": "全部交付，尾款已结清"})
                contracts.renew_contract(Contract.objects.get(pk=contract.pk), owner)
                made += 1
            if kind == 4:
                workflow.take(contract, "terminate", owner, {"comment": "客户业务调整，双方协商提前终止"})
            if kind == 5:
                workflow.take(contract, "terminate", owner, {"comment": "客户放弃采购"})
    return made
