"""Import of orders with their lines (issue 15): a row per line, rows grouped into orders by their
reference (or customer and date), the order's cells read from its first row, products by code or
name, the services' prices, costs and totals, duplicates by the reference, all or nothing, undo."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from kehu.catalog.testing import make_product
from kehu.core.imports import base, jobs
from kehu.core.models import DictItem, ImportJob
from kehu.core.testing.imports import csv_bytes, run, start, xlsx_bytes
from kehu.customers.testing import make_contact, make_customer
from kehu.orders.models import Order, OrderLine
from kehu.orders.testing import make_order, product_line, service_line

pytestmark = pytest.mark.django_db
HEADER = ["订单号", "客户", "联系人", "订单日期", "交货日期", "收货地址", "付款方式", "产品编码", "产品名称", "数量",
          "单价", "折扣(%)", "税率(%)", "备注"]


@pytest.fixture
def shop(org):
    """Two products, two customers of the manager and one of another manager."""
    from types import SimpleNamespace

    s = SimpleNamespace()
    s.pump = make_product(org.admin, "离心泵", code="PUMP-100", list_price=Decimal("1250.00"), cost=Decimal("800.00"),
                          tax_rate=Decimal("13"))
    s.valve = make_product(org.admin, "球阀", code="VAL-20", list_price=Decimal("88.50"), cost=Decimal("40.00"),
                           tax_rate=Decimal("13"))
    s.east = make_customer(org.manager, "华东精密机械有限公司")
    s.north = make_customer(org.manager, "北方重工集团")
    s.theirs = make_customer(org.manager2, "别组的客户")
    s.buyer = make_contact(s.east, "王采购", mobile="13800138000")
    return s


def _rows(s):
    return [HEADER,
            # SO-1: three lines, the order's cells on each; a price left to the product, a free-text line
            ["SO-1", "华东精密机械有限公司", "王采购", "2026-03-02", "2026-03-20", "上海市浦东新区张江路1号", "银行转账",
             "PUMP-100", "", "2", "", "10", "", "首单"],
            ["SO-1", "华东精密机械有限公司", "王采购", "2026-03-02", "2026-03-20", "上海市浦东新区张江路1号", "银行转账",
             "VAL-20", "球阀", "12", "80", "", "13", "首单"],
            ["SO-1", "", "", "", "", "", "", "", "安装调试服务", "1", "¥3,000.00", "", "6", ""],
            # SO-2: the order's cells on its first line only (an export with merged cells); by number
            ["SO-2", s.north.number, "", "2026/3/5", "", "", "", "VAL-20", "", "100", "85", "5", "13", ""],
            ["", "", "", "", "", "", "", "PUMP-100", "", "1", "1200", "", "13", ""],
            # SO-3: one line, a product found by its name
            ["SO-3", "北方重工集团", "", "2026年3月9日", "", "", "", "", "离心泵", "3", "", "", "", ""]]


def _expected(owner, lines, **extra):
    """The same order built through the services, as the UI's lines editor builds it."""
    order = make_order(owner, lines=lines, **extra)
    return order.net_total, order.tax_total, order.total, order.cost_total


def _totals(order):
    return order.net_total, order.tax_total, order.total, order.cost_total


def test_orders_with_lines_from_a_csv(org, shop):
    s = shop
    job = run(org.manager, csv_bytes(_rows(s)), filename="订单.csv", key="order")
    assert job.status == ImportJob.Status.DONE, (job.error, job.errors)
    assert (job.created, job.failed_rows, job.rows_done) == (3, 0, 6), job.errors
    first = Order.objects.get(external_number="SO-1")
    assert first.number.startswith("DD") and first.owner == org.manager and first.created_by == org.manager
    assert (first.customer, first.contact, str(first.order_date), str(first.promised_date)) == (
        s.east, s.buyer, "2026-03-02", "2026-03-20")
    assert first.delivery_address == "上海市浦东新区张江路1号" and first.notes == "首单"
    assert first.payment_method == DictItem.objects.get(kind="payment_method", code="transfer")
    lines = list(first.lines.order_by("position"))
    assert [(ln.position, ln.product, ln.description, ln.quantity) for ln in lines] == [
        (1, s.pump, "", Decimal("2")), (2, s.valve, "", Decimal("12")), (3, None, "安装调试服务", Decimal("1"))]
    pump, valve, service = lines
    # an empty price and tax rate are the product's; its cost at order time is kept
    assert (pump.unit_price, pump.tax_rate, pump.discount_pct, pump.unit_cost) == (
        Decimal("1250.00"), Decimal("13.00"), Decimal("10.00"), Decimal("800.00"))
    assert (valve.unit_price, valve.unit_cost, service.unit_cost) == (Decimal("80.00"), Decimal("40.00"), Decimal(0))
    assert _totals(first) == _expected(org.manager, [
        product_line(s.pump, "2", discount_pct=Decimal("10")),
        product_line(s.valve, "12", unit_price=Decimal("80"), tax_rate=Decimal("13")),
        service_line("安装调试服务", "1", "3000.00", "6")], customer=s.east)
    second = Order.objects.get(external_number="SO-2")
    assert (second.customer, str(second.order_date), second.lines.count()) == (s.north, "2026-03-05", 2)
    assert _totals(second) == _expected(org.manager, [
        product_line(s.valve, "100", unit_price=Decimal("85"), discount_pct=Decimal("5"), tax_rate=Decimal("13")),
        product_line(s.pump, "1", unit_price=Decimal("1200"), tax_rate=Decimal("13"))], customer=s.north)
    third = Order.objects.get(external_number="SO-3")
    assert [(ln.product, ln.unit_price) for ln in third.lines.all()] == [(s.pump, Decimal("1250.00"))]
    # the customers' kept figures follow, as an order saved by its form makes them
    s.east.refresh_from_db()
    assert s.east.order_count == 2 and s.east.revenue == first.total + Order.objects.filter(
        customer=s.east).exclude(pk=first.pk).get().total


def test_orders_from_an_xlsx_with_numbers_and_dates(org, shop):
    s = shop
    rows = [["Order Reference", "Customer", "Order Date", "Product Code", "Product", "Quantity", "Unit Price",
             "Discount (%)", "Tax Rate"],
            ["A-7", "华东精密机械有限公司", datetime.datetime(2026, 4, 1), "PUMP-100", None, 4, 1180.5, 2.5, None],
            ["A-7", "华东精密机械有限公司", datetime.datetime(2026, 4, 1), None, "运输费", 1, 260, None, 9],
            ["A-8", "北方重工集团", 46114, "VAL-20", None, 30.0, None, None, 13],  # an Excel serial date
            ["A-8", None, None, "PUMP-100", None, 1, 1250, 0, 13]]
    job = run(org.manager, xlsx_bytes(rows), filename="orders.xlsx", key="order")
    assert (job.status, job.created, job.failed_rows) == (ImportJob.Status.DONE, 2, 0), (job.error, job.errors)
    a7 = Order.objects.get(external_number="A-7")
    assert str(a7.order_date) == "2026-04-01" and a7.lines.count() == 2
    assert _totals(a7) == _expected(org.manager, [
        product_line(s.pump, "4", unit_price=Decimal("1180.50"), discount_pct=Decimal("2.5")),
        service_line("运输费", "1", "260", "9")], customer=s.east)
    a8 = Order.objects.get(external_number="A-8")
    assert a8.order_date == datetime.date(1899, 12, 30) + datetime.timedelta(days=46114)
    assert _totals(a8) == _expected(org.manager, [product_line(s.valve, "30", tax_rate=Decimal("13")),
                                                  product_line(s.pump, "1", unit_price=Decimal("1250"))],
                                    customer=s.north)
    assert OrderLine.objects.filter(order__external_number__in=["A-7", "A-8"]).count() == 4


def test_a_bad_row_keeps_its_whole_order_out(org, shop, monkeypatch):
    rows = [HEADER,
            ["B-6", "北方重工集团", "", "2026-03-02", "", "", "", "VAL-20", "", "1", "", "", "", ""],  # good
            ["B-1", "华东精密机械有限公司", "", "2026-03-02", "", "", "", "PUMP-100", "", "1", "", "", "", ""],
            ["B-1", "华东精密机械有限公司", "", "2026-03-03", "", "", "", "VAL-20", "", "2", "", "", "", ""],  # date differs
            ["B-2", "北方重工集团", "", "2026-03-02", "", "", "", "NOPE-1", "", "1", "", "", "", ""],  # unknown code
            ["B-2", "", "", "", "", "", "", "VAL-20", "", "1", "", "", "", ""],
            ["B-3", "不存在的客户", "", "2026-03-02", "", "", "", "VAL-20", "", "1", "", "", "", ""],  # no such customer
            ["B-4", "北方重工集团", "", "2026-03-02", "", "", "", "VAL-20", "", "-2", "", "", "", ""],  # quantity < 0
            ["B-5", "北方重工集团", "", "2026-03-02", "", "", "", "", "", "1", "100", "", "", ""]]  # no product, no text
    job = run(org.manager, csv_bytes(rows), key="order", dry_only=True)
    assert (job.created, job.failed_rows) == (1, 7), job.errors
    by_line: dict = {}
    for e in job.errors:
        by_line.setdefault(e["line"], []).append(e)
    assert by_line[4][0]["column"] == "订单日期" and "line 3" in by_line[4][0]["message"]
    assert "2026-03-02" in by_line[4][0]["message"]
    assert "Line 4" in by_line[3][0]["message"]  # the good row of a bad order says which row is wrong
    assert by_line[5][0]["column"] == "产品编码" and "NOPE-1" in by_line[5][0]["message"]
    assert "Line 5" in by_line[6][0]["message"]
    assert by_line[7][0]["column"] == "客户" and "不存在的客户" in by_line[7][0]["message"]
    assert by_line[8][0]["column"] == "数量"
    assert by_line[9][0]["column"] == "产品名称"
    assert not Order.objects.exists() and not OrderLine.objects.exists()  # a dry run writes nothing
    # the error file has every row of the bad orders, with its reason
    from kehu.core.imports.files import imports_dir

    text = (imports_dir() / job.errors_file).read_text(encoding="utf-8-sig")
    assert text.count("\n") == 8 and "NOPE-1" in text
    # all or nothing: the check's bad rows stop the import; an import meeting one rolls back what it wrote
    job = run(org.manager, csv_bytes(rows), key="order", mode="all", dry_only=True)
    with pytest.raises(ValidationError):
        jobs.start(job, dry_run=False)
    monkeypatch.setattr(base.get("order"), "batch_size", 1)  # B-6 is written before the bad orders are met
    ImportJob.objects.filter(pk=job.pk).update(failed_rows=0)  # as if the file had changed since its check
    job.refresh_from_db()
    job = start(job, False)
    assert job.status == ImportJob.Status.FAILED and "nothing was imported" in job.error
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    # the good rows
    job = run(org.manager, csv_bytes(rows), key="order", mode="good")
    assert (job.status, job.created, job.failed_rows) == (ImportJob.Status.DONE, 1, 7)
    assert list(Order.objects.values_list("external_number", flat=True)) == ["B-6"]


def test_undo_removes_the_orders_with_their_lines(org, shop):
    s = shop
    job = run(org.manager, csv_bytes(_rows(s)), key="order")
    assert job.created == 3 and OrderLine.objects.count() == 6
    s.east.refresh_from_db()
    assert s.east.order_count == 1
    result = jobs.undo(job, org.manager)
    assert result["removed"] == 3
    assert not Order.all_objects.exists() and not OrderLine.objects.exists()
    s.east.refresh_from_db()
    assert (s.east.order_count, s.east.revenue) == (0, Decimal("0.00"))  # the kept figures follow


def test_a_known_reference_is_skipped_or_updated_and_undo_puts_it_back(org, shop):
    s = shop
    rows = [HEADER, ["C-1", "华东精密机械有限公司", "", "2026-03-02", "", "", "", "PUMP-100", "", "1", "", "", "", "旧"],
            ["C-1", "", "", "", "", "", "", "VAL-20", "", "2", "", "", "", ""]]
    run(org.manager, csv_bytes(rows), key="order")
    order = Order.objects.get(external_number="C-1")
    before = (_totals(order), list(order.lines.values_list("pk", "product", "quantity")))
    job = run(org.manager, csv_bytes(rows), key="order", duplicates="create")  # a reference is one order
    assert (job.created, job.skipped, job.duplicate_rows) == (0, 1, 1)
    assert job.duplicates_found[0]["label"].startswith(order.number)
    changed = [HEADER, ["C-1", "华东精密机械有限公司", "", "2026-03-02", "", "", "", "PUMP-100", "", "5", "", "", "", "新"]]
    job = run(org.manager, csv_bytes(changed), key="order", duplicates="update")
    assert (job.updated, job.created, job.failed_rows) == (1, 0, 0), job.errors
    order.refresh_from_db()
    assert order.notes == "新" and list(order.lines.values_list("product", "quantity")) == [(s.pump.pk, Decimal("5"))]
    assert _totals(order) == _expected(org.manager, [product_line(s.pump, "5")], customer=s.east)
    jobs.undo(job, org.manager)
    order.refresh_from_db()
    assert order.notes == "旧" and (_totals(order), list(order.lines.values_list("pk", "product", "quantity"))) == before
    # lines that are shipped are not replaced: a bad row, said in the check
    from kehu.core.registry import registry

    registry.get("order").workflow.take(order, "process", org.manager)
    job = run(org.manager, csv_bytes(changed), key="order", duplicates="update", dry_only=True)
    assert job.failed_rows == 1 and "cannot change" in job.errors[0]["message"], job.errors


def test_rows_without_a_reference_are_grouped_by_customer_and_date(org, shop, monkeypatch):
    monkeypatch.setattr(base.get("order"), "batch_size", 2)  # an order of three lines is not split
    rows = [["客户", "订单日期", "产品编码", "数量"],
            ["华东精密机械有限公司", "2026-05-01", "PUMP-100", "1"],
            ["", "", "VAL-20", "3"],  # the cells of the row above
            ["华东精密机械有限公司", "2026-05-01", "VAL-20", "1"],  # the same customer and day: the same order
            ["华东精密机械有限公司", "2026-05-02", "VAL-20", "1"],  # another day: another order
            ["北方重工集团", "2026-05-02", "VAL-20", "1"]]
    job = run(org.manager, csv_bytes(rows), key="order")
    assert (job.created, job.failed_rows) == (3, 0), job.errors
    counts = sorted((o.customer.name, str(o.order_date), o.lines.count()) for o in Order.objects.all())
    assert counts == [("北方重工集团", "2026-05-02", 1), ("华东精密机械有限公司", "2026-05-01", 3),
                      ("华东精密机械有限公司", "2026-05-02", 1)]


def test_the_lines_of_an_order_must_follow_each_other(org, shop):
    rows = [HEADER, ["D-1", "北方重工集团", "", "2026-03-02", "", "", "", "VAL-20", "", "1", "", "", "", ""],
            ["D-2", "北方重工集团", "", "2026-03-02", "", "", "", "VAL-20", "", "1", "", "", "", ""],
            ["D-1", "北方重工集团", "", "2026-03-02", "", "", "", "PUMP-100", "", "1", "", "", "", ""]]
    job = run(org.manager, csv_bytes(rows), key="order", dry_only=True)
    assert (job.created, job.failed_rows) == (2, 1)
    assert job.errors[0]["line"] == 4 and "line 2" in job.errors[0]["message"]


def test_a_rep_imports_orders_of_the_customers_they_see_owned_by_themself(org, shop):
    s = shop
    rows = [["订单号", "客户", "产品编码", "数量", "负责人"],
            ["E-1", "华东精密机械有限公司", "VAL-20", "1", ""],
            ["E-2", "别组的客户", "VAL-20", "1", ""],  # another manager's customer: outside the scope
            ["E-3", "北方重工集团", "VAL-20", "1", "manager2"]]  # another owner: not the manager's right
    job = run(org.manager, csv_bytes(rows), key="order")
    assert (job.created, job.failed_rows) == (1, 2), job.errors
    messages = {e["line"]: e for e in job.errors}
    assert "data scope" in messages[3]["message"] and messages[4]["column"] == "负责人"
    order = Order.objects.get()
    assert (order.external_number, order.owner, order.customer) == ("E-1", org.manager, s.east)
    assert Order.objects.visible_to(org.manager).filter(pk=order.pk).exists()
    assert not Order.objects.filter(customer=s.theirs).exists()
    # a reference another manager imported is outside the scope: skipped, never updated
    theirs = make_order(org.manager2, customer=s.theirs)
    theirs.external_number = "E-9"
    theirs.save()
    rows = [["订单号", "客户", "产品编码", "数量"], ["E-9", "华东精密机械有限公司", "VAL-20", "1"]]
    job = run(org.manager, csv_bytes(rows), key="order", duplicates="update")
    assert (job.updated, job.skipped, job.created) == (0, 1, 0)
    assert job.duplicates_found[0]["id"] is None and "scope" in job.duplicates_found[0]["label"]


def test_headers_in_chinese_and_english_and_the_generic_preset(org):
    importer = base.get("order")
    zh = ["订单号", "客户名称", "联系人", "下单日期", "交货日期", "收货地址", "付款方式", "产品编码", "产品名称", "数量",
          "单价", "折扣", "税率", "备注", "业务员", "金额"]
    mapping = importer.guess_mapping(zh)
    assert [mapping.get(str(i)) for i in range(len(zh))] == [
        "external_number", "customer", "contact", "order_date", "promised_date", "delivery_address",
        "payment_method", "line_product", "line_description", "line_quantity", "line_unit_price",
        "line_discount_pct", "line_tax_rate", "notes", "owner", None]  # an amount is computed, not imported
    en = ["Order No", "Customer", "Order Date", "Delivery Date", "SKU", "Description", "Qty", "Unit Price",
          "Discount (%)", "Tax Rate", "Salesperson"]
    mapping = importer.guess_mapping(en, preset="generic")
    assert [mapping.get(str(i)) for i in range(len(en))] == [
        "external_number", "customer", "order_date", "promised_date", "line_product", "line_description",
        "line_quantity", "line_unit_price", "line_discount_pct", "line_tax_rate", "owner"]


def test_the_import_pages_offer_orders(client, org, shop):
    client.force_login(org.manager)
    page = client.get(reverse("core:import_history")).content.decode()
    assert 'data-testid="new-import-order"' in page
    assert client.get(reverse("core:import_new") + "?type=order").status_code == 200
    job = jobs.create(org.manager, "order", "订单.csv", data=csv_bytes(_rows(shop)))
    page = client.get(reverse("core:import_detail", args=[job.pk])).content.decode()
    assert 'data-testid="order-import-options"' in page and 'data-testid="order-grouping"' in page


def test_the_order_export_is_a_row_per_line_as_the_import_reads_it(org, shop, client, django_capture_on_commit_callbacks):
    """The list's export of orders (streamed, and as a background job) writes a row per line: the
    order's columns on its first line, its number under the import's reference column (订单号), the
    line's product code, description, quantity, price, discount and tax rate; an order without
    lines is one row. (The round trip itself: kehu/core/tests/test_import_round_trip.py.)"""
    import csv
    import io

    from django.http import QueryDict
    from django.utils import translation

    from kehu.core import exports_jobs
    from kehu.core.exports_models import ExportJob

    two = make_order(org.manager, [product_line(shop.pump, "2", discount_pct=Decimal("5")),
                                   service_line("安装调试服务", "1", "3000.00", "6")], customer=shop.east, title="两行")
    empty = make_order(org.manager, [], customer=shop.north, title="没有明细")
    client.force_login(org.manager)
    with translation.override("zh-hans"):
        response = client.get(reverse("orders:order_list"), {"format": "csv"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    col = {name: header.index(name) for name in ("订单号", "标题", "客户", "商品编码", "描述", "数量", "单价", "折扣（%）",
                                                "税率（%）", "价税合计")}
    assert len(body) == 3
    first, second, alone = body
    assert (first[col["订单号"]], first[col["标题"]], first[col["客户"]]) == (two.number, "两行", "华东精密机械有限公司")
    assert first[col["价税合计"]] == f"{two.total:f}"
    assert (first[col["商品编码"]], first[col["描述"]], Decimal(first[col["数量"]]), first[col["折扣（%）"]]) == (
        "PUMP-100", "", 2, "5.00")
    # a further line: the order's cells empty (its import continues the order above), the line's own
    assert second[col["订单号"]] == second[col["标题"]] == second[col["价税合计"]] == ""
    assert (second[col["描述"]], second[col["单价"]], second[col["税率（%）"]]) == ("安装调试服务", "3000.00", "6.00")
    assert (alone[col["订单号"]], alone[col["商品编码"]], alone[col["数量"]]) == (empty.number, "", "")

    # the background job writes the same rows, its progress counted in rows
    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
        job = exports_jobs.start(org.manager, exports_jobs.registry.get("order"), "csv", QueryDict())
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.total_estimate) == (ExportJob.Status.DONE, 3, 3), job.error
    assert list(csv.reader(io.StringIO(exports_jobs.path_of(job).read_text("utf-8-sig")))) == rows


def test_orders_keep_the_status_they_reached_where_they_came_from(org, shop):
    """Orders of another system's history come in their status (by its label in either language)
    with its dates: written as facts of their past, not as transitions taken now. Goods of a
    shipped or delivered order count as shipped, with no shipment and no stock movement; a missing
    date is the one before it; the History tab and the timeline say the status was imported."""
    from django.contrib.contenttypes.models import ContentType

    from kehu.catalog.models import StockMove
    from kehu.core.models import TransitionLog
    from kehu.orders.models import Shipment

    s = shop
    header = ["订单号", "客户", "订单日期", "产品编码", "数量", "订单状态", "发货日期", "签收日期", "取消日期"]
    rows = [header,
            ["H-1", s.east.name, "2025-03-02", "PUMP-100", "2", "已签收", "2025-03-05 09:30", "2025-03-08", ""],
            ["H-1", "", "", "VAL-20", "10", "", "", "", ""],
            ["H-2", s.east.name, "2025-04-01", "VAL-20", "5", "Shipped", "", "", ""],  # no date: the order date
            ["H-3", s.north.name, "2025-05-01", "PUMP-100", "1", "cancelled", "", "", "2025-05-03"],
            ["H-4", s.north.name, "2025-06-01", "VAL-20", "1", "处理中", "", "", ""],
            ["H-5", s.north.name, "2025-06-02", "VAL-20", "1", "", "", "", ""]]  # no status: created
    moves_before = StockMove.objects.count()
    job = run(org.manager, csv_bytes(rows), filename="历史订单.csv", key="order")
    assert (job.status, job.created, job.failed_rows) == (ImportJob.Status.DONE, 5, 0), (job.error, job.errors)
    assert {v for k, v in job.mapping.items() if v} >= {"status", "shipped_at", "delivered_at", "cancelled_at"}
    got = {o.external_number: o for o in Order.objects.filter(external_number__startswith="H-")}
    tz = datetime.timezone(datetime.timedelta(hours=8))  # the job's time zone: Asia/Shanghai
    h1 = got["H-1"]
    assert h1.status == "delivered"
    assert (h1.shipped_at, h1.delivered_at) == (datetime.datetime(2025, 3, 5, 9, 30, tzinfo=tz),
                                                datetime.datetime(2025, 3, 8, tzinfo=tz))
    assert [(ln.quantity, ln.shipped_quantity) for ln in h1.lines.order_by("position")] == [
        (Decimal("2"), Decimal("2")), (Decimal("10"), Decimal("10"))]
    h2 = got["H-2"]
    assert (h2.status, h2.shipped_at, h2.delivered_at) == ("shipped", datetime.datetime(2025, 4, 1, tzinfo=tz), None)
    assert h2.lines.get().to_ship == 0
    h3 = got["H-3"]
    assert (h3.status, h3.cancelled_at, h3.shipped_at) == ("cancelled", datetime.datetime(2025, 5, 3, tzinfo=tz), None)
    assert h3.lines.get().shipped_quantity == 0 and h3.outstanding == 0
    assert (got["H-4"].status, got["H-5"].status) == ("processing", "created")
    # history, not effects: no shipment, no stock movement
    assert not Shipment.objects.filter(order__in=got.values()).exists()
    assert StockMove.objects.count() == moves_before
    # the transition log: one "Imported" row per order past "created", at the status's date
    logs = {r.object_id: r for r in TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(Order))}
    assert set(logs) == {got[k].pk for k in ("H-1", "H-2", "H-3", "H-4")}
    assert (logs[h1.pk].transition, logs[h1.pk].from_state, logs[h1.pk].to_state, logs[h1.pk].at, logs[h1.pk].by) == (
        "import", "", "delivered", h1.delivered_at, org.manager)
    # "processing" has no date of its own: it stands at the order's date, not at the import's time
    assert (logs[got["H-4"].pk].to_state, logs[got["H-4"].pk].at) == ("processing", datetime.datetime(2025, 6, 1, tzinfo=tz))
    from kehu.core.registry import registry

    with translation.override("zh-hans"):
        history = registry.get("order").workflow.history(h1)
        assert [(str(r.label), r.from_label, str(r.to_label)) for r in history] == [("导入", "", "已交付")]
    # the customer's kept figures leave the cancelled order out, as for one cancelled in Kehu
    s.north.refresh_from_db()
    assert s.north.order_count == 2
    # undo removes the orders and their log
    jobs.undo(job, org.manager)
    assert not Order.objects.filter(external_number__startswith="H-").exists()
    assert not TransitionLog.objects.filter(object_id__in=[o.pk for o in got.values()],
                                            content_type=ContentType.objects.get_for_model(Order)).exists()


def test_a_past_status_is_checked_against_its_dates_and_lines(org, shop):
    s = shop
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    header = ["订单号", "客户", "订单日期", "产品编码", "数量", "状态", "发货日期", "签收日期"]
    rows = [header,
            ["E-1", s.east.name, "2025-03-02", "PUMP-100", "1", "已发货", "", "2025-03-04"],  # a delivery date, not delivered
            ["E-2", s.east.name, "2025-03-02", "PUMP-100", "1", "已签收", "2025-03-06", "2025-03-04"],  # delivered before shipped
            ["E-3", s.east.name, "2025-03-02", "PUMP-100", "1", "已发货", "2025-03-01", ""],  # shipped before the order
            ["E-4", s.east.name, "2025-03-02", "PUMP-100", "1", "已发货", future, ""],  # not yet
            ["E-5", s.east.name, "2025-03-02", "", "", "已发货", "", ""],  # shipped, but no lines
            ["E-6", s.east.name, "2025-03-02", "PUMP-100", "1", "丢失", "", ""],  # no such status
            ["E-7", s.east.name, "2025-03-02", "PUMP-100", "1", "已签收", "2025-03-03", "2025-03-04"]]  # good
    job = run(org.manager, csv_bytes(rows), filename="订单.csv", key="order", dry_only=True)
    assert (job.created, job.failed_rows) == (1, 6), job.errors
    said = {e["line"]: (e["column"], e["message"]) for e in job.errors}
    assert said[2][0] == "签收日期" and "Delivered" in said[2][1]
    assert said[3][0] == "签收日期" and "before" in said[3][1]
    assert said[4][0] == "发货日期" and "before" in said[4][1]
    assert said[5][0] == "发货日期" and "future" in said[5][1]
    assert said[6][0] == "状态" and "needs its lines" in said[6][1]
    assert said[7][0] == "状态" and "丢失" in said[7][1]


def test_an_import_does_not_change_the_status_of_an_order_in_kehu(org, shop):
    s = shop
    order = make_order(org.manager, [product_line(s.valve, "1")], customer=s.east, external_number="K-1")
    rows = [["订单号", "客户", "订单日期", "产品编码", "数量", "状态", "备注"],
            ["K-1", s.east.name, str(order.order_date), "VAL-20", "1", "已取消", "改了"]]
    job = run(org.manager, csv_bytes(rows), filename="订单.csv", key="order", duplicates="update", dry_only=True)
    assert job.failed_rows == 1 and "does not change the status" in job.errors[0]["message"], job.errors
    rows[1][5] = "已创建"  # the status it has: the update goes through
    job = run(org.manager, csv_bytes(rows), filename="订单.csv", key="order", duplicates="update")
    assert (job.status, job.updated, job.failed_rows) == (ImportJob.Status.DONE, 1, 0), job.errors
    order.refresh_from_db()
    assert (order.status, order.notes) == ("created", "改了")
