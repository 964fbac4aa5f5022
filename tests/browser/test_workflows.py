"""Workflows in the browser: a task is started, cancelled with a reason and reopened from its
buttons; a won opportunity is reopened from its page with a comment, the customer loses the win
and the History tab lists every transition."""

import datetime
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from kehu.activities.models import Task
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer
from kehu.sales import services
from kehu.sales.models import Opportunity, Stage

from .test_sales_journey import login


def test_task_buttons_follow_its_status(page, live_server, browser_org, shot):
    base = live_server.url
    task = Task(title="寄送合同样本", owner=browser_org.manager, created_by=browser_org.manager,
                due_at=timezone.now() + datetime.timedelta(days=1))
    task.full_clean()
    task.save()
    login(page, base, browser_org.manager.username)
    page.goto(f"{base}/tasks/{task.pk}/")
    expect(page.locator("[data-testid=transition-start]")).to_be_visible()
    expect(page.locator("[data-testid=transition-reopen]")).to_have_count(0)
    shot("task-transitions")
    page.click("[data-testid=transition-start]")
    expect(page.locator("[data-testid=transition-start]")).to_have_count(0)
    assert Task.objects.get(pk=task.pk).status == "doing"

    page.click("[data-testid=transition-cancel]")  # needs a reason: the dialog
    dialog = page.locator("[data-testid=transition-dialog]")
    expect(dialog).to_be_visible()
    page.click("[data-testid=transition-save]")
    expect(page.locator("[data-testid=error-comment]")).to_be_visible()
    assert Task.objects.get(pk=task.pk).status == "doing"
    dialog.locator("[name=comment]").fill("客户已自行下载")
    shot("task-cancel-dialog")
    page.click("[data-testid=transition-save]")
    expect(page.locator("[data-testid=transition-reopen]")).to_be_visible()
    assert Task.objects.get(pk=task.pk).status == "cancelled"

    page.click("[data-testid=transition-reopen]")
    expect(page.locator("[data-testid=transition-start]")).to_be_visible()
    page.goto(f"{base}/tasks/{task.pk}/?tab=history")
    log = page.locator("[data-testid=transition-log]")
    expect(log).to_contain_text("客户已自行下载")
    expect(log.locator("tbody tr")).to_have_count(3)
    shot("task-history")


def test_reopening_a_won_deal_from_its_page(page, live_server, browser_org, shot):
    base = live_server.url
    manager = browser_org.manager
    customer = make_customer(manager, name="重庆启明星科技有限公司")
    type_before = customer.type_id
    first = Stage.objects.filter(is_won=False, is_lost=False, active=True).order_by("order", "id").first()
    opp = Opportunity(title="启明星 CRM 续约", customer=customer, owner=manager, created_by=manager, stage=first)
    opp.full_clean()
    opp.save()
    won = Stage.objects.get(is_won=True)
    services.change_stage(opp, won, manager, amount=Decimal("36000"), deal_products="续约一年",
                          signed_on=timezone.localdate())
    assert Customer.objects.get(pk=customer.pk).type.code == "won"

    login(page, base, manager.username)
    page.goto(f"{base}/opportunities/{opp.pk}/")
    expect(page.locator("[data-testid=transition-win]")).to_have_count(0)
    page.click("[data-testid=transition-reopen]")  # a menu of the open stages it can go back to
    page.click(f"[data-testid=transition-reopen-{first.pk}]")
    dialog = page.locator("[data-testid=transition-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[name=to]")).to_have_value(str(first.pk))
    dialog.locator("[name=comment]").fill("客户要求重新报价")
    shot("opportunity-reopen-dialog")
    page.click("[data-testid=transition-save]")
    expect(page.locator("[data-testid=transition-win]")).to_be_visible()
    opp.refresh_from_db()
    assert opp.stage == first and opp.closed_at is None
    assert Customer.objects.get(pk=customer.pk).type_id == type_before  # the type it had before the win

    page.goto(f"{base}/opportunities/{opp.pk}/?tab=history")
    log = page.locator("[data-testid=transition-log]")
    expect(log).to_contain_text("客户要求重新报价")
    expect(log.locator("tbody tr")).to_have_count(2)
    shot("opportunity-history")
