"""Stock: the one way a product's quantity changes (the orders app ships through `move_stock`).

    move = move_stock(product, Decimal("-2"), "shipment", user, document=order)
    transfer(product, 5, main, branch, user, reason="补货")
    on_hand(product)              # every warehouse; on_hand(product, warehouse) for one

The contract of `move_stock`:

- one ledger row (`StockMove`) and its balance are written in one transaction, or nothing is;
- it locks the product row, then the (product, warehouse) balance row (created when missing), so
  two moves of one product never interleave: on PostgreSQL by `SELECT … FOR UPDATE`, on SQLite by
  the write lock every transaction takes at BEGIN (`transaction_mode="IMMEDIATE"`, kehu/settings.py);
  a caller moving several products in one transaction moves them in product id order;
- it refuses (a `ValidationError` naming the product, the warehouse, the stock on hand and the
  quantity asked for; nothing written) a quantity of zero, any move of a service, and a move that
  would take the balance below zero unless the product allows back orders;
- `document` is what caused the move: a model instance (its model name, pk and `str()` are kept)
  or a tuple `(type, id, label)`, e.g. `("order", 42, "DD202612030001")`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Product, StockBalance, StockMove, Warehouse

KINDS = frozenset(StockMove.Kind.values)
INBOUND = frozenset({"receipt", "return", "transfer_in"})  # a quantity of these kinds is positive
OUTBOUND = frozenset({"shipment", "transfer_out"})  # negative
# "adjustment": either sign
MAX_QUANTITY = Decimal(10) ** 12  # QuantityField: 15 digits, 3 of them decimals


def default_warehouse() -> Warehouse:
    """The default warehouse (the migration creates it; made again if an administrator's data lost it)."""
    found = Warehouse.objects.filter(is_default=True).first()
    if found is None:
        found, _created = Warehouse.objects.get_or_create(
            code="MAIN", defaults={"name": "默认仓库", "name_en": "Main warehouse", "is_default": True})
        if not found.is_default:
            found.is_default = True
            found.save()
    return found


def fmt_qty(value: Decimal) -> str:
    """3.000 -> "3", 2.500 -> "2.5": a quantity as people write it."""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _quantity(value) -> Decimal:
    if isinstance(value, float):
        raise TypeError("A quantity is never a float; pass a Decimal, an int or a string.")
    try:
        q = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"quantity": _("Enter a quantity.")}) from None
    if not q.is_finite():
        raise ValidationError({"quantity": _("Enter a quantity.")})
    if abs(q) >= MAX_QUANTITY:
        raise ValidationError({"quantity": _("Enter a quantity under one trillion.")})
    q = q.quantize(Decimal("0.001"))
    if q == 0:
        raise ValidationError({"quantity": _("The quantity cannot be zero.")})
    return q


def _document(document) -> tuple[str, int | None, str]:
    if document is None:
        return "", None, ""
    if isinstance(document, tuple | list):
        kind, pk, label = document
        return str(kind or "")[:40], (int(pk) if pk is not None else None), str(label or "")[:100]
    return document._meta.model_name, document.pk, str(document)[:100]


def _locked_balance(product_id: int, warehouse_id: int) -> StockBalance:
    """The balance row, locked until the transaction ends; created first when it does not exist.
    `INSERT … ON CONFLICT DO NOTHING` is safe when two transactions create it at once: the
    second waits for the first, then finds the row."""
    StockBalance.objects.bulk_create([StockBalance(product_id=product_id, warehouse_id=warehouse_id)],
                                     ignore_conflicts=True)
    return StockBalance.objects.select_for_update().get(product_id=product_id, warehouse_id=warehouse_id)


def move_stock(product, quantity, kind, user, *, warehouse=None, reason="", document=None) -> StockMove:
    """Add `quantity` (negative: take it away) of `product` to `warehouse` (None: the default), as
    a ledger row of `kind` by `user`. See the module for what it locks and refuses."""
    if kind not in KINDS:
        raise ValidationError({"kind": _("Unknown kind of stock move “%(kind)s”.") % {"kind": kind}})
    qty = _quantity(quantity)
    if kind in INBOUND and qty < 0:
        raise ValidationError({"quantity": _("%(kind)s adds stock: enter a positive quantity.") % {
            "kind": StockMove.Kind(kind).label}})
    if kind in OUTBOUND and qty > 0:
        raise ValidationError({"quantity": _("%(kind)s takes stock away: enter a negative quantity.") % {
            "kind": StockMove.Kind(kind).label}})
    warehouse = warehouse or default_warehouse()
    doc_type, doc_id, doc_label = _document(document)
    with transaction.atomic():
        # the product row first: every move of this product waits here (PostgreSQL); on SQLite the
        # IMMEDIATE transaction already holds the database's write lock
        locked = Product.all_objects.select_for_update().only(
            "id", "code", "name", "kind", "allow_backorder", "deleted_at").get(pk=product.pk)
        if locked.kind != Product.Kind.GOODS:
            raise ValidationError({"product": _("%(product)s is a service: services are not stocked.") % {
                "product": locked}})
        balance = _locked_balance(locked.pk, warehouse.pk)
        after = balance.on_hand + qty
        if after < 0 and not locked.allow_backorder:
            raise ValidationError({"quantity": _(
                "Not enough stock of %(product)s in %(warehouse)s: %(on_hand)s on hand, %(requested)s requested.") % {
                "product": locked, "warehouse": warehouse, "on_hand": fmt_qty(balance.on_hand),
                "requested": fmt_qty(-qty)}})
        now = timezone.now()
        StockBalance.objects.filter(pk=balance.pk).update(on_hand=F("on_hand") + qty, updated_at=now)
        Product.all_objects.filter(pk=locked.pk).update(on_hand=F("on_hand") + qty)
        move = StockMove(product=locked, warehouse=warehouse, kind=kind, quantity=qty, balance_after=after,
                         reason=(reason or "")[:255], document_type=doc_type, document_id=doc_id,
                         document_label=doc_label, created_by=user, updated_by=user, created_at=now)
        move.save()
    if isinstance(product, Product):  # the caller's instance shows the new total
        product.on_hand = Product.all_objects.values_list("on_hand", flat=True).get(pk=product.pk)
    return move


def transfer(product, quantity, from_warehouse, to_warehouse, user, reason="") -> tuple[StockMove, StockMove]:
    """Move `quantity` (positive) of `product` from one warehouse to another: two ledger rows
    (transfer out, transfer in) in one transaction."""
    qty = _quantity(quantity)
    if qty < 0:
        raise ValidationError({"quantity": _("Enter a positive quantity to transfer.")})
    if from_warehouse.pk == to_warehouse.pk:
        raise ValidationError({"to_warehouse": _("Choose another warehouse to transfer to.")})
    with transaction.atomic():
        out = move_stock(product, -qty, StockMove.Kind.TRANSFER_OUT, user, warehouse=from_warehouse, reason=reason,
                         document=("warehouse", to_warehouse.pk, str(to_warehouse)))
        into = move_stock(product, qty, StockMove.Kind.TRANSFER_IN, user, warehouse=to_warehouse, reason=reason,
                          document=("warehouse", from_warehouse.pk, str(from_warehouse)))
    return out, into


def on_hand(product, warehouse=None) -> Decimal:
    """The stock on hand of `product` in `warehouse`, or in every warehouse (None)."""
    if warehouse is None:
        total = StockBalance.objects.filter(product_id=product.pk).aggregate(t=Sum("on_hand"))["t"]
    else:
        total = StockBalance.objects.filter(product_id=product.pk, warehouse_id=warehouse.pk).values_list(
            "on_hand", flat=True).first()
    return total if total is not None else Decimal("0.000")


# --- record actions on a product (kehu/catalog/records.py) ------------------------------------

def receive_action(product, user, data):
    move_stock(product, data["quantity"], StockMove.Kind.RECEIPT, user, warehouse=data.get("warehouse"),
               reason=data.get("reason") or "")
    return product


def adjust_action(product, user, data):
    move_stock(product, data["quantity"], StockMove.Kind.ADJUSTMENT, user, warehouse=data.get("warehouse"),
               reason=data.get("reason") or "")
    return product


def transfer_action(product, user, data):
    transfer(product, data["quantity"], data["from_warehouse"], data["to_warehouse"], user,
             reason=data.get("reason") or "")
    return product
