"""The stock service (kehu/catalog/services.py): the ledger and its balances move together or not at all."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import translation

from kehu.catalog import services
from kehu.catalog.models import Product, StockBalance, StockMove, Warehouse
from kehu.catalog.services import move_stock, on_hand, transfer
from kehu.catalog.testing import make_product, make_warehouse

pytestmark = pytest.mark.django_db


def ledger_sum(product, warehouse=None):
    qs = StockMove.objects.filter(product=product)
    if warehouse is not None:
        qs = qs.filter(warehouse=warehouse)
    return qs.aggregate(s=Sum("quantity"))["s"] or Decimal(0)


def assert_consistent(product):
    for balance in StockBalance.objects.filter(product=product):
        assert balance.on_hand == ledger_sum(product, balance.warehouse), balance
    product.refresh_from_db()
    assert product.on_hand == ledger_sum(product) == on_hand(product)


def test_the_migration_made_one_default_warehouse():
    default = Warehouse.objects.get(is_default=True)
    assert default.code == "MAIN" and default.name == "默认仓库" and default.name_en == "Main warehouse"
    assert services.default_warehouse() == default


def test_a_new_default_replaces_the_old_one_and_the_default_cannot_be_unset():
    old = services.default_warehouse()
    new = make_warehouse("二号仓", is_default=True)
    assert list(Warehouse.objects.filter(is_default=True)) == [new]
    new.is_default = False
    with pytest.raises(ValidationError) as err:
        new.full_clean()
    assert "is_default" in err.value.message_dict
    assert services.default_warehouse() == new and not Warehouse.objects.get(pk=old.pk).is_default


def test_receive_and_ship_keep_the_balance_the_ledger_sum(org):
    product = make_product(org.supervisor)
    move = move_stock(product, 10, "receipt", org.supervisor, reason="采购入库")
    assert move.quantity == Decimal("10.000") and move.balance_after == Decimal("10.000")
    assert move.warehouse == services.default_warehouse() and move.created_by == org.supervisor
    assert product.on_hand == 10  # the caller's instance is brought up to date
    ship = move_stock(product, Decimal("-3.5"), "shipment", org.supervisor, document=("order", 42, "DD202612030001"))
    assert (ship.document_type, ship.document_id, ship.document_label) == ("order", 42, "DD202612030001")
    assert ship.balance_after == Decimal("6.500")
    assert on_hand(product) == Decimal("6.500") == on_hand(product, services.default_warehouse())
    assert_consistent(product)


def test_a_document_instance_is_referenced_by_its_model_pk_and_label(org):
    product = make_product(org.supervisor, stock=5)
    other = make_product(org.supervisor, name="作为单据的商品")
    move = move_stock(product, -1, "shipment", org.supervisor, document=other)
    assert (move.document_type, move.document_id, move.document_label) == ("product", other.pk, str(other))


def test_going_below_zero_is_refused_naming_product_warehouse_on_hand_and_quantity(org):
    product = make_product(org.supervisor, name="激光打印机", code="LP-100", stock=2)
    before = (StockMove.objects.count(), StockBalance.objects.get(product=product).on_hand)
    with translation.override("en"), pytest.raises(ValidationError) as err:
        move_stock(product, -3, "shipment", org.supervisor)
    message = " ".join(err.value.messages)
    assert "LP-100 激光打印机" in message and "Main warehouse" in message
    assert "2 on hand" in message and "3 requested" in message
    with translation.override("zh-hans"), pytest.raises(ValidationError) as err:
        move_stock(product, -3, "shipment", org.supervisor)
    assert "默认仓库" in " ".join(err.value.messages)
    assert (StockMove.objects.count(), StockBalance.objects.get(product=product).on_hand) == before
    assert_consistent(product)


def test_back_orders_may_go_below_zero(org):
    product = make_product(org.supervisor, allow_backorder=True, stock=1)
    move = move_stock(product, -4, "shipment", org.supervisor)
    assert move.balance_after == -3 and on_hand(product) == -3
    assert_consistent(product)


def test_services_are_never_stocked(org):
    service = make_product(org.supervisor, name="上门安装服务", kind=Product.Kind.SERVICE)
    for qty, kind in ((5, "receipt"), (-1, "shipment"), (2, "adjustment")):
        with pytest.raises(ValidationError) as err:
            move_stock(service, qty, kind, org.supervisor)
        assert "product" in err.value.message_dict and "上门安装服务" in err.value.message_dict["product"][0]
    assert not StockMove.objects.filter(product=service).exists()
    assert not StockBalance.objects.filter(product=service).exists()


@pytest.mark.parametrize("bad", [0, "0.0000", "abc", None, "NaN", "Infinity", "1000000000000"])
def test_zero_or_no_quantity_is_refused(org, bad):
    product = make_product(org.supervisor, stock=1)
    with pytest.raises(ValidationError) as err:
        move_stock(product, bad, "adjustment", org.supervisor)
    assert "quantity" in err.value.message_dict
    assert StockMove.objects.filter(product=product).count() == 1


def test_a_float_is_refused(org):
    product = make_product(org.supervisor)
    with pytest.raises(TypeError):
        move_stock(product, 1.5, "receipt", org.supervisor)


def test_the_kind_decides_the_sign(org):
    product = make_product(org.supervisor, stock=5)
    with pytest.raises(ValidationError):
        move_stock(product, -1, "receipt", org.supervisor)
    with pytest.raises(ValidationError):
        move_stock(product, 1, "shipment", org.supervisor)
    with pytest.raises(ValidationError):
        move_stock(product, 1, "gift", org.supervisor)
    assert move_stock(product, -2, "adjustment", org.supervisor, reason="盘亏").balance_after == 3
    assert move_stock(product, 1, "return", org.supervisor).balance_after == 4


def test_transfer_is_two_moves_in_one_transaction(org):
    main, branch = services.default_warehouse(), make_warehouse("上海仓")
    product = make_product(org.supervisor, stock=8)
    out, into = transfer(product, 5, main, branch, org.supervisor, reason="补货")
    assert (out.kind, out.quantity, out.warehouse) == ("transfer_out", -5, main)
    assert (into.kind, into.quantity, into.warehouse) == ("transfer_in", 5, branch)
    assert on_hand(product, main) == 3 and on_hand(product, branch) == 5 and on_hand(product) == 8
    # more than the source holds: neither move is written
    with pytest.raises(ValidationError):
        transfer(product, 4, main, branch, org.supervisor)
    assert on_hand(product, main) == 3 and on_hand(product, branch) == 5
    assert StockMove.objects.filter(product=product).count() == 3
    with pytest.raises(ValidationError):
        transfer(product, 1, branch, branch, org.supervisor)
    assert_consistent(product)


def test_an_edit_of_the_product_never_writes_an_old_on_hand(org):
    product = make_product(org.supervisor)
    stale = Product.objects.get(pk=product.pk)  # read before the receipt
    move_stock(product, 7, "receipt", org.supervisor)
    stale.name = "改了名字"
    stale.save()
    assert Product.objects.get(pk=product.pk).on_hand == 7
    assert_consistent(product)
