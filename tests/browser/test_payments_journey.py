"""Payments and invoices in the browser: an account manager sets a payment plan and records two
payments on the order page (partly paid → paid), a wrong amount is shown on its field; a finance
user requests and issues an invoice and cannot edit the order."""

import datetime
from decimal import Decimal

from playwright.sync_api import expect

from kehu.orders.models import Invoice, Order
from kehu.orders.testing import make_order, service_line

from .test_sales_journey import login, logout


def test_payments_and_invoice_on_the_order_page(page, live_server, browser_org, shot):
    base = live_server.url
    manager = browser_org.manager
    order = make_order(manager, lines=[service_line("年度运维服务", unit_price="10000.00", tax_rate="6")],
                       title="年度运维")
    assert order.total == Decimal("10600.00")

    login(page, base, manager.username)
    page.goto(f"{base}/orders/{order.pk}/")
    panel = page.locator("[data-testid=payments-panel]")
    expect(panel.locator("[data-testid=payment-status]")).to_have_attribute("data-status", "unpaid")
    expect(panel.locator("[data-testid=fig-outstanding]")).to_have_text("¥10,600.00")

    # a plan of two instalments: 30 % now, the rest in a month
    page.click("[data-testid=edit-plan]")
    rows = page.locator("[data-testid=plan-form] [data-testid=plan-row]")
    today = datetime.date.today()
    rows.nth(0).locator("[name=due_on]").fill(today.isoformat())
    rows.nth(0).locator("[name=amount]").fill("3180.00")
    rows.nth(1).locator("[name=due_on]").fill((today + datetime.timedelta(days=30)).isoformat())
    rows.nth(1).locator("[name=amount]").fill("7420.00")
    page.click("[data-testid=save-plan]")
    expect(panel.locator("[data-testid=instalment]")).to_have_count(2)

    # an overpayment is refused on its field; then 3,180 and the rest
    page.click("[data-testid=record-payment]")
    page.fill("[name=pay-amount]", "10600.01")
    page.click("[data-testid=save-payment]")
    expect(panel.locator("[data-testid=error-amount]")).to_be_visible()
    shot("order-payment-refused")
    page.fill("[name=pay-amount]", "3180")
    page.fill("[name=pay-reference]", "招行 8899")
    page.click("[data-testid=save-payment]")
    expect(panel.locator("[data-testid=payment-status]")).to_have_attribute("data-status", "partly_paid")
    expect(panel.locator("[data-testid=fig-received]")).to_have_text("¥3,180.00")
    page.click("[data-testid=record-payment]")
    expect(page.locator("[name=pay-amount]")).to_have_value("7420.00")  # what is still owed
    page.click("[data-testid=save-payment]")
    expect(panel.locator("[data-testid=payment-status]")).to_have_attribute("data-status", "paid")
    expect(panel.locator("[data-testid=payment-row]")).to_have_count(2)
    assert Order.objects.get(pk=order.pk).payment_state == "paid"
    shot("order-paid")
    logout(page)

    # finance: an invoice for the whole order, issued; the order itself is not theirs to edit
    login(page, base, browser_org.finance.username)
    page.goto(f"{base}/orders/{order.pk}/")
    expect(page.locator("[data-testid=edit-record]")).to_have_count(0)
    page.click("[data-testid=request-invoice]")
    page.select_option("[name=inv-type]", "special")
    page.fill("[name=inv-tax]", "600.00")
    page.fill("[name=inv-tax_id]", "91320500MA1XXXXX0Q")
    page.click("[data-testid=save-invoice]")
    expect(panel.locator("[data-testid=invoice-row]")).to_have_count(1)
    expect(panel.locator("[data-testid=fig-invoiced]")).to_have_text("¥10,600.00")
    shot("order-invoiced")
    invoice = Invoice.objects.get(order=order)
    page.goto(f"{base}/invoices/{invoice.pk}/")
    page.click("[data-testid=transition-issue]")
    page.fill("[name=invoice_number]", "04400190011100012345")
    page.click("[data-testid=transition-save]")
    expect(page.locator("body")).to_contain_text("04400190011100012345")
    assert Invoice.objects.get(pk=invoice.pk).status == "issued"
    shot("invoice-issued")
    page.goto(f"{base}/payments/")
    expect(page.locator("body")).to_contain_text("招行 8899")
    shot("payment-list")
    page.goto(f"{base}/orders/?payment=paid")
    expect(page.locator("body")).to_contain_text(order.number)
    shot("order-list-paid")
    response = page.goto(f"{base}/orders/{order.pk}/edit/")
    assert response.status == 403
