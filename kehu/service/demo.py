"""The demo's tickets and feedback (`kehu demo`): unassigned tickets, assigned ones (some past
their due times: breached), handled, one archived, and complaints, suggestions and praise, one
complaint escalated. Loaded once: nothing happens when tickets exist already."""

import datetime
import random

from django.utils import timezone

from kehu.core.models import DictItem
from kehu.core.registry import registry
from kehu.customers.models import Customer

from . import services, tasks
from .models import Feedback, Ticket

SUMMARIES = ["打印机无法连接网络", "系统登录缓慢", "发票抬头需要更正", "数控机床报警 E-203", "投影仪无法开机",
             "移动端无法同步客户", "报表导出乱码", "申请增加用户授权"]


def load(users: dict, rng: random.Random | None = None) -> int:
    if Ticket.all_objects.exists():
        return 0
    rng = rng or random.Random(2026)
    types = {i.code: i for i in DictItem.objects.filter(kind="ticket_type")}
    customers = list(Customer.objects.filter(owner__isnull=False).select_related("owner").order_by("id")[:30])
    if not customers or "service" not in users:
        return 0
    wf = registry.get("ticket").workflow
    agent, sup = users["service"], users["supervisor"]
    now = timezone.now()
    made = 0
    for n, customer in enumerate(customers[:16]):
        created = now - datetime.timedelta(hours=rng.choice([1, 3, 30, 80, 150]))
        t = Ticket(type=types[rng.choice(list(types))], priority=rng.choice(["low", "normal", "normal", "high",
                                                                            "urgent"]),
                   channel=rng.choice(["phone", "email", "wechat", "web"]), customer=customer,
                   summary=SUMMARIES[n % len(SUMMARIES)], request="客户来电反映：" + SUMMARIES[n % len(SUMMARIES)],
                   owner=customer.owner, created_by=customer.owner, created_at=created)
        t.save()
        made += 1
        if n % 4 == 0:
            continue  # unassigned
        wf.take(t, "assign", sup, {"handler": agent.pk})
        if n % 4 == 1:
            continue  # assigned (old ones breach)
        services.add_handling(t, agent, description="电话联系客户，确认问题并远程处理", minutes=rng.choice([10, 20, 45]))
        wf.take(t, "handle", agent, {"handling": "已远程处理，客户确认恢复正常"})
        if n % 4 == 3:
            wf.take(t, "feedback", agent, {"result": "问题解决", "satisfaction": rng.choice([4, 5])})
            if n == 3:
                wf.take(t, "archive", agent, {})
    tasks.mark_breaches.call(now.isoformat())
    for n, customer in enumerate(customers[16:24]):
        fb = Feedback(kind=("complaint", "suggestion", "praise")[n % 3], source=rng.choice([s for s, _l in
                                                                                          Feedback.Source.choices]),
                      customer=customer, content=("交付延期一周，客户要求说明原因", "希望报表可以按周自动发送",
                                                  "实施顾问非常专业，感谢")[n % 3],
                      owner=customer.owner, created_by=customer.owner)
        fb.save()
        if n == 0:
            services.escalate(fb, customer.owner)
    return made
