"""After-sales requests through the API: an order's requests, a new one on one of its lines, and
completing or rejecting one, with the rules of kehu/orders/aftersales.py."""

from datetime import datetime
from decimal import Decimal

from ninja import Schema

from kehu.core.api_input import StrictIn
from kehu.core.money import MoneyIn, MoneyOut


class AfterSalesIn(StrictIn):
    line: int
    kind: str
    quantity: Decimal
    reason: str


class AfterSalesDecisionIn(StrictIn):
    reason: str = ""  # required to reject
    refund: MoneyIn | None = None  # a return's refund; default: the line's price for the quantity, at most what was paid


class AfterSalesOut(Schema):
    id: int
    line: int
    kind: str
    quantity: Decimal
    reason: str
    status: str
    refund: MoneyOut
    created_at: datetime
    completed_at: datetime | None


def after_sales_out(r) -> dict:
    return {"id": r.pk, "line": r.order_line_id, "kind": r.kind, "quantity": r.quantity, "reason": r.reason,
            "status": r.status, "refund": r.refund, "created_at": r.created_at, "completed_at": r.completed_at}


def extend(router, rt):
    from django.shortcuts import get_object_or_404

    from kehu.core.api import get_visible, require

    from . import aftersales
    from .models import AfterSalesRequest

    @router.get("/{int:pk}/after-sales", response=list[AfterSalesOut], operation_id="order_after_sales")
    def list_after_sales(request, pk: int):
        require(request, rt, "view")
        order = get_visible(request, rt, pk)
        return [after_sales_out(r) for r in AfterSalesRequest.objects.filter(order_line__order=order)]

    @router.post("/{int:pk}/after-sales", response={201: AfterSalesOut}, operation_id="order_request_after_sales",
                 summary="Record a return, exchange or repair request on a shipped goods line (at most what was "
                         "shipped, less what other returns and exchanges take back)")
    def request_after_sales(request, pk: int, payload: AfterSalesIn):
        require(request, rt, "edit")
        order = get_visible(request, rt, pk)
        line = get_object_or_404(order.lines, pk=payload.line)
        made = aftersales.request_after_sales(line, request.auth, kind=payload.kind, quantity=payload.quantity,
                                              reason=payload.reason)
        return 201, after_sales_out(made)

    @router.post("/{int:pk}/after-sales/{int:request_id}/complete", response=AfterSalesOut,
                 operation_id="order_complete_after_sales",
                 summary="Complete a request: a return puts the goods back in stock and refunds what was paid, "
                         "an exchange ships them again, a repair changes no stock")
    def complete(request, pk: int, request_id: int, payload: AfterSalesDecisionIn):
        require(request, rt, "edit")
        order = get_visible(request, rt, pk)
        item = get_object_or_404(AfterSalesRequest, pk=request_id, order_line__order=order)
        return after_sales_out(aftersales.complete(item, request.auth, refund=payload.refund))

    @router.post("/{int:pk}/after-sales/{int:request_id}/reject", response=AfterSalesOut,
                 operation_id="order_reject_after_sales", summary="Reject a request (a reason is required)")
    def reject(request, pk: int, request_id: int, payload: AfterSalesDecisionIn):
        require(request, rt, "edit")
        order = get_visible(request, rt, pk)
        item = get_object_or_404(AfterSalesRequest, pk=request_id, order_line__order=order)
        return after_sales_out(aftersales.reject(item, request.auth, reason=payload.reason))
