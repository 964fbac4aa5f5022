"""After-sales requests on order lines (kehu/orders/aftersales.py): quantities bounded by what was
shipped, a completed return puts the goods back in stock, an exchange ships them again, a rejection
needs a reason; the order page's form and buttons; another manager's order is out of reach."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from kehu.catalog.models import StockMove
from kehu.catalog.services import on_hand
from kehu.catalog.testing import make_product
from kehu.orders import aftersales, services
from kehu.orders.models import AfterSalesRequest
from kehu.orders.testing import make_order, product_line

pytestmark = pytest.mark.django_db


def shipped_order(user, qty="4", stock=10):
    product = make_product(user, name="激光打印机", stock=stock, list_price=Decimal("100.00"), tax_rate=Decimal("13"))
    order = make_order(user, lines=[product_line(product, qty)])
    line = order.lines.get()
    services.record_shipment(order, user, {line.pk: qty})
    line.refresh_from_db()
    return order, line, product


def ui(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_return_is_bounded_by_what_was_shipped_and_puts_stock_back(org):
    order, line, product = shipped_order(org.manager)
    assert on_hand(product) == 6
    with pytest.raises(ValidationError) as refused:
        aftersales.request_after_sales(line, org.manager, kind="return", quantity="5", reason="坏了")
    assert "quantity" in refused.value.message_dict
    first = aftersales.request_after_sales(line, org.manager, kind="return", quantity="3", reason="卡纸")
    with pytest.raises(ValidationError):  # 3 of 4 are being returned already
        aftersales.request_after_sales(line, org.manager, kind="exchange", quantity="2", reason="换新")
    repair = aftersales.request_after_sales(line, org.manager, kind="repair", quantity="4", reason="保修")
    assert on_hand(product) == 6  # a request moves nothing yet
    aftersales.complete(first, org.manager)
    assert on_hand(product) == 9
    move = StockMove.objects.filter(product=product, kind="return").get()
    assert move.quantity == 3 and move.document_label.startswith(order.number)
    first.refresh_from_db()
    assert first.status == "completed" and first.refund == 0  # nothing was paid: nothing to refund
    with pytest.raises(ValidationError):
        aftersales.complete(first, org.manager)  # once
    aftersales.complete(repair, org.manager)
    assert on_hand(product) == 9  # a repair moves no stock


def test_an_exchange_takes_back_and_ships_again_and_a_rejection_needs_a_reason(org):
    order, line, product = shipped_order(org.manager, qty="2", stock=2)
    exchange = aftersales.request_after_sales(line, org.manager, kind="exchange", quantity="1", reason="屏幕坏点")
    aftersales.complete(exchange, org.manager)
    assert on_hand(product) == 0
    assert list(StockMove.objects.filter(product=product).order_by("id").values_list("kind", "quantity"))[-2:] == [
        ("return", Decimal(1)), ("shipment", Decimal(-1))]
    other = aftersales.request_after_sales(line, org.manager, kind="return", quantity="1", reason="不想要了")
    with pytest.raises(ValidationError) as refused:
        aftersales.reject(other, org.manager, reason=" ")
    assert "reason" in refused.value.message_dict
    aftersales.reject(other, org.manager, reason="超过七天无理由退货期")
    other.refresh_from_db()
    assert other.status == "rejected" and on_hand(product) == 0


def test_nothing_shipped_nothing_to_return(org):
    product = make_product(org.manager, stock=5)
    order = make_order(org.manager, lines=[product_line(product, "2")])
    with pytest.raises(ValidationError) as refused:
        aftersales.request_after_sales(order.lines.get(), org.manager, kind="return", quantity="1", reason="x")
    assert "order_line" in refused.value.message_dict


def test_the_order_page_records_and_completes_a_return(org):
    order, line, product = shipped_order(org.manager)
    client = ui(org.manager)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="after-sales-form"' in page
    response = client.post(f"/orders/{order.pk}/after-sales/", {"order_line": line.pk, "kind": "return",
                                                                "quantity": "9", "reason": "太多"}, follow=True)
    assert AfterSalesRequest.objects.count() == 0 and "9" not in str(list(AfterSalesRequest.objects.all()))
    assert "4" in response.content.decode()  # the message names what may be returned
    client.post(f"/orders/{order.pk}/after-sales/", {"order_line": line.pk, "kind": "return", "quantity": "2",
                                                     "reason": "包装破损"})
    request = AfterSalesRequest.objects.get()
    client.post(f"/orders/{order.pk}/after-sales/{request.pk}/complete/")
    request.refresh_from_db()
    assert request.status == "completed" and on_hand(product) == 8
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "包装破损" in page and 'data-testid="after-sales-request"' in page
    # another manager's order: not found, nothing recorded
    other = ui(org.manager2).post(f"/orders/{order.pk}/after-sales/", {"order_line": line.pk, "kind": "repair",
                                                                       "quantity": "1", "reason": "x"})
    assert other.status_code == 404 and AfterSalesRequest.objects.count() == 1
    # executive (view only): refused
    assert ui(org.executive).post(f"/orders/{order.pk}/after-sales/{request.pk}/reject/",
                                  {"reason": "x"}).status_code == 403


def test_the_api_records_completes_and_refuses_after_sales(org):
    import json

    from kehu.core.testing.factories import auth

    order, line, product = shipped_order(org.manager)
    client = Client(**auth(org.manager))

    def post(url, data):
        return client.post(url, json.dumps(data), content_type="application/json")

    base = f"/api/v1/orders/{order.pk}/after-sales"
    too_many = post(base, {"line": line.pk, "kind": "return", "quantity": "5", "reason": "x"})
    assert too_many.status_code == 422 and "quantity" in too_many.content.decode()
    made = post(base, {"line": line.pk, "kind": "return", "quantity": "1", "reason": "外壳裂了"})
    assert made.status_code == 201, made.content
    rid = made.json()["id"]
    assert post(f"{base}/{rid}/reject", {}).status_code == 422  # a reason is required
    done = post(f"{base}/{rid}/complete", {})
    assert done.status_code == 200 and done.json()["status"] == "completed" and on_hand(product) == 7
    assert post(f"{base}/{rid}/complete", {}).status_code == 422  # once
    assert [r["id"] for r in client.get(base).json()] == [rid]
    assert Client(**auth(org.manager2)).get(base).status_code == 404
