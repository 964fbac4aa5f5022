"""Receive and adjust stock: the product's actions (kehu/core/actions.py) through the API and the UI."""

import json
from decimal import Decimal

import pytest
from django.test import Client

from kehu.catalog.models import StockMove
from kehu.catalog.services import default_warehouse, on_hand
from kehu.catalog.testing import make_product, make_warehouse
from kehu.core.testing.factories import auth

pytestmark = pytest.mark.django_db


def post(user, product, action, data):
    return Client(**auth(user)).post(f"/api/v1/products/{product.pk}/actions/{action}", json.dumps(data),
                                     content_type="application/json")


def test_receive_through_the_api(org):
    product = make_product(org.supervisor)
    branch = make_warehouse("广州仓")
    response = post(org.supervisor, product, "receive", {"quantity": "10", "reason": "采购入库 PO-7"})
    assert response.status_code == 200, response.content
    assert Decimal(response.json()["on_hand"]) == 10
    assert post(org.supervisor, product, "receive", {"quantity": 2, "warehouse": branch.pk}).status_code == 200
    assert on_hand(product, default_warehouse()) == 10 and on_hand(product, branch) == 2
    move = StockMove.objects.filter(product=product).order_by("id").first()
    assert (move.kind, move.quantity, move.reason, move.created_by) == ("receipt", 10, "采购入库 PO-7", org.supervisor)


@pytest.mark.parametrize("data, field", [({}, "quantity"), ({"quantity": "abc"}, "quantity"),
                                         ({"quantity": "-1"}, "quantity"), ({"quantity": 1, "warehouse": 999999},
                                                                             "warehouse")])
def test_receive_refuses_bad_input_naming_the_field(org, data, field):
    product = make_product(org.supervisor)
    response = post(org.supervisor, product, "receive", data)
    assert response.status_code == 422 and field in response.json()["errors"], response.content
    assert not StockMove.objects.filter(product=product).exists()


def test_adjust_needs_a_reason_and_cannot_go_below_zero(org):
    product = make_product(org.supervisor, name="投影仪", stock=3)
    response = post(org.supervisor, product, "adjust", {"quantity": "-1"})
    assert response.status_code == 422 and "reason" in response.json()["errors"]
    response = post(org.supervisor, product, "adjust", {"quantity": "-5", "reason": "盘亏"})
    assert response.status_code == 422 and "quantity" in response.json()["errors"]
    assert "投影仪" in " ".join(response.json()["errors"]["quantity"])
    response = post(org.supervisor, product, "adjust", {"quantity": "-1", "reason": "盘点差异"})
    assert response.status_code == 200 and on_hand(product) == 2
    assert StockMove.objects.filter(product=product).count() == 2


def test_without_the_right_403(org):
    product = make_product(org.supervisor, stock=1)
    for user in (org.manager, org.executive, org.nobody):
        assert post(user, product, "receive", {"quantity": 1}).status_code == 403, user
        assert post(user, product, "adjust", {"quantity": 1, "reason": "x"}).status_code == 403, user
    assert on_hand(product) == 1


def test_a_service_is_refused_409(org):
    service = make_product(org.supervisor, kind="service")
    response = post(org.supervisor, service, "receive", {"quantity": 1})
    assert response.status_code == 409
    assert not StockMove.objects.filter(product=service).exists()


def test_receive_through_the_dialog(org):
    product = make_product(org.supervisor, name="扫描仪")
    client = Client()
    client.force_login(org.supervisor)
    dialog = client.get(f"/products/{product.pk}/actions/receive/").content.decode()
    assert 'name="quantity"' in dialog and 'name="warehouse"' in dialog and 'name="reason"' in dialog
    response = client.post(f"/products/{product.pk}/actions/receive/", {"quantity": "10", "reason": "到货"})
    assert response.status_code == 302
    assert on_hand(product) == 10
    response = client.post(f"/products/{product.pk}/actions/adjust/", {"quantity": "-11", "reason": "盘亏"})
    assert response.status_code == 422 and "扫描仪" in response.content.decode()  # the dialog again, with the error
    assert on_hand(product) == 10


def test_transfer_between_warehouses(org):
    product = make_product(org.supervisor, name="交换机", stock=6)
    main, branch = default_warehouse(), make_warehouse("成都仓")
    response = post(org.supervisor, product, "transfer", {"quantity": "4", "from_warehouse": main.pk,
                                                          "to_warehouse": branch.pk, "reason": "西南备货"})
    assert response.status_code == 200, response.content
    assert on_hand(product, main) == 2 and on_hand(product, branch) == 4 and on_hand(product) == 6
    response = post(org.supervisor, product, "transfer", {"quantity": "3", "from_warehouse": main.pk,
                                                          "to_warehouse": branch.pk})
    assert response.status_code == 422 and "quantity" in response.json()["errors"]
    response = post(org.supervisor, product, "transfer", {"quantity": "1", "from_warehouse": main.pk,
                                                          "to_warehouse": main.pk})
    assert response.status_code == 422 and "to_warehouse" in response.json()["errors"]
    assert StockMove.objects.filter(product=product).count() == 3
    assert post(org.manager, product, "transfer", {"quantity": "1", "from_warehouse": main.pk,
                                                   "to_warehouse": branch.pk}).status_code == 403
