"""Import of opportunities (issue 15): the customer by name or number in the user's scope, the stage
by its name in either language, amounts and dates coerced, the form's rules, undo."""

from decimal import Decimal

import pytest

from kehu.core.imports import jobs
from kehu.core.testing.imports import csv_bytes, run
from kehu.customers.testing import make_customer
from kehu.sales.models import Opportunity, Stage

pytestmark = pytest.mark.django_db


def test_opportunities_from_a_sheet(org):
    mine = make_customer(org.manager, "华东精密机械有限公司")
    theirs = make_customer(org.manager2, "别组的客户")
    stage = Stage.objects.filter(active=True, is_won=False, is_lost=False).order_by("order").last()
    rows = [["机会名称", "客户", "阶段", "金额", "预计成交日期"],
            ["二期扩容", "华东精密机械有限公司", stage.name, "¥120,000.50", "2027年3月1日"],
            ["按编号", mine.number, stage.name_en or stage.name, "80000", "2027-04-01"],
            ["别人的客户", theirs.name, stage.name, "1", ""],  # outside the manager's scope
            ["未知阶段", mine.name, "不存在的阶段", "1", ""],
            ["", mine.name, stage.name, "1", ""]]  # no title
    job = run(org.manager, csv_bytes(rows), key="opportunity", dry_only=True)
    assert (job.created, job.failed_rows) == (2, 3), job.errors
    messages = {e["line"]: e["message"] for e in job.errors}
    assert "data scope" in messages[4] and "不存在的阶段" in messages[5]
    job = run(org.manager, csv_bytes(rows), key="opportunity")
    assert job.status == "done" and job.created == 2, (job.status, job.error, job.errors)
    first = Opportunity.objects.get(title="二期扩容")
    assert (first.customer, first.stage, first.amount, str(first.expected_close)) == (
        mine, stage, Decimal("120000.50"), "2027-03-01")
    assert first.owner == org.manager  # the importing user, as the form starts
    assert Opportunity.objects.get(title="按编号").customer == mine
    jobs.undo(job, org.manager)
    assert not Opportunity.objects.filter(customer=mine).exists()
