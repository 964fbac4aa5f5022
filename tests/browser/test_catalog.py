"""Products and stock (issue 11): a supervisor creates a product, receives 10 units and sees them on
the product's page and in its ledger; the low-stock list shows a product under its threshold."""

from decimal import Decimal

from playwright.sync_api import expect

from kehu.catalog.models import Product, StockMove
from kehu.catalog.testing import make_category, make_product
from kehu.core.testing.factories import PASSWORD


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    expect(page.locator("[data-testid=nav-product]")).to_be_visible()


def test_create_receive_and_low_stock(page, live_server, browser_org, shot):
    base = live_server.url
    office = make_category("办公设备")
    make_category("打印机", parent=office)
    for i, (name, stock) in enumerate((("无线键鼠套装", 40), ("27英寸显示器", 12), ("USB-C 扩展坞", 3))):
        make_product(browser_org.supervisor, name=name, code=f"OF-{i + 1:03d}", category=office, stock=stock,
                     low_stock_threshold=Decimal(5), list_price=Decimal("899.00"))
    make_product(browser_org.supervisor, name="上门安装调试", code="SV-001", kind="service",
                 list_price=Decimal("300.00"))

    login(page, base, "supervisor")
    page.click("[data-testid=nav-product]")
    page.click("[data-testid=add-record]")
    page.fill("#id_code", "LP-2000")
    page.fill("#id_name", "激光打印机 M2000")
    page.select_option("#id_category", label="\u3000打印机")
    page.fill("#id_list_price", "2399")
    page.fill("#id_cost", "1650")
    page.fill("#id_low_stock_threshold", "12")
    shot("product-form")
    page.click("[data-testid=save]")
    expect(page.locator("h2.page-title")).to_contain_text("激光打印机 M2000")
    product = Product.objects.get(code="LP-2000")

    # receive 10 units through the action's dialog
    page.click("[data-testid=transition-receive]")
    dialog = page.locator("[data-testid=transition-dialog]")
    expect(dialog).to_be_visible()
    shot("product-receive-dialog")
    dialog.locator("[name=quantity]").fill("10")
    dialog.locator("[name=reason]").fill("采购入库 PO-20261203")
    page.click("[data-testid=transition-save]")
    expect(page.locator("[data-testid=on-hand-total]")).to_have_text("10")
    expect(page.locator("[data-testid=on-hand-MAIN]")).to_contain_text("10")
    expect(page.locator("[data-testid=low-stock-badge]")).to_be_visible()  # 10 < 12
    shot("product-detail")
    page.click("[data-testid=tab-ledger]")
    row = page.locator("[data-testid=ledger-row]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("采购入库 PO-20261203")
    expect(row).to_contain_text("+10")
    shot("product-ledger")
    page.click("[data-testid=full-ledger]")
    expect(page.locator("#record-table")).to_contain_text("采购入库 PO-20261203")
    shot("stock-ledger")
    move = StockMove.objects.get(product=product)
    assert move.quantity == 10 and move.created_by == browser_org.supervisor and move.kind == "receipt"

    # the list, and its low-stock tab: the new printer (10 < 12) and the docking station (3 < 5)
    page.click("[data-testid=nav-product]")
    expect(page.locator("#record-table")).to_contain_text("激光打印机 M2000")
    shot("product-list")
    page.click("[data-testid=tab-low]")
    table = page.locator("#record-table")
    expect(table).to_contain_text("USB-C 扩展坞")
    expect(table).to_contain_text("激光打印机 M2000")
    expect(table).not_to_contain_text("无线键鼠套装")
    expect(table).not_to_contain_text("上门安装调试")
    shot("product-low-stock")
