"""Payments 回款 and invoices 开票 of orders and contracts, in one place: the order page, the API,
the demo and the tests call these.

A *document* is an Order or a Contract; what it is worth is `order.total` or `contract.amount`.

- `set_plan`: the payment plan 回款计划 (instalments whose sum is the document's total).
- `record_payment` / `record_refund`: a Payment row (a refund is a negative one), on the locked
  document row; overpayment and refunds above what was received are refused, nothing written.
- `refresh_payment_figures`: the kept figures (received, payment state, next due date) of the
  document, of its contract, and the customer's kept figures (kehu.orders.figures).
- `request_invoice` and the invoice workflow (kehu/orders/workflows_fin.py): requested → issued →
  cancelled; `amount_invoiced` is the sum of the document's invoices that are not cancelled.

Every amount is a Decimal (kehu.core.money); a float is refused."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.assignment import acting_as
from kehu.core.money import format_money, to_money

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


# --- documents ---------------------------------------------------------------------------------
def is_order(doc) -> bool:
    from .models import Order

    return isinstance(doc, Order)


def doc_field(doc) -> str:
    """The foreign key of a payment, instalment or invoice to `doc`: "order" or "contract"."""
    return "order" if is_order(doc) else "contract"


def doc_total(doc) -> Decimal:
    """What the document is worth: an order's total, a contract's amount."""
    return doc.total if is_order(doc) else doc.amount


def _lock(doc):
    return type(doc)._base_manager.select_for_update().get(pk=doc.pk)


def _check_right(user, module, action, message):
    if user is not None and not user.has_right(module, action):
        raise PermissionDenied(message)


def _check_open(doc, field="amount"):
    """Money is not received on, nor invoiced for, a cancelled order or a terminated contract."""
    if doc.status in ("cancelled", "terminated"):
        raise ValidationError({field: _("%(doc)s is “%(state)s”: no payment or invoice can be recorded on it.") % {
            "doc": doc.number, "state": doc.get_status_display()}})


def _amount(value, field="amount") -> Decimal:
    """A positive amount of money with at most 2 decimals (a Decimal or its text; never a float)."""
    if isinstance(value, float):
        raise ValidationError({field: _("Enter an amount such as 1234.50.")})
    try:
        amount = to_money(value)
    except (ValidationError, TypeError, ValueError, ArithmeticError):
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationError({field: _("Enter an amount such as 1234.50.")})
    if amount != amount.quantize(CENT):
        raise ValidationError({field: _("Enter an amount with at most 2 decimals.")})
    if amount <= 0:
        raise ValidationError({field: _("Enter an amount greater than zero.")})
    return amount.quantize(CENT)


def _date(value, field) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ValidationError({field: _("Enter a date such as 2026-12-31.")}) from None


def received_total(doc) -> Decimal:
    """The document's payments less its refunds, from the rows (not the kept figure)."""
    from .models import Payment

    total = (Payment.all_objects.filter(deleted_at__isnull=True, **{doc_field(doc): doc.pk}).order_by()
             .aggregate(s=Sum("amount"))["s"])
    return total or ZERO


def invoiced_total(doc, exclude=None) -> Decimal:
    """The amount of the document's invoices that are not cancelled (deleted ones left out)."""
    from .models import Invoice

    qs = Invoice.all_objects.filter(deleted_at__isnull=True, **{doc_field(doc): doc.pk}).exclude(
        status=Invoice.Status.CANCELLED)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.order_by().aggregate(s=Sum("amount"))["s"] or ZERO


# --- the kept figures --------------------------------------------------------------------------
def payment_figures(total: Decimal, received: Decimal, instalments) -> tuple[str, datetime.date | None]:
    """(payment state, next due date) from the amounts and the plan's instalments (due_on, amount)
    in due order: the due date is the first instalment the cumulative payments do not cover."""
    from .models import PaymentState

    if received <= 0:
        state = PaymentState.UNPAID
    elif received >= total:
        state = PaymentState.PAID
    else:
        state = PaymentState.PARTLY_PAID
    due_on = None
    if state != PaymentState.PAID:
        covered = ZERO
        for due, amount in instalments:
            covered += amount
            if covered > received:
                due_on = due
                break
    return state, due_on


def _instalments(doc):
    return list(doc.instalments.order_by("due_on", "position", "id").values_list("due_on", "amount"))


def refresh_payment_figures(doc) -> None:
    """Set the document's received amount, payment state and next due date from its payments and
    plan (and those of its contract, for an order that belongs to one). An UPDATE of these columns
    only: no new version, no change-log entry, no clash with an edit of the document."""
    from .models import Contract, Order

    received = received_total(doc)
    if is_order(doc):
        state, due_on = payment_figures(doc.total, received, _instalments(doc))
        if doc.status == Order.Status.CANCELLED:
            due_on = None  # nothing falls due on a cancelled order
        Order.all_objects.filter(pk=doc.pk).update(amount_received=received, payment_state=state,
                                                   payment_due_on=due_on)
        doc.amount_received, doc.payment_state, doc.payment_due_on = received, state, due_on
        if doc.contract_id:
            refresh_contract_figures(Contract.all_objects.get(pk=doc.contract_id))
    else:
        refresh_contract_figures(doc)


def refresh_contract_figures(contract) -> None:
    """A contract's received amount is its own payments plus its orders' payments."""
    from .models import Contract, Payment

    own = received_total(contract)
    via_orders = (Payment.all_objects.filter(deleted_at__isnull=True, order__contract_id=contract.pk,
                                             order__deleted_at__isnull=True)
                  .order_by().aggregate(s=Sum("amount"))["s"]) or ZERO
    received = own + via_orders
    state, due_on = payment_figures(contract.amount, received, _instalments(contract))
    Contract.all_objects.filter(pk=contract.pk).update(amount_received=received, payment_state=state,
                                                       payment_due_on=due_on)
    contract.amount_received, contract.payment_state, contract.payment_due_on = received, state, due_on


def refresh_invoiced(doc) -> None:
    amount = invoiced_total(doc)
    type(doc).all_objects.filter(pk=doc.pk).update(amount_invoiced=amount)
    doc.amount_invoiced = amount


# --- the payment plan ----------------------------------------------------------------------------
def set_plan(doc, instalments, user):
    """Replace the document's payment plan by `instalments` (dicts: due_on, amount, notes). Their
    sum must equal the document's total (an empty list removes the plan). A ValidationError names
    the field (`instalments.<n>.amount`, `instalments.<n>.due_on`, `instalments`); nothing is
    written then. Returns the new instalments."""
    from .figures import refresh_customers
    from .models import Instalment

    _check_right(user, "payment", "create", _("You do not have the right to change the payment plan."))
    errors = {}
    rows = []
    for i, item in enumerate(instalments):
        item = dict(item)
        row = {}
        try:
            row["due_on"] = _date(item.get("due_on"), f"instalments.{i}.due_on")
        except ValidationError as exc:
            errors.update(exc.message_dict)
        try:
            row["amount"] = _amount(item.get("amount"), f"instalments.{i}.amount")
        except ValidationError as exc:
            errors.update(exc.message_dict)
        notes = str(item.get("notes") or "").strip()
        if len(notes) > 200:
            errors[f"instalments.{i}.notes"] = [_("At most 200 characters.")]
        row["notes"] = notes[:200]
        rows.append(row)
    if errors:
        raise ValidationError(errors)
    with acting_as(user), transaction.atomic():
        doc = _lock(doc)
        if rows:
            _check_open(doc, "instalments")
            total = sum((r["amount"] for r in rows), ZERO)
            if total != doc_total(doc):
                raise ValidationError({"instalments": _(
                    "The instalments add up to %(sum)s; they must add up to the total of %(doc)s, %(total)s.") % {
                    "sum": format_money(total), "doc": doc.number, "total": format_money(doc_total(doc))}})
        doc.instalments.all().delete()
        made = []
        for position, row in enumerate(sorted(rows, key=lambda r: r["due_on"]), start=1):
            made.append(Instalment.objects.create(position=position, **{doc_field(doc): doc}, **row))
        refresh_payment_figures(doc)
        refresh_customers([doc.customer_id])
        return made


def follow_owner(doc) -> None:
    """The document's payments and invoices take its new owner (its assignment: after_assign of
    OrderType and ContractType), so they stay seen and listed with it (Payment.owner)."""
    from .models import Invoice, Payment

    for model in (Payment, Invoice):
        (model.all_objects.filter(**{doc_field(doc): doc}).exclude(owner_id=doc.owner_id)
         .update(owner_id=doc.owner_id))


# --- payments and refunds ------------------------------------------------------------------------
def record_payment(doc, amount, user, *, received_on=None, method=None, reference="", notes=""):
    """Record a payment received for `doc`. Refused (a ValidationError naming the field, nothing
    written): an amount that is not positive, a cancelled order, and more than is still owed."""
    from .figures import refresh_customers
    from .models import Payment

    _check_right(user, "payment", "create", _("You do not have the right to record payments."))
    amount = _amount(amount)
    received_on = _date(received_on, "received_on") if received_on else timezone.localdate()
    with acting_as(user), transaction.atomic():
        doc = _lock(doc)
        _check_open(doc)
        received, total = received_total(doc), doc_total(doc)
        if received + amount > total:
            raise ValidationError({"amount": _(
                "%(amount)s would overpay %(doc)s: its total is %(total)s, %(received)s is received, "
                "at most %(left)s can still be paid.") % {
                "amount": format_money(amount), "doc": doc.number, "total": format_money(total),
                "received": format_money(received), "left": format_money(max(total - received, ZERO))}})
        payment = Payment(customer_id=doc.customer_id, kind=Payment.Kind.PAYMENT, amount=amount,
                          received_on=received_on, method=method, reference=(reference or "")[:100],
                          notes=(notes or "")[:300], created_by=user, updated_by=user, **{doc_field(doc): doc})
        payment.save()
        refresh_payment_figures(doc)
        refresh_customers([doc.customer_id])
        return payment


def record_refund(doc, amount, user, *, after_sales=None, received_on=None, method=None, reference="", notes=""):
    """A refund: a negative payment of kind "refund", never more than was received (the payments
    less the earlier refunds). `after_sales`: the return it refunds, when there is one."""
    from .figures import refresh_customers
    from .models import Payment

    _check_right(user, "payment", "create", _("You do not have the right to record refunds."))
    amount = _amount(amount)
    received_on = _date(received_on, "received_on") if received_on else timezone.localdate()
    with acting_as(user), transaction.atomic():
        doc = _lock(doc)
        received = received_total(doc)
        if amount > received:
            raise ValidationError({"amount": _(
                "A refund of %(amount)s is more than the %(received)s received for %(doc)s.") % {
                "amount": format_money(amount), "received": format_money(received), "doc": doc.number}})
        if after_sales is not None and (not is_order(doc) or after_sales.order_line.order_id != doc.pk):
            raise ValidationError({"after_sales": _("This return belongs to another order.")})
        payment = Payment(customer_id=doc.customer_id, kind=Payment.Kind.REFUND, amount=-amount,
                          received_on=received_on, method=method, reference=(reference or "")[:100],
                          notes=(notes or "")[:300], after_sales=after_sales, created_by=user, updated_by=user,
                          **{doc_field(doc): doc})
        payment.save()
        if after_sales is not None:
            type(after_sales).objects.filter(pk=after_sales.pk).update(refund=F("refund") + amount)
        refresh_payment_figures(doc)
        refresh_customers([doc.customer_id])
        return payment


# --- invoices ------------------------------------------------------------------------------------
def check_invoice_amount(doc, amount, exclude=None, field="amount") -> None:
    """An invoice of `amount` fits what of the document is not invoiced yet (the invoice `exclude`
    left out: the one being changed)."""
    invoiced, total = invoiced_total(doc, exclude=exclude), doc_total(doc)
    if invoiced + amount > total:
        raise ValidationError({field: _(
            "%(amount)s is more than what of %(doc)s is not invoiced yet: its total is %(total)s, %(invoiced)s "
            "is invoiced, at most %(left)s can still be.") % {
            "amount": format_money(amount), "doc": doc.number, "total": format_money(total),
            "invoiced": format_money(invoiced), "left": format_money(max(total - invoiced, ZERO))}})


def check_invoice_tax(amount, tax, field="tax") -> None:
    if tax is not None and tax > amount:
        raise ValidationError({field: _("The tax cannot be more than the invoice's amount.")})


def request_invoice(doc, amount, tax, type, user, *, title="", tax_id="", notes="", invoiced_on=None):
    """Request an invoice 开票申请 for `doc`: refused above what is not invoiced yet. The customer's
    name is the invoice title unless one is given. Returns the Invoice (status "requested")."""
    from .models import Invoice

    _check_right(user, "invoice", "create", _("You do not have the right to request invoices."))
    amount = _amount(amount)
    tax = ZERO if tax in (None, "") else to_money(tax)
    if tax is None or tax < 0:
        raise ValidationError({"tax": _("Enter an amount such as 1234.50.")})
    check_invoice_tax(amount, tax)
    if type not in Invoice.Type.values:
        raise ValidationError({"type": _("Choose an invoice type.")})
    invoiced_on = _date(invoiced_on, "invoiced_on") if invoiced_on else timezone.localdate()
    with acting_as(user), transaction.atomic():
        doc = _lock(doc)
        _check_open(doc)
        check_invoice_amount(doc, amount)
        invoice = Invoice(customer_id=doc.customer_id, type=type, amount=amount, tax=tax, invoiced_on=invoiced_on,
                          title=(title or str(doc.customer.name))[:200], tax_id=(tax_id or "")[:30],
                          notes=(notes or "")[:300], created_by=user, updated_by=user, **{doc_field(doc): doc})
        invoice.full_clean()
        invoice.save()
        refresh_invoiced(doc)
        return invoice


def invoice_document(invoice):
    return invoice.order if invoice.order_id else invoice.contract


def invoice_issued(invoice, user, ctx):
    """The issue transition: the tax invoice's number is required (the workflow asks for it)."""
    if not (invoice.invoice_number or "").strip():
        raise ValidationError({"invoice_number": _("Enter the number printed on the tax invoice.")})
    invoice.issued_at = timezone.now()


def invoice_cancelled(invoice, user, ctx):
    invoice.cancelled_at = timezone.now()


def invoice_changed(sender, instance, **kwargs):
    """post_save of an Invoice (created, changed, cancelled, deleted to the recycle bin, restored):
    its document's invoiced amount follows, in the same transaction."""
    doc = invoice_document(instance)
    if doc is not None:
        refresh_invoiced(doc)


def connect():
    from django.db.models.signals import post_save

    from .models import Invoice

    post_save.connect(invoice_changed, sender=Invoice, dispatch_uid="orders_invoice_invoiced")


# --- what the order page shows ------------------------------------------------------------------
def summary(doc) -> dict:
    """ordered / invoiced / received / outstanding side by side, and the payment status."""
    total = doc_total(doc)
    outstanding = doc.outstanding
    return {"total": total, "invoiced": doc.amount_invoiced, "received": doc.amount_received,
            "outstanding": outstanding, "status": doc.payment_status,
            "to_invoice": max(total - doc.amount_invoiced, ZERO)}
