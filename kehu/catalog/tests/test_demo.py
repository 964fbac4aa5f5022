from django.core.management import call_command
from django.db.models import Sum

from kehu.catalog.models import Product, StockMove, Warehouse


def test_the_demo_has_a_catalogue_loaded_once(db, client):
    call_command("demo", customers=5)
    call_command("demo", customers=5)  # idempotent
    assert Product.objects.count() == 20 and Product.objects.filter(kind="service").count() == 7
    assert Warehouse.objects.count() == 2 and Warehouse.objects.filter(is_default=True).count() == 1
    moves = StockMove.objects.count()
    assert moves > 13
    for product in Product.objects.all():
        assert product.on_hand == (product.moves.aggregate(s=Sum("quantity"))["s"] or 0), product
    assert Product.objects.filter(Product.low_stock_q()).exists()  # the low-stock tab shows something
    Product.objects.filter(code="PR-M2000").update(name="改过的名字")
    call_command("demo", customers=5)  # an existing demo: the catalogue stays as it is
    assert Product.objects.get(code="PR-M2000").name == "改过的名字" and StockMove.objects.count() == moves
