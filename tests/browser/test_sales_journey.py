"""Issue 3's path: a supervisor creates and assigns an opportunity; the account manager finds it
in My day, plans, logs a follow-up with a next action, and drags it to won on the board."""

import datetime

from django.utils import timezone
from playwright.sync_api import expect

from kehu.activities.models import FollowUp
from kehu.core.testing.factories import PASSWORD
from kehu.customers.models import Contact, Customer
from kehu.sales.models import Opportunity, StageChange


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    expect(page.locator("[data-testid=nav-customer]")).to_be_visible()


def htmx_settled(page):
    """Wait until htmx has no request, swap or settle under way: content it swapped in answers typing
    (its triggers) only once processed, and text typed before that sends no request."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def logout(page):
    page.click("#user-menu")
    page.get_by_role("button", name="Log out").click()


def drag(page, source, target):
    """A real mouse drag, in small steps, as SortableJS expects."""
    source.scroll_into_view_if_needed()
    box = source.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 5, box["y"] + box["height"] / 2 + 5, steps=5)
    target.scroll_into_view_if_needed()
    tbox = target.bounding_box()
    page.mouse.move(tbox["x"] + tbox["width"] / 2, tbox["y"] + 30, steps=20)
    page.wait_for_timeout(200)
    page.mouse.up()


def test_opportunity_from_assignment_to_won(page, live_server, browser_org, shot):
    base = live_server.url
    customer = Customer(name="深圳华创电子有限公司", owner=browser_org.manager)
    customer.full_clean()
    customer.save()

    # the supervisor creates the opportunity from the customer's page and assigns it
    login(page, base, "supervisor")
    page.goto(f"{base}/customers/{customer.pk}/")
    page.click("[data-testid=add-opportunity]")
    page.fill("#id_title", "华创 CRM 年度采购")
    page.fill("#id_amount", "120000")
    page.click("[data-testid=save]")
    expect(page.locator("h2.page-title")).to_contain_text("华创 CRM 年度采购")
    opp = Opportunity.objects.get(title="华创 CRM 年度采购")
    assert opp.customer == customer
    page.click("[data-testid=assign-menu]")
    page.select_option("[data-testid=assign-owner]", str(browser_org.manager.pk))
    page.click("[data-testid=assign-save]")
    expect(page.locator("body")).to_contain_text("manager")
    opp.refresh_from_db()
    assert opp.owner == browser_org.manager and opp.assigned_by == browser_org.supervisor
    logout(page)

    # the account manager sees it in My day
    login(page, base, "manager")
    expect(page.locator("[data-testid=home-opportunities]")).to_contain_text("华创 CRM 年度采购")
    shot("my-day")
    page.locator("[data-testid=home-opportunities] a", has_text="华创 CRM 年度采购").first.click()

    # adds a development plan step
    page.goto(f"{base}/opportunities/{opp.pk}/?tab=plan")
    page.fill("[data-testid=plan-form] input[name=planned_on]", (timezone.localdate() + datetime.timedelta(days=3)).isoformat())
    page.fill("[data-testid=plan-form] [name=action]", "上门演示并报价")
    page.click("[data-testid=plan-add]")
    expect(page.locator("[data-testid=plan-step]")).to_contain_text("上门演示并报价")
    shot("opportunity-plan")

    # logs a follow-up with a next action from the opportunity's page; the contact search offers
    # only this customer's contacts
    mine = Contact.objects.create(customer=customer, name="王经理", owner=browser_org.manager)
    other = Customer.objects.create(name="广州别家贸易有限公司", owner=browser_org.manager)
    Contact.objects.create(customer=other, name="王总", owner=browser_org.manager)
    page.goto(f"{base}/opportunities/{opp.pk}/")
    page.click("[data-testid=opportunity-add-followup]")
    expect(page.locator("select[name=opportunity] option:checked")).to_have_text("华创 CRM 年度采购")
    page.fill("input[name=contact-search]", "王")
    options = page.locator("[data-autocomplete-option]")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("王经理")
    options.first.click()
    page.fill("#id_topic", "需求沟通")
    page.fill("#id_content", "客户确认需要 50 个账号，下周报价。")
    page.fill("#id_next_action", "发送正式报价")
    next_at = (timezone.localtime() + datetime.timedelta(days=2)).replace(hour=10, minute=0)
    page.fill("#id_next_action_at", next_at.strftime("%Y-%m-%dT%H:%M"))
    shot("followup-form")
    page.click("[data-testid=save]")
    expect(page.locator("h2.page-title")).to_be_visible()
    followup = FollowUp.objects.get(topic="需求沟通")
    assert followup.customer == customer and followup.next_action_by == browser_org.manager
    assert followup.opportunity == opp and followup.contact == mine

    # drags the opportunity across the board to won, and is asked what closing needs
    page.goto(f"{base}/opportunities/board/")
    card = page.locator("[data-testid=board-card]", has_text="华创 CRM 年度采购")
    won = Opportunity._meta.get_field("stage").related_model.objects.get(is_won=True)
    target = page.locator(f"[data-board-column][data-stage='{won.pk}']")
    shot("board")
    drag(page, card, target)
    dialog = page.locator("[data-testid=transition-dialog]")
    expect(dialog).to_be_visible()
    page.click("[data-testid=transition-save]")  # nothing filled in: refused, naming the fields
    expect(page.locator("[data-testid=error-deal_products]")).to_be_visible()
    dialog.locator("[name=amount]").fill("118000")
    dialog.locator("[name=deal_products]").fill("Kehu CRM 专业版 50 用户")
    dialog.locator("[name=signed_on]").fill(timezone.localdate().isoformat())
    shot("board-won-dialog")
    page.click("[data-testid=transition-save]")
    expect(dialog).to_have_count(0)
    expect(page.locator(f"[data-board-column][data-stage='{won.pk}']")).to_contain_text("华创 CRM 年度采购")
    opp.refresh_from_db()
    customer.refresh_from_db()
    assert opp.stage == won and opp.closed_at is not None
    assert customer.type.code == "won" and customer.deal_amount == 118000
    assert StageChange.objects.filter(opportunity=opp, to_stage=won).exists()
