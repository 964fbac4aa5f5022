"""Test data builders for products and warehouses, shared by every app's tests (the orders app's too)."""

import itertools
from decimal import Decimal

from .models import Product, ProductCategory, Warehouse

_seq = itertools.count(1)


def make_category(name=None, parent=None) -> ProductCategory:
    category = ProductCategory(name=name or f"分类{next(_seq)}", parent=parent)
    category.full_clean()
    category.save()
    return category


def make_warehouse(name=None, **extra) -> Warehouse:
    n = next(_seq)
    wh = Warehouse(code=extra.pop("code", f"WH{n:03d}"), name=name or f"仓库{n}", **extra)
    wh.full_clean()
    wh.save()
    return wh


def make_product(owner=None, name=None, *, stock=None, warehouse=None, **extra) -> Product:
    """A validated, saved product (goods unless `kind="service"`); `stock`: that many units
    received into `warehouse` (None: the default) by `owner`."""
    n = next(_seq)
    product = Product(code=extra.pop("code", f"P{n:05d}"), name=name or f"测试商品{n}", owner=owner,
                      created_by=owner, list_price=extra.pop("list_price", Decimal("199.00")),
                      cost=extra.pop("cost", Decimal("120.00")), **extra)
    product.full_clean()
    product.save()
    if stock:
        from .services import move_stock

        move_stock(product, stock, "receipt", owner, warehouse=warehouse, reason="期初库存")
    return product
