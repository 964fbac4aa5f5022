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


def test_closed_opportunities_keep_the_dates_of_their_past(org):
    """Another system's won and lost deals come in closed when they closed, created when they were
    created; their stage history starts then; a won one makes the customer won, as in Kehu."""
    import datetime

    from kehu.core.models import DictItem
    from kehu.customers.models import Customer
    from kehu.sales.models import StageChange

    mine = make_customer(org.manager, "华东精密机械有限公司")
    other = make_customer(org.manager, "北方重工集团")
    types_before = {c.pk: (c.type_id, c.signed_on, c.deal_amount) for c in (mine, other)}
    won = Stage.objects.get(active=True, is_won=True)
    lost = Stage.objects.get(active=True, is_lost=True)
    open_stage = Stage.objects.filter(active=True, is_won=False, is_lost=False).order_by("order").first()
    reason = DictItem.objects.filter(kind="lost_reason").first()
    rows = [["机会名称", "客户", "阶段", "金额", "成交产品", "签约日期", "输单原因", "预计成交日期", "创建日期", "关闭日期"],
            ["去年的单", mine.name, won.name, "50000", "离心泵", "2025-06-18", "", "", "2025-03-01", "2025-06-20 16:00"],
            ["签约即关闭", other.name, won.name_en or won.name, "8000", "球阀", "2025-07-01", "", "", "", ""],
            ["丢了", mine.name, lost.name, "1", "", "", reason.label, "2025-02-01", "2025-01-05", ""],
            ["还在谈", mine.name, open_stage.name, "1", "", "", "", "2027-01-01", "2025-09-09", ""]]
    job = run(org.manager, csv_bytes(rows), key="opportunity")
    assert (job.status, job.created, job.failed_rows) == ("done", 4, 0), (job.error, job.errors)
    tz = datetime.timezone(datetime.timedelta(hours=8))
    got = {o.title: o for o in Opportunity.objects.filter(customer__in=[mine, other])}
    first = got["去年的单"]
    assert (first.created_at, first.closed_at) == (datetime.datetime(2025, 3, 1, tzinfo=tz),
                                                   datetime.datetime(2025, 6, 20, 16, tzinfo=tz))
    # no closing date: a won deal closed when it was signed, a lost one by its expected close date
    assert got["签约即关闭"].closed_at == got["签约即关闭"].created_at == datetime.datetime(2025, 7, 1, tzinfo=tz)
    assert (got["丢了"].closed_at, got["丢了"].created_at) == (datetime.datetime(2025, 2, 1, tzinfo=tz),
                                                           datetime.datetime(2025, 1, 5, tzinfo=tz))
    assert got["还在谈"].closed_at is None and got["还在谈"].created_at == datetime.datetime(2025, 9, 9, tzinfo=tz)
    assert [(c.to_stage, c.changed_at) for c in StageChange.objects.filter(opportunity=first)] == [
        (won, first.closed_at)]
    mine.refresh_from_db()
    assert mine.type.code == "won" and mine.signed_on == datetime.date(2025, 6, 18)
    # the History says each closed one came in so, at its closing time
    from kehu.core.registry import registry

    assert [(r.transition, r.to_state, r.at) for r in registry.get("opportunity").workflow.history(first)] == [
        ("import", str(won.pk), first.closed_at)]
    # undo takes the wins back: the customers are as they were
    second = run(org.manager, csv_bytes([rows[0], ["再赢一单", mine.name, won.name, "900", "球阀", "2025-08-01", "", "",
                                                   "", ""]]), key="opportunity")
    assert second.created == 1 and Customer.objects.get(pk=mine.pk).signed_on == datetime.date(2025, 8, 1)
    jobs.undo(second, org.manager)
    assert Customer.objects.get(pk=mine.pk).signed_on == datetime.date(2025, 6, 18)  # the first import's win stays
    jobs.undo(job, org.manager)
    assert {c.pk: (c.type_id, c.signed_on, c.deal_amount) for c in Customer.objects.filter(
        pk__in=[mine.pk, other.pk])} == types_before

    bad = [["机会名称", "客户", "阶段", "金额", "输单原因", "创建日期", "关闭日期"],
           ["开着却关了", mine.name, open_stage.name, "1", "", "", "2025-01-01"],
           ["将来", mine.name, open_stage.name, "1", "", "2099-01-01", ""],
           ["先关后建", mine.name, lost.name, "1", reason.label, "2025-05-01", "2025-04-01"]]
    job = run(org.manager, csv_bytes(bad), key="opportunity", dry_only=True)
    said = {e["line"]: (e["column"], e["message"]) for e in job.errors}
    assert said[2] == ("关闭日期", f"An opportunity in the open stage “{open_stage.name_en or open_stage.name}” has not closed.")
    assert said[3] == ("创建日期", "This date is in the future.")
    assert said[4][0] == "关闭日期" and "before" in said[4][1]


def test_undo_removes_the_customer_a_won_prospect_became(org):
    """A won deal of a prospect (no customer yet) makes the prospect a customer, as a win in Kehu
    does; undoing the import removes that customer with the opportunity, and only that one."""
    from kehu.customers.models import Customer

    mine = make_customer(org.manager, "华东精密机械有限公司")
    won = Stage.objects.get(active=True, is_won=True)
    rows = [["机会名称", "客户", "潜在客户", "阶段", "金额", "成交产品", "签约日期"],
            ["新客户首单", "", "西湖新材料有限公司", won.name, "30000", "离心泵", "2025-05-06"],
            ["老客户的单", mine.name, "", won.name, "8000", "球阀", "2025-06-01"]]
    job = run(org.manager, csv_bytes(rows), key="opportunity")
    assert (job.status, job.created, job.failed_rows) == ("done", 2, 0), (job.error, job.errors)
    made = Customer.objects.get(name="西湖新材料有限公司")
    assert made.type.code == "won" and Opportunity.objects.get(title="新客户首单").customer == made
    jobs.undo(job, org.manager)
    assert not Customer.objects.filter(name="西湖新材料有限公司").exists()
    assert not Opportunity.objects.filter(title__in=["新客户首单", "老客户的单"]).exists()
    mine.refresh_from_db()
    assert mine.pk and mine.type_id is None  # the existing customer stays, as it was before the win
