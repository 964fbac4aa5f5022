"""The demo's campaigns (`kehu demo`): a completed trade show and seminar with members who
responded and converted (orders of theirs fall in the attribution window), an active WeChat
campaign, a planned mailing and a cancelled one. Loaded once: nothing happens when campaigns exist."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kehu.core.models import DictItem
from kehu.core.registry import registry
from kehu.customers.models import Customer

from .models import Campaign, CampaignMember

# name, type, channel, days from today to the start, length in days, budget, actual cost, expected revenue,
# state, members (how many, responded, converted)
CAMPAIGNS = [
    ("2026 上海工业博览会", "offline", "trade_show", -75, 4, "80000", "76500", "500000", "completed", (14, 6, 3)),
    ("智能制造研讨会（苏州站）", "offline", "seminar", -40, 1, "20000", "18200", "150000", "completed", (10, 5, 2)),
    ("微信公众号春季推广", "online", "wechat", -10, 30, "15000", "6000", "80000", "active", (12, 4, 1)),
    ("老客户回访邮件", "online", "email", 14, 10, "2000", "0", "30000", "planned", (8, 0, 0)),
    ("线上广告投放（暂停）", "online", "online_ads", -20, 20, "30000", "3000", "0", "cancelled", (0, 0, 0)),
]


def load(users: dict) -> int:
    if Campaign.all_objects.exists():
        return 0
    organiser = users.get("supervisor") or users.get("admin")
    if organiser is None:
        return 0
    channels = {i.code: i for i in DictItem.objects.filter(kind="campaign_channel")}
    customers = list(Customer.objects.filter(owner__isnull=False).order_by("id")[:60])
    wf = registry.get("campaign").workflow
    today = timezone.localdate()
    now = timezone.now()
    offset = 0
    with transaction.atomic():
        for (name, kind, channel, start, days, budget, cost, expected, state, (n, responded, converted)) in CAMPAIGNS:
            campaign = Campaign(name=name, type=kind, channel=channels.get(channel),
                                start_date=today + datetime.timedelta(days=start),
                                end_date=today + datetime.timedelta(days=start + days), budget=Decimal(budget),
                                actual_cost=Decimal(cost), expected_revenue=Decimal(expected),
                                description=f"{name}：邀请重点客户参加，现场演示新产品。", owner=organiser,
                                created_by=organiser)
            campaign.full_clean()
            campaign.save()
            for i, customer in enumerate(customers[offset:offset + n]):
                status = "converted" if i < converted else "responded" if i < responded else \
                    "declined" if i == n - 1 and n > 6 else "invited"
                member = CampaignMember(campaign=campaign, customer=customer, status=status, owner=customer.owner,
                                        created_by=customer.owner, notes="现场留资" if kind == "offline" else "")
                member.save()
                if status in ("responded", "converted"):  # when they answered: during the campaign
                    when = now - datetime.timedelta(days=max(0, -start - 1))
                    CampaignMember.all_objects.filter(pk=member.pk).update(
                        responded_at=when, converted_at=when if status == "converted" else None)
            offset += n
            if state in ("active", "completed"):
                wf.take(campaign, "start", None, {})
            if state == "completed":
                wf.take(Campaign.objects.get(pk=campaign.pk), "complete", None, {})
            if state == "cancelled":
                wf.take(campaign, "cancel", None, {"comment": "预算调整，暂停投放"})
    return len(CAMPAIGNS)
