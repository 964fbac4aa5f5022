"""Issue 15: import orders with their lines from the import history: the page offers the type, the
mapping screen explains how rows become orders, the check reports a bad line and the order it keeps
out, the import creates the good orders with their lines, and undo removes them."""

import csv
import datetime
import io
import re
from decimal import Decimal

from django.utils import timezone
from playwright.sync_api import expect

from kehu.catalog.testing import make_product
from kehu.customers.testing import make_customer
from kehu.orders.models import Order, OrderLine

from .test_sales_journey import login


def orders_file(tmp_path):
    rows = [["订单号", "客户", "订单日期", "交货日期", "收货地址", "产品编码", "产品名称", "数量", "单价", "折扣(%)", "税率(%)",
             "金额", "备注", "订单状态", "签收日期"],
            # delivered where it came from: imported as delivered on its date (history, no shipment)
            ["XS-2026-001", "华东精密机械有限公司", "2026-03-02", "2026-03-20", "上海市浦东新区张江路1号", "PUMP-100",
             "离心泵", "2", "", "10", "13", "2542.50", "首单", "已签收", "2026-03-18"],
            ["", "", "", "", "", "VAL-20", "球阀", "12", "80", "", "13", "1084.80", "", "", ""],
            ["", "", "", "", "", "", "安装调试服务", "1", "3000", "", "6", "3180.00", "", "", ""],
            ["XS-2026-002", "北方重工集团", "2026/3/5", "", "", "VAL-20", "球阀", "100", "85", "5", "13", "9124.25", "",
             "", ""],
            ["XS-2026-002", "北方重工集团", "2026/3/6", "", "", "PUMP-100", "离心泵", "1", "1200", "", "13", "1356.00",
             "", "", ""],  # another date on a line of the same order: a bad row
            ["XS-2026-003", "北方重工集团", "2026年3月9日", "", "", "NOPE-9", "", "3", "", "", "", "", "", "", ""]]  # unknown code
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path = tmp_path / "销售订单明细.csv"
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))
    return path


def test_order_import(page, live_server, browser_org, shot, tmp_path):
    manager = browser_org.manager
    make_product(browser_org.admin, "离心泵", code="PUMP-100", list_price=Decimal("1250.00"), cost=Decimal("800.00"))
    make_product(browser_org.admin, "球阀", code="VAL-20", list_price=Decimal("88.50"), cost=Decimal("40.00"))
    make_customer(manager, "华东精密机械有限公司")
    make_customer(manager, "北方重工集团")
    base = live_server.url
    login(page, base, "manager")

    page.goto(f"{base}/imports/")
    page.click("[data-testid=new-import-order]")  # the history offers every registered importer
    expect(page.locator("[data-testid=import-upload]")).to_be_visible()
    page.set_input_files("input[name=file]", str(orders_file(tmp_path)))
    page.click("[data-testid=upload-submit]")

    expect(page.locator("[data-testid=import-mapping]")).to_be_visible()
    expect(page.locator("[data-testid=order-import-options]")).to_be_visible()
    assert page.locator("[data-testid=map-0]").input_value() == "external_number"
    assert page.locator("[data-testid=map-5]").input_value() == "line_product"
    assert page.locator("[data-testid=map-11]").input_value() == ""  # the amount is computed, not imported
    assert page.locator("[data-testid=map-13]").input_value() == "status"  # a status of its past, with its date
    assert page.locator("[data-testid=map-14]").input_value() == "delivered_at"
    shot("order-import-mapping")
    page.click("[data-testid=check-submit]")

    expect(page.locator("[data-testid=count-created]")).to_have_text("1")
    expect(page.locator("[data-testid=count-bad]")).to_have_text("3")
    errors = page.locator("[data-testid=import-error-rows]")
    expect(errors).to_contain_text("订单日期")
    expect(errors).to_contain_text("NOPE-9")
    assert not Order.objects.exists()
    shot("order-import-check")

    page.click("[data-testid=import-run]")
    expect(page.locator("[data-testid=import-status]")).to_have_class(re.compile("bg-success-lt"), timeout=15_000)
    order = Order.objects.get()
    assert (order.external_number, order.lines.count(), order.owner) == ("XS-2026-001", 3, manager)
    assert (order.status, timezone.localtime(order.delivered_at).date()) == ("delivered", datetime.date(2026, 3, 18))
    shot("order-import-result")
    # the order shows the status it came with; its History says it was imported so
    result_url = page.url
    page.goto(f"{base}/orders/{order.pk}/")
    expect(page.locator("body")).to_contain_text("Delivered")
    expect(page.locator("[data-testid=transition-ship]")).to_have_count(0)  # nothing left to ship
    page.click("[data-testid=tab-history]")
    expect(page.locator("[data-testid=history]")).to_contain_text("Imported")
    shot("order-imported-history")
    page.goto(result_url)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=import-undo]")
    expect(page.locator("[data-testid=import-status]")).to_be_visible()
    assert not Order.all_objects.exists() and not OrderLine.objects.exists()
