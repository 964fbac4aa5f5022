"""The generic tests of the catalogue's record types (kehu/core/testing/records.py)."""

import itertools
from decimal import Decimal

from kehu.catalog.models import Product, ProductCategory, StockMove, Warehouse
from kehu.catalog.services import move_stock
from kehu.catalog.testing import make_category, make_product, make_warehouse
from kehu.core.testing.records import BusinessRecordTests, ReadOnlyRecordTests, RecordTypeTests

_seq = itertools.count(1)


class TestProduct(BusinessRecordTests):
    key = "product"
    update = {"name": "改名的商品"}
    invalid = {"tax_rate": "150"}

    def make(self, org, owner):
        return make_product(owner, name=f"无线鼠标{next(_seq)}")

    def form_data(self, org):
        return {"code": f"NEW-{next(_seq)}", "name": "新商品 机械键盘", "kind": "goods", "list_price": "399.00",
                "cost": "210.00", "tax_rate": "13", "low_stock_threshold": "5", "active": "on"}


class TestProductCategory(RecordTypeTests):
    key = "productcategory"
    update = {"name": "办公设备"}
    invalid = {"name": ""}

    def make(self, org, owner):
        return make_category(f"分类{next(_seq)}")

    def form_data(self, org):
        return {"name": "网络设备", "order": 3}


class TestWarehouse(RecordTypeTests):
    key = "warehouse"
    update = {"name": "北京二号仓"}
    invalid = {"code": ""}

    def make(self, org, owner):
        return make_warehouse(f"仓库{next(_seq)}")

    def form_data(self, org):
        return {"code": f"BJ{next(_seq)}", "name": "北京仓", "name_en": "Beijing", "active": "on"}


class TestStockMove(ReadOnlyRecordTests):
    """The ledger: no create, edit or delete anywhere; moves come from the stock service only."""

    key = "stockmove"

    def make(self, org, owner):
        product = make_product(owner)
        return move_stock(product, Decimal(3), "receipt", owner, reason="采购入库")


def test_category_filter_takes_the_subcategories(org):
    from django.test import Client

    office = make_category("办公设备")
    printers = make_category("打印机", parent=office)
    laser = make_category("激光打印机", parent=printers)
    other = make_category("服务")
    inside = [make_product(None, name=n, category=c) for n, c in (("A4 纸", office), ("喷墨机", printers),
                                                                    ("激光机", laser))]
    outside = make_product(None, name="安装服务", category=other, kind="service")
    client = Client()
    client.force_login(org.manager)
    page = client.get("/products/", {"category": office.pk})
    assert {p.pk for p in page.context["page"].items} == {p.pk for p in inside}
    page = client.get("/products/", {"category": printers.pk})
    assert {p.pk for p in page.context["page"].items} == {inside[1].pk, inside[2].pk}
    assert outside.pk not in {p.pk for p in client.get("/products/").context["page"].items} - {outside.pk}
    assert ProductCategory.objects.get(pk=laser.pk).path == f"{office.pk}/{printers.pk}/{laser.pk}/"


def test_search_by_code_name_and_pinyin(org):
    from django.test import Client

    printer = make_product(None, name="激光打印机", code="LP-2000")
    make_product(None, name="无线鼠标", code="MS-1")
    client = Client()
    client.force_login(org.manager)
    for term in ("LP-2000", "激光", "jiguang", "jgdyj", "打印"):
        found = {p.pk for p in client.get("/products/", {"q": term}).context["page"].items}
        assert found == {printer.pk}, term
    header = client.get("/search/", {"q": "dayinji"}).content.decode()
    assert "LP-2000" in header and "无线鼠标" not in header


def test_low_stock_tab_and_filter(org):
    from django.test import Client

    low = make_product(org.supervisor, name="碳粉盒", low_stock_threshold=Decimal(5), stock=2)
    enough = make_product(org.supervisor, name="复印纸", low_stock_threshold=Decimal(5), stock=5)
    no_threshold = make_product(org.supervisor, name="订书机", stock=0 or None)
    service = make_product(org.supervisor, name="维保服务", kind="service", low_stock_threshold=Decimal(1))
    client = Client()
    client.force_login(org.manager)
    tab = {p.pk for p in client.get("/products/", {"tab": "low"}).context["page"].items}
    assert tab == {low.pk}
    assert {p.pk for p in client.get("/products/", {"low_stock": "true"}).context["page"].items} == {low.pk}
    rest = {p.pk for p in client.get("/products/", {"low_stock": "false"}).context["page"].items}
    assert {enough.pk, no_threshold.pk, service.pk} <= rest and low.pk not in rest
    assert list(Product.objects.filter(Product.low_stock_q())) == [low]


def test_product_page_shows_stock_per_warehouse_and_the_ledger(org):
    from django.test import Client

    branch = make_warehouse("上海仓", code="SH")
    product = make_product(org.supervisor, name="显示器", stock=10)
    move_stock(product, 4, "receipt", org.supervisor, warehouse=branch, reason="调拨到货")
    client = Client()
    client.force_login(org.manager)
    page = client.get(f"/products/{product.pk}/").content.decode()
    assert 'data-testid="stock-panel"' in page and 'data-testid="on-hand-SH"' in page
    assert 'data-testid="on-hand-total">14<' in page
    ledger = client.get(f"/products/{product.pk}/", {"tab": "ledger"}).content.decode()
    assert ledger.count('data-testid="ledger-row"') == 2 and "调拨到货" in ledger
    # an account manager may look, not receive: no stock buttons
    assert 'data-testid="transition-receive"' not in page
    client.force_login(org.supervisor)
    assert 'data-testid="transition-receive"' in client.get(f"/products/{product.pk}/").content.decode()


def test_a_service_has_no_stock_panel_and_no_stock_actions(org):
    from django.test import Client

    service = make_product(org.supervisor, name="上门安装", kind="service")
    client = Client()
    client.force_login(org.supervisor)
    page = client.get(f"/products/{service.pk}/").content.decode()
    assert 'data-testid="stock-panel"' not in page and 'data-testid="transition-receive"' not in page


def test_the_default_warehouse_cannot_be_deleted(org):
    from django.test import Client

    default = Warehouse.objects.get(is_default=True)
    client = Client()
    client.force_login(org.admin)
    client.post(f"/admin/warehouses/{default.pk}/delete/")
    assert Warehouse.objects.filter(pk=default.pk).exists()
    assert StockMove.objects.count() == 0


def test_a_product_image_is_uploaded_and_shown(org):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    client = Client()
    client.force_login(org.supervisor)
    response = client.post("/products/add/", {"code": "IMG-1", "name": "带图片的商品", "kind": "goods",
                                               "list_price": "10", "cost": "5", "tax_rate": "13", "active": "on",
                                               "image": SimpleUploadedFile("p.png", buffer.getvalue(), "image/png")})
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    product = Product.objects.get(code="IMG-1")
    assert product.image.name.startswith("products/")
    assert 'data-testid="product-image"' in client.get(f"/products/{product.pk}/").content.decode()
    # not an image: refused on the field
    response = client.post("/products/add/", {"code": "IMG-2", "name": "假图片", "kind": "goods", "list_price": "1",
                                               "cost": "1", "tax_rate": "13",
                                               "image": SimpleUploadedFile("x.png", b"not a picture", "image/png")})
    assert response.status_code == 200 and "image" in response.context["form"].errors
    assert not Product.objects.filter(code="IMG-2").exists()
