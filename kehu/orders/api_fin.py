"""The payment plan, payments and refunds of an order (added to the order's CRUD router by
api.py's `extend`; a contract's router can take the same). Invoices are the generic CRUD of the
invoice record type with its transitions. Every write is a service of kehu/orders/payments.py:
a refusal is a 422 naming the field, with nothing written."""

import datetime

from django.core.exceptions import ValidationError
from ninja import Schema

from kehu.core.api_input import StrictIn
from kehu.core.money import MoneyIn, MoneyOut

from . import payments


class InstalmentIn(StrictIn):
    due_on: datetime.date
    amount: MoneyIn
    notes: str = ""


class PlanIn(StrictIn):
    instalments: list[InstalmentIn]


class InstalmentOut(Schema):
    id: int
    position: int
    due_on: datetime.date
    amount: MoneyOut
    notes: str


class PlanOut(Schema):
    total: MoneyOut
    instalments: list[InstalmentOut]


class PaymentIn(StrictIn):
    amount: MoneyIn
    received_on: datetime.date | None = None
    method: int | None = None
    reference: str = ""
    notes: str = ""


class RefundIn(PaymentIn):
    after_sales: int | None = None


class PaymentOut(Schema):
    id: int
    number: str
    kind: str
    received_on: datetime.date
    amount: MoneyOut
    method: int | None
    reference: str
    notes: str
    created_by: int | None


def plan_out(doc) -> dict:
    return {"total": payments.doc_total(doc),
            "instalments": [{"id": i.pk, "position": i.position, "due_on": i.due_on, "amount": i.amount,
                             "notes": i.notes} for i in doc.instalments.all()]}


def payment_out(p) -> dict:
    return {"id": p.pk, "number": p.number, "kind": p.kind, "received_on": p.received_on, "amount": p.amount,
            "method": p.method_id, "reference": p.reference, "notes": p.notes, "created_by": p.created_by_id}


def _method(pk):
    from kehu.core.models import DictItem

    if pk is None:
        return None
    item = DictItem.objects.filter(pk=pk, kind="payment_method", active=True).first()
    if item is None:
        raise ValidationError({"method": ["Unknown or inactive payment method."]})
    return item


def extend_document(router, rt):
    from kehu.core.api import get_visible, require

    key = rt.key

    @router.get("/{int:pk}/plan", response=PlanOut, operation_id=f"{key}_plan", summary="The payment plan")
    def get_plan(request, pk: int):
        require(request, rt, "view")
        return plan_out(get_visible(request, rt, pk))

    @router.put("/{int:pk}/plan", response=PlanOut, operation_id=f"{key}_set_plan",
                summary="Replace the payment plan: the instalments add up to the total (an empty list removes it)")
    def put_plan(request, pk: int, payload: PlanIn):
        require(request, rt, "view")
        doc = get_visible(request, rt, pk)
        payments.set_plan(doc, [i.dict() for i in payload.instalments], request.auth)
        doc.refresh_from_db()
        return plan_out(doc)

    @router.get("/{int:pk}/payments", response=list[PaymentOut], operation_id=f"{key}_payments",
                summary="Payments and refunds (negative), newest first")
    def list_payments(request, pk: int):
        require(request, rt, "view")
        doc = get_visible(request, rt, pk)
        if not request.auth.has_right("payment", "view"):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied("No right payment.view.")
        return [payment_out(p) for p in doc.payments.filter(deleted_at__isnull=True).order_by("-received_on", "-id")]

    @router.post("/{int:pk}/payments", response={201: PaymentOut}, operation_id=f"{key}_record_payment",
                 summary="Record a payment received; more than is still owed is refused (422, nothing written)")
    def post_payment(request, pk: int, payload: PaymentIn):
        require(request, rt, "view")
        doc = get_visible(request, rt, pk)
        payment = payments.record_payment(doc, payload.amount, request.auth, received_on=payload.received_on,
                                          method=_method(payload.method), reference=payload.reference,
                                          notes=payload.notes)
        return 201, payment_out(payment)

    @router.post("/{int:pk}/refunds", response={201: PaymentOut}, operation_id=f"{key}_record_refund",
                 summary="Record a refund (a positive amount, kept as a negative payment); at most what was received")
    def post_refund(request, pk: int, payload: RefundIn):
        from .models import AfterSalesRequest

        require(request, rt, "view")
        doc = get_visible(request, rt, pk)
        after_sales = None
        if payload.after_sales is not None:
            after_sales = AfterSalesRequest.objects.filter(pk=payload.after_sales).first()
            if after_sales is None:
                raise ValidationError({"after_sales": ["Unknown after-sales request."]})
        payment = payments.record_refund(doc, payload.amount, request.auth, after_sales=after_sales,
                                         received_on=payload.received_on, method=_method(payload.method),
                                         reference=payload.reference, notes=payload.notes)
        return 201, payment_out(payment)
