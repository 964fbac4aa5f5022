"""After-sales requests 售后 on an order line: a return, an exchange or a repair of goods that were
shipped, with quantity and reason (seed 000 §四; the service issue turns them into tickets).

- A request asks for at most what was shipped of the line, less what other open or completed
  returns and exchanges of that line already take back.
- Completing a return puts the goods back in stock (a "return" movement in the ledger, naming
  the order) and, where the customer paid, records the refund (a negative payment linked to the
  request, never more than the order received). An exchange takes the goods back and ships the
  same quantity again (two movements: stock refuses when the replacement is not there). A repair
  changes no stock.
- Rejecting needs a reason. Everything runs in one transaction on the locked order."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.catalog.services import fmt_qty
from kehu.core.assignment import acting_as
from kehu.core.money import round_money

from .models import AfterSalesRequest, Order, OrderLine
from .services import parse_quantity

# sent in the transaction that saved a new request (sender=AfterSalesRequest, request=, user=): the
# service app opens a ticket for it (kehu/service/signals.py) without orders importing service
requested = Signal()

TAKES_BACK = (AfterSalesRequest.Kind.RETURN, AfterSalesRequest.Kind.EXCHANGE)
ZERO = Decimal("0.00")


def _check_right(user):
    if user is not None and not user.has_right("order", "edit"):
        raise PermissionDenied(_("You do not have the right to record after-sales requests."))


def _lock_order(order_id) -> Order:
    return Order.all_objects.select_for_update().get(pk=order_id)


def taken_back(line, exclude=None) -> Decimal:
    """What open and completed returns and exchanges of `line` take back already."""
    qs = line.after_sales.filter(kind__in=TAKES_BACK).exclude(status=AfterSalesRequest.Status.REJECTED)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.aggregate(s=Sum("quantity"))["s"] or Decimal(0)


def request_after_sales(line: OrderLine, user, *, kind: str, quantity, reason: str) -> AfterSalesRequest:
    _check_right(user)
    errors = {}
    if kind not in AfterSalesRequest.Kind.values:
        errors["kind"] = _("Choose return, exchange or repair.")
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Say what the customer reported.")
    try:
        qty = parse_quantity(quantity)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        qty = None
    if errors:
        raise ValidationError(errors)
    with acting_as(user), transaction.atomic():
        order = _lock_order(line.order_id)
        line = OrderLine.objects.select_related("product").get(pk=line.pk)
        if order.deleted_at is not None or order.status == Order.Status.CANCELLED:
            raise ValidationError({"order": _("Order %(number)s is cancelled.") % {"number": order.number}})
        if not line.stocked or line.shipped_quantity <= 0:
            raise ValidationError({"order_line": _("Nothing of “%(line)s” was shipped: there is nothing to take "
                                                   "back or repair.") % {"line": line.label}})
        available = line.shipped_quantity - (taken_back(line) if kind in TAKES_BACK else 0)
        if qty <= 0 or qty > available:
            raise ValidationError({"quantity": _("Enter a quantity from 0.001 to %(n)s (shipped %(shipped)s).") % {
                "n": fmt_qty(max(available, Decimal(0))), "shipped": fmt_qty(line.shipped_quantity)}})
        request = AfterSalesRequest(order_line=line, kind=kind, quantity=qty, reason=reason[:300], created_by=user)
        request.full_clean()
        request.save()
        _log(order, user, _("After-sales request: %(kind)s of %(line)s × %(qty)s") % {
            "kind": request.get_kind_display(), "line": line.label, "qty": fmt_qty(qty)})
        requested.send(sender=AfterSalesRequest, request=request, user=user)
        return request


def refund_due(request: AfterSalesRequest, order: Order) -> Decimal:
    """A return's refund: the line's price per unit (tax included) for the quantity returned, but
    never more than the order received less what was refunded already."""
    line = request.order_line
    per_unit = line.gross / line.quantity if line.quantity else ZERO
    return min(round_money(per_unit * request.quantity), max(order.amount_received, ZERO))


def complete(request: AfterSalesRequest, user, *, refund=None) -> AfterSalesRequest:
    """Complete the request: stock back (return), back and out again (exchange), nothing (repair);
    a return of paid goods records the refund (`refund`: the amount, default `refund_due`)."""
    from kehu.catalog import services as stock

    _check_right(user)
    with acting_as(user), transaction.atomic():
        order = _lock_order(request.order_line.order_id)
        request = AfterSalesRequest.objects.select_for_update(of=("self",)).select_related("order_line__product").get(
            pk=request.pk)
        if request.status != AfterSalesRequest.Status.REQUESTED:
            raise ValidationError({"status": _("This request is “%(state)s” already.") % {
                "state": request.get_status_display()}})
        line = request.order_line
        reason = _("Order %(number)s: %(kind)s") % {"number": order.number, "kind": request.get_kind_display()}
        if request.kind in TAKES_BACK:
            stock.move_stock(line.product, request.quantity, "return", user, reason=reason, document=order)
        if request.kind == AfterSalesRequest.Kind.EXCHANGE:
            try:
                stock.move_stock(line.product, -request.quantity, "shipment", user, reason=reason, document=order)
            except ValidationError as exc:
                raise ValidationError({"quantity": exc.messages}) from None
        if request.kind == AfterSalesRequest.Kind.RETURN:
            amount = refund_due(request, order) if refund is None else round_money(Decimal(str(refund)))
            if amount < 0:
                raise ValidationError({"refund": _("A refund cannot be negative.")})
            if amount > 0:
                from . import payments

                payments.record_refund(order, amount, user, after_sales=request,
                                       notes=_("Return: %(line)s × %(qty)s") % {
                                           "line": line.label, "qty": fmt_qty(request.quantity)})
            request.refund = amount
        request.status = AfterSalesRequest.Status.COMPLETED
        request.completed_at = timezone.now()
        request.save()
        _log(order, user, _("After-sales request completed: %(kind)s of %(line)s × %(qty)s") % {
            "kind": request.get_kind_display(), "line": line.label, "qty": fmt_qty(request.quantity)})
        return request


def reject(request: AfterSalesRequest, user, *, reason: str) -> AfterSalesRequest:
    _check_right(user)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the request is rejected.")})
    with acting_as(user), transaction.atomic():
        order = _lock_order(request.order_line.order_id)
        request = AfterSalesRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != AfterSalesRequest.Status.REQUESTED:
            raise ValidationError({"status": _("This request is “%(state)s” already.") % {
                "state": request.get_status_display()}})
        request.status = AfterSalesRequest.Status.REJECTED
        request.completed_at = timezone.now()
        request.save()
        _log(order, user, _("After-sales request rejected: %(reason)s") % {"reason": reason.strip()[:200]})
        return request


def _log(order, user, message: str) -> None:
    """The order's change log names the after-sales step (its history page)."""
    from kehu.core.audit import log_changes

    log_changes(order, {str(_("After-sales")): ("", message)}, actor=user)
