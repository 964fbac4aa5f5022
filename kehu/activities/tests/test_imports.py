"""Import of follow-ups (issue 15): a call history from a spreadsheet, the customer by name or
number in the user's scope, the method from the dictionary, the time coerced, undo."""

import pytest
from django.utils import timezone

from kehu.activities.models import FollowUp
from kehu.core.imports import jobs
from kehu.core.testing.imports import csv_bytes, run
from kehu.customers.testing import make_customer

pytestmark = pytest.mark.django_db


def test_followups_from_a_sheet(org):
    mine = make_customer(org.manager, "华东精密机械有限公司")
    rows = [["客户", "跟进时间", "跟进方式", "主题", "内容"],
            ["华东精密机械有限公司", "2026/11/5", "电话", "报价沟通", "客户希望下周收到报价"],
            [mine.number, "2026-11-20", "Visit", "上门拜访", "看了产线"],
            ["没有这个客户", "2026-11-21", "电话", "x", "y"]]
    job = run(org.manager, csv_bytes(rows), key="followup", dry_only=True)
    assert (job.created, job.failed_rows) == (2, 1), job.errors
    job = run(org.manager, csv_bytes(rows), key="followup")
    call = FollowUp.objects.get(topic="报价沟通")
    assert call.customer == mine and call.method.code == "phone" and call.owner == org.manager
    assert timezone.localtime(call.occurred_at).date().isoformat() == "2026-11-05"
    assert FollowUp.objects.get(topic="上门拜访").method.code == "visit"
    jobs.undo(job, org.manager)
    assert not FollowUp.objects.filter(customer=mine).exists()
