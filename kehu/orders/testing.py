"""Test data builders for quotations and orders, shared by every app's tests."""

import itertools
from decimal import Decimal

from kehu.customers.testing import make_customer

from . import services
from .models import Order, Quotation

_seq = itertools.count(1)


def _document(model, owner, lines, **extra):
    n = next(_seq)
    if "customer" not in extra:
        extra["customer"] = make_customer(owner)
    doc = model(title=extra.pop("title", f"{model._meta.verbose_name}{n}"), owner=owner, created_by=owner, **extra)
    doc.full_clean()
    doc.save()
    for line in lines:
        services.save_line(doc, owner, line)
    doc.refresh_from_db()
    return doc


def service_line(description="实施服务", quantity="1", unit_price="1000.00", tax_rate="6", **extra):
    """A free-text line (nothing to ship): its values as the line form's cleaned data."""
    return {"description": description, "quantity": Decimal(quantity), "unit_price": Decimal(unit_price),
            "tax_rate": Decimal(tax_rate), "discount_pct": Decimal(extra.pop("discount_pct", "0")), **extra}


def product_line(product, quantity="1", **extra):
    return {"product": product, "quantity": Decimal(quantity), **extra}


def make_quotation(owner, lines=None, **extra) -> Quotation:
    """A draft quotation for a new customer (unless one is given) with one service line (unless
    `lines` are given: dicts as `service_line()` / `product_line()` return)."""
    return _document(Quotation, owner, [service_line()] if lines is None else lines, **extra)


def make_order(owner, lines=None, **extra) -> Order:
    """A created order, lines as `make_quotation`."""
    return _document(Order, owner, [service_line()] if lines is None else lines, **extra)
