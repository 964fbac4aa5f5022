"""Contracts in the browser: an account manager creates a contract for a customer, puts it in force,
links an order to it (the execution progress follows), renews it, and sees it in the 30-day
expiry list; screenshots of the list and the detail page at desktop and phone width."""

import datetime
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from kehu.customers.testing import make_customer
from kehu.orders.contract_testing import make_contract
from kehu.orders.models import Contract
from kehu.orders.testing import make_order, service_line

from .test_sales_journey import login


def test_contract_journey(page, live_server, browser_org, shot):
    base = live_server.url
    manager = browser_org.manager
    customer = make_customer(manager, name="杭州青禾数字科技有限公司")
    today = timezone.localdate()
    for i, days in enumerate((12, 48, 85)):  # others in force, expiring soon
        make_contract(manager, status="active", title=f"年度运维服务合同 {i + 1}", amount=Decimal("86000.00"),
                      starts_on=today - datetime.timedelta(days=300), ends_on=today + datetime.timedelta(days=days))

    login(page, base, manager.username)
    page.goto(f"{base}/contracts/add/?customer={customer.pk}")
    page.fill("[name=title]", "青禾 CRM 系统采购及实施合同")
    page.fill("[name=signed_on]", today.isoformat())
    page.fill("[name=starts_on]", today.isoformat())
    page.fill("[name=ends_on]", (today + datetime.timedelta(days=364)).isoformat())
    page.fill("[name=amount]", "240000")
    page.fill("[name=terms]", "合同签订后预付 30%，上线验收后付 60%，质保期满付 10%。")
    page.click("[data-testid=save]")
    contract = Contract.objects.get(customer=customer)
    expect(page).to_have_url(f"{base}/contracts/{contract.pk}/")

    page.click("[data-testid=transition-activate]")
    expect(page.locator("[data-testid=transition-complete]")).to_be_visible()
    assert Contract.objects.get(pk=contract.pk).status == "active"

    make_order(manager, customer=customer, contract=contract,
               lines=[service_line("CRM 软件许可 200 用户", unit_price="96000.00", tax_rate="0")])
    page.reload()
    expect(page.locator("[data-testid=progress-ordered]")).to_contain_text("¥96,000.00")
    expect(page.locator("[data-testid=progress-ordered]")).to_contain_text("40%")
    shot("contract-detail")

    page.click("[data-testid=transition-renew]")
    successor = Contract.objects.get(previous=contract)
    expect(page).to_have_url(f"{base}/contracts/{successor.pk}/")
    expect(page.locator("[data-testid=contract-previous]")).to_have_text(contract.number)

    page.goto(f"{base}/contracts/?expires_within=60")
    expect(page.locator("tbody tr")).to_have_count(2)
    page.goto(f"{base}/contracts/")
    shot("contract-list")
    page.goto(f"{base}/")
    expect(page.locator("[data-testid=home-contract]")).to_have_count(1)  # within 30 days
    shot("contract-home")
