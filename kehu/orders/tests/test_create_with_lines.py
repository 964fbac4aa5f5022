"""An order (or a quotation) created with its lines in one API request (kehu/core/nested.py): one
transaction, all or nothing, the document inserted once with its totals."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kehu.catalog.testing import make_product
from kehu.core.testing.factories import auth
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer
from kehu.orders.contract_testing import make_contract
from kehu.orders.models import Order, OrderLine, Quotation

pytestmark = pytest.mark.django_db


def post(user, url, body):
    return Client(**auth(user)).post(url, json.dumps(body), content_type="application/json")


def test_an_order_with_its_lines_in_one_request(org):
    customer = make_customer(org.manager)
    a = make_product(name="伺服电机", list_price=Decimal("1250.00"), cost=Decimal("800.00"), tax_rate=Decimal("13"))
    b = make_product(name="安装调试", kind="service", list_price=Decimal("800.00"), cost=Decimal("0"),
                     tax_rate=Decimal("6"))
    r = post(org.manager, "/api/v1/orders/", {
        "customer": customer.pk, "title": "一次下单",
        "lines": [{"product": a.pk, "quantity": "2"},
                  {"product": b.pk, "quantity": "1", "discount_pct": "10"},
                  {"description": "运费", "quantity": "1", "unit_price": "50.00"}]})
    assert r.status_code == 201, r.content
    body = r.json()
    order = Order.objects.get(pk=body["id"])
    lines = list(order.lines.order_by("position"))
    assert [ln.position for ln in lines] == [1, 2, 3]
    assert [ln.description or ln.product.name for ln in lines] == ["伺服电机", "安装调试", "运费"]
    # 2 × 1250 × 1.13 = 2825.00; 800 × 0.9 × 1.06 = 763.20; 50.00
    assert order.total == Decimal("3638.20") and body["total"] == "3638.20"
    assert order.net_total == Decimal("3270.00") and order.cost_total == Decimal("1600.00")
    assert lines[0].unit_cost == Decimal("800.00")  # the product's cost kept at order time
    assert order.version == 1  # inserted once with its totals, not saved again
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.order_count == 1 and customer.revenue == Decimal("3638.20")
    assert customer.receivables == Decimal("3638.20")
    assert order.payment_status == "unpaid"


def test_a_bad_line_writes_nothing_and_names_the_line_and_field(org):
    customer = make_customer(org.manager)
    product = make_product()
    inactive = make_product(active=False)
    before = (Order.all_objects.count(), OrderLine.objects.count())
    r = post(org.manager, "/api/v1/orders/", {
        "customer": customer.pk,
        "lines": [{"product": product.pk, "quantity": "1"},
                  {"product": product.pk, "quantity": "-3"},
                  {"product": inactive.pk, "quantity": "1"},
                  {"quantity": "1"}]})
    assert r.status_code == 422, r.content
    errors = set(r.json()["errors"])
    assert {"lines.1.quantity", "lines.2.product", "lines.3.description"} <= errors, errors
    assert not any(name.startswith("lines.0.") for name in errors), errors
    assert (Order.all_objects.count(), OrderLine.objects.count()) == before
    assert Customer.objects.get(pk=customer.pk).order_count == 0


def test_a_bad_order_field_with_good_lines_writes_nothing(org):
    product = make_product()
    before = Order.all_objects.count()
    r = post(org.manager, "/api/v1/orders/", {"customer": 987654321, "lines": [{"product": product.pk}]})
    assert r.status_code == 422 and set(r.json()["errors"]) == {"customer"}, r.content
    assert Order.all_objects.count() == before


def test_lines_are_not_taken_by_a_patch(org):
    customer = make_customer(org.manager)
    product = make_product()
    order_id = post(org.manager, "/api/v1/orders/", {"customer": customer.pk}).json()["id"]
    r = Client(**auth(org.manager)).patch(f"/api/v1/orders/{order_id}", json.dumps({"lines": [{"product": product.pk}]}),
                                          content_type="application/json")
    assert r.status_code == 422 and "lines" in r.json()["errors"], r.content
    assert not OrderLine.objects.filter(order_id=order_id).exists()


def test_too_many_lines_are_refused(org):
    customer = make_customer(org.manager)
    r = post(org.manager, "/api/v1/orders/", {"customer": customer.pk,
                                              "lines": [{"description": "x", "quantity": "1"}] * 501})
    assert r.status_code == 422 and "lines" in r.json()["errors"], r.content
    assert not Order.all_objects.filter(customer=customer).exists()


def test_an_order_of_a_contract_moves_its_ordered_amount(org):
    contract = make_contract(org.manager, status="active")
    r = post(org.manager, "/api/v1/orders/", {
        "customer": contract.customer_id, "contract": contract.pk,
        "lines": [{"description": "实施", "quantity": "2", "unit_price": "1000.00"}]})
    assert r.status_code == 201, r.content
    contract.refresh_from_db()
    assert contract.amount_ordered == Decimal("2000.00")


def test_ten_lines_cost_no_more_queries_than_one(org):
    customer = make_customer(org.manager)
    products = [make_product(name=f"产品{i}") for i in range(10)]
    counts = {}
    for n in (1, 10, 1):
        with CaptureQueriesContext(connection) as ctx:
            r = post(org.manager, "/api/v1/orders/", {
                "customer": customer.pk, "lines": [{"product": p.pk, "quantity": "2"} for p in products[:n]]})
        assert r.status_code == 201, r.content
        counts[n] = len(ctx.captured_queries)
    assert counts[10] == counts[1], counts


def test_a_quotation_with_its_lines(org):
    customer = make_customer(org.manager)
    r = post(org.manager, "/api/v1/quotations/", {
        "customer": customer.pk, "title": "咨询报价", "lines": [{"description": "咨询服务", "quantity": "3", "unit_price": "100.00",
                                            "tax_rate": "6"}]})
    assert r.status_code == 201, r.content
    quotation = Quotation.objects.get(pk=r.json()["id"])
    assert quotation.total == Decimal("318.00") and quotation.lines.count() == 1


def test_the_create_schema_documents_the_lines(org):
    schema = Client(**auth(org.manager)).get("/api/v1/openapi.json").json()
    body = schema["paths"]["/api/v1/orders/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "lines" in body["properties"]
    patch = schema["paths"]["/api/v1/orders/{pk}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert "lines" not in patch["properties"]
