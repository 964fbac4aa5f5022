"""The rules of quotations, orders and shipments, in one place: the UI, the API, the demo and the
jobs all call these. Every function that writes runs in one transaction on the locked document."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.catalog.services import fmt_qty
from kehu.core.assignment import acting_as

from .contracts import refresh_contract_ordered

ZERO = Decimal(0)
LINE_FIELDS = ("product", "description", "quantity", "unit_price", "discount_pct", "tax_rate")


# --- document lines ---------------------------------------------------------------------------
def lines_editable(doc) -> bool:
    """A quotation's lines change while it is a draft, an order's while it is created."""
    from .models import Order

    return doc.status == (Order.Status.CREATED if isinstance(doc, Order) else "draft")


def _lock(doc):
    return type(doc)._base_manager.select_for_update().get(pk=doc.pk)


def _check_editable(doc):
    if not lines_editable(doc):
        raise ValidationError({"lines": _("The lines of %(doc)s cannot change while it is “%(state)s”.") % {
            "doc": doc.number, "state": doc.get_status_display()}})


def save_line(doc, user, data: dict, line=None):
    """Add (line=None) or change a line of `doc` from cleaned data (LineForm); the document's
    totals follow in the same transaction. Returns the line."""
    return save_lines(doc, user, [(data, line)])[0]


def save_lines(doc, user, items) -> list:
    """Add or change several lines of `doc` at once: `items` are (cleaned data, line or None)
    pairs. The document is locked, checked and re-totalled (with what follows its total: the
    customer's figures, the contract, the payment status) once for all of them, so ten lines cost
    one document save, not ten. All are saved or none. Returns the lines in the order given."""
    with acting_as(user), transaction.atomic():
        doc = _lock(doc)
        _check_editable(doc)
        last = doc.lines.order_by("-position").values_list("position", flat=True).first() or 0
        saved = []
        for data, line in items:
            if line is None:
                last += 1
            saved.append(_apply_line(doc, data, line, last))
        new = [line for line in saved if line.pk is None]
        for line in new:
            line.compute()  # what Line.save() does; bulk_create does not call it
        line_model(doc).objects.bulk_create(new)  # one INSERT for the new lines (their ids come back)
        _touch(doc, user)
        return saved


def prepare_new_lines(doc, items) -> list:
    """The lines of a document not saved yet (created with its lines in one request), from cleaned
    data: checked and computed in memory, the document's totals set from them, so it is inserted
    once with its totals; `insert_lines` writes them once it has its id."""
    _check_editable(doc)
    lines = [_apply_line(doc, data, None, position) for position, data in enumerate(items, start=1)]
    for line in lines:
        line.compute()
    doc.recompute_totals(lines)
    return lines


def insert_lines(doc, lines, user=None) -> None:
    """Write the lines `prepare_new_lines` made, in one INSERT, once `doc` has its id; what an
    order's total moves (its contract's ordered amount) follows."""
    field = _doc_field(doc)
    for line in lines:
        setattr(line, field, doc)
    line_model(doc).objects.bulk_create(lines)
    refresh_contract_ordered(getattr(doc, "contract_id", None))


def _apply_line(doc, data: dict, line, position: int):
    """Set one line from cleaned data and check it; a changed line is saved, a new one is left to
    save_lines' single insert (save_lines holds the document's lock)."""
    if line is None:
        line = line_model(doc)(**{_doc_field(doc): doc})
        line.position = position
        before = (None, None)
        new_product = data.get("product")
        product_changed = True
    else:
        line = doc.lines.select_for_update().get(pk=line.pk)
        before = (line.unit_price, line.tax_rate)
        new_product = data.get("product", line.product)
        product_changed = (new_product.pk if new_product else None) != line.product_id
    for name in ("quantity", "unit_price", "discount_pct", "tax_rate"):
        if data.get(name) is not None:
            setattr(line, name, data[name])
    if "description" in data:
        line.description = data["description"] or ""
    if product_changed:
        # a new product brings its price, tax rate, unit (and cost) unless the user typed their
        # own price or rate in the same change (one that differs from what the line had)
        line.product = new_product
        if new_product is not None:
            if data.get("unit_price") in (None, before[0]):
                line.unit_price = new_product.list_price or ZERO
            if data.get("tax_rate") in (None, before[1]):
                line.tax_rate = new_product.tax_rate if new_product.tax_rate is not None else ZERO
            line.unit = str(new_product.unit) if new_product.unit_id else ""
            if hasattr(line, "unit_cost"):
                line.unit_cost = new_product.cost or ZERO
        else:
            line.unit = ""
            if hasattr(line, "unit_cost"):
                line.unit_cost = ZERO
    if line.product_id is None and not line.description:
        raise ValidationError({"description": _("Choose a product or describe the line.")})
    # the product is a row the form read (the foreign key holds it in the database too): the
    # model's check would only read it again
    line.full_clean(exclude=[_doc_field(doc), "product"])
    if line.pk is not None:
        line.save()
    return line


def delete_line(doc, user, line) -> None:
    with acting_as(user), transaction.atomic():
        doc = _lock(doc)
        _check_editable(doc)
        doc.lines.filter(pk=line.pk).delete()
        _touch(doc, user)


def line_model(doc):
    """The line model of a document (works before the document is saved, unlike `doc.lines`)."""
    return type(doc)._meta.get_field("lines").related_model


def _doc_field(doc) -> str:
    return doc._meta.model_name  # "order" / "quotation": the line's foreign key


def _touch(doc, user) -> None:
    """Recompute the document's totals from its lines and save it (a new version, a change-log
    entry naming the totals)."""
    doc.recompute_totals()
    if user is not None:
        doc.updated_by = user
    # only what a line changes: the change log diffs the totals, not every column (reading each
    # foreign key's row to name it)
    doc.save(update_fields=[*doc.TOTAL_FIELDS, "updated_by"])
    refresh_contract_ordered(getattr(doc, "contract_id", None))  # an order's total moves its contract's
    if hasattr(doc, "payment_state"):  # an order's payment status follows its total (payments.py)
        from .payments import refresh_payment_figures

        refresh_payment_figures(doc)


# --- quotations -------------------------------------------------------------------------------
def quotation_send_refusal(quotation, user):
    if not quotation.lines.exists():
        return _("Add at least one line before sending the quotation.")
    return None


def quotation_sent(quotation, user, ctx):
    quotation.sent_at = timezone.now()


def quotation_decided(quotation, user, ctx):
    quotation.decided_at = timezone.now()


def revise_quotation(quotation, user, ctx):
    """The next revision: a draft copy of the quotation and its lines, under the same number with
    -V2, -V3…; the one revised stays as it was sent ("revised")."""
    from .models import Quotation

    base = quotation.number.split("-V")[0]
    revision = quotation.revision + 1
    new = Quotation(
        number=f"{base}-V{revision}", revision=revision, previous=quotation, title=quotation.title,
        customer_id=quotation.customer_id, contact_id=quotation.contact_id,
        opportunity_id=quotation.opportunity_id, owner_id=quotation.owner_id, terms=quotation.terms,
        valid_until=quotation.valid_until, notes=quotation.notes, created_by=user, updated_by=user,
        net_total=quotation.net_total, tax_total=quotation.tax_total, total=quotation.total)
    new.save()
    for line in quotation.lines.all():
        line.pk = None
        line.quotation = new
        line.save()
    ctx.log["next_revision"] = new.pk
    return new


def make_order_refusal(quotation, user):
    if quotation.status != "accepted":
        return _("Only an accepted quotation becomes an order.")
    if quotation.orders.filter(deleted_at__isnull=True).exists():
        return _("This quotation is an order already.")
    return None


def order_from_quotation(quotation, user, data=None):
    """An accepted quotation becomes an order in one action: its parties and lines, with the
    products' current costs."""
    from kehu.catalog.models import Product

    from .models import Order, OrderLine

    with acting_as(user), transaction.atomic():
        reason = make_order_refusal(quotation, user)
        if reason:
            raise ValidationError({"quotation": reason})
        order = Order(customer_id=quotation.customer_id, contact_id=quotation.contact_id,
                      opportunity_id=quotation.opportunity_id, quotation=quotation, title=quotation.title,
                      owner_id=quotation.owner_id or getattr(user, "pk", None), notes="",
                      created_by=user, updated_by=user)
        order.save()
        lines = list(quotation.lines.all())
        costs = dict(Product.all_objects.filter(pk__in=[ln.product_id for ln in lines if ln.product_id])
                     .values_list("pk", "cost"))
        for ln in lines:
            OrderLine(order=order, position=ln.position, product_id=ln.product_id, description=ln.description,
                      quantity=ln.quantity, unit=ln.unit, unit_price=ln.unit_price, discount_pct=ln.discount_pct,
                      tax_rate=ln.tax_rate, unit_cost=costs.get(ln.product_id) or ZERO).save()
        order.recompute_totals()
        order.save()
        return order


def opportunity_order_refusal(opportunity, user):
    if not (opportunity.stage_id and opportunity.stage.is_won):
        return _("Only a won opportunity becomes an order.")
    if opportunity.customer_id is None:
        return _("The opportunity has no customer yet.")
    if opportunity.orders.filter(deleted_at__isnull=True).exclude(status="cancelled").exists():
        return _("This opportunity has an order already.")
    return None


def order_from_opportunity(opportunity, user, data=None):
    """A won opportunity becomes an order: from its accepted quotation when it has one (its lines,
    like "Make an order" on the quotation), otherwise one line of what was sold (the deal's products
    or services) at the deal amount, to be detailed while the order is "created"."""
    from .models import Order, OrderLine

    reason = opportunity_order_refusal(opportunity, user)
    if reason:
        raise ValidationError({"opportunity": reason})
    for quotation in opportunity.quotations.filter(deleted_at__isnull=True, status="accepted").order_by("-id"):
        if make_order_refusal(quotation, user) is None:
            return order_from_quotation(quotation, user)
    with acting_as(user), transaction.atomic():
        order = Order(customer_id=opportunity.customer_id, opportunity=opportunity, title=opportunity.title,
                      owner_id=opportunity.owner_id or getattr(user, "pk", None), created_by=user, updated_by=user)
        order.save()
        OrderLine(order=order, position=1, description=(opportunity.deal_products or opportunity.title)[:300],
                  quantity=Decimal(1), unit_price=opportunity.amount or ZERO).save()
        order.recompute_totals()
        order.save()
        return order


# --- orders -----------------------------------------------------------------------------------
def order_has_lines(order, user):
    if not order.lines.exists():
        return _("Add at least one line to the order first.")
    return None


def order_ship_refusal(order, user):
    reason = order_has_lines(order, user)
    if reason:
        return reason
    waiting = [ln for ln in order.lines.select_related("product") if ln.to_ship > 0]
    if waiting:
        return _("Record a shipment for the goods first: %(lines)s.") % {
            "lines": ", ".join(f"{ln.label} × {fmt_qty(ln.to_ship)}" for ln in waiting[:5])}
    return None


def order_shipped(order, user, ctx):
    order.shipped_at = timezone.now()


def order_delivered(order, user, ctx):
    order.delivered_at = timezone.now()


def order_cancel_refusal(order, user):
    if order.lines.filter(shipped_quantity__gt=0).exists():
        return _("Goods of this order were shipped: record their return before cancelling it.")
    return None


def order_cancelled(order, user, ctx):
    order.cancelled_at = timezone.now()
    refresh_contract_ordered(order.contract_id, without=order.pk)  # saved after this: leave it out now
    order.payment_due_on = None  # nothing falls due on a cancelled order (kehu/orders/payments.py)


def parse_quantity(value, field="quantity") -> Decimal:
    try:
        qty = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter a number.")}) from None
    if not qty.is_finite() or qty < 0 or qty.as_tuple().exponent < -3:
        raise ValidationError({field: _("Enter a quantity of at least 0, with at most 3 decimals.")})
    return qty


def record_shipment(order, user, quantities: dict, *, warehouse=None, carrier="", tracking_number="",
                    notes="", check_right=True):
    """Ship `quantities` ({order line id: quantity}) of the order's goods from `warehouse` (the
    default one when None): one Shipment, a stock movement per line (refused, with nothing written,
    when the stock is short), the lines' shipped quantities, and the order's move to "shipped"
    once every goods line is. Returns the shipment."""
    from kehu.catalog import services as stock
    from kehu.core.registry import registry

    from .models import Shipment, ShipmentLine

    if check_right and user is not None and not user.has_right("order", "edit"):
        raise PermissionDenied(_("You do not have the right to ship orders."))
    with acting_as(user), transaction.atomic():
        order = _lock(order)
        if order.status not in ("created", "processing"):
            raise ValidationError({"order": _("Order %(number)s is “%(state)s”: nothing more can be shipped.") % {
                "number": order.number, "state": order.get_status_display()}})
        warehouse = warehouse or stock.default_warehouse()
        lines = {ln.pk: ln for ln in order.lines.select_for_update(of=("self",)).select_related("product")}
        wanted = {}
        errors = {}
        for key, value in quantities.items():
            line = lines.get(int(key))
            if line is None:
                errors[f"line_{key}"] = [_("This line is not part of the order.")]
                continue
            qty = parse_quantity(value, f"line_{key}")
            if qty == 0:
                continue
            if not line.stocked:
                errors[f"line_{key}"] = [_("“%(line)s” is not goods: it is never shipped.") % {"line": line.label}]
            elif qty > line.to_ship:
                errors[f"line_{key}"] = [_("At most %(n)s of “%(line)s” remain to ship.") % {
                    "n": fmt_qty(line.to_ship), "line": line.label}]
            else:
                wanted[line.pk] = qty
        if errors:
            raise ValidationError(errors)
        if not wanted:
            raise ValidationError({"lines": _("Enter the quantity shipped of at least one line.")})
        shipment = Shipment.objects.create(order=order, warehouse=warehouse, carrier=carrier,
                                           tracking_number=tracking_number, notes=notes, created_by=user)
        # products in id order (catalog.services: several moves in one transaction never deadlock)
        for pk, qty in sorted(wanted.items(), key=lambda item: (lines[item[0]].product_id, item[0])):
            line = lines[pk]
            try:
                stock.move_stock(line.product, -qty, "shipment", user, warehouse=warehouse,
                                 reason=_("Order %(number)s") % {"number": order.number}, document=order)
            except ValidationError as exc:
                raise ValidationError({f"line_{pk}": exc.messages}) from None
            ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=qty)
            line.shipped_quantity += qty
            line.save(update_fields=["shipped_quantity"])
        workflow = registry.get("order").workflow
        if order.status == "created":  # shipping started: the order is being processed
            workflow.take(order, "process", user)
        if order_ship_refusal(order, user) is None:
            workflow.take(order, "ship", user)
        return shipment
