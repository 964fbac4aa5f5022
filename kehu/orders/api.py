"""Lines and shipments, added to the generic CRUD routers of quotations and orders. Lines are
validated by the same LineForm as the page's lines editor and written by the same services."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from ninja import Schema

from kehu.core.api_input import StrictIn
from kehu.core.money import MoneyIn, MoneyOut

from . import services
from .forms import line_form


class LineIn(StrictIn):
    product: int | None = None
    description: str | None = None
    quantity: Decimal | None = None
    unit_price: MoneyIn | None = None
    discount_pct: Decimal | None = None
    tax_rate: Decimal | None = None


class LineOut(Schema):
    id: int
    position: int
    product: int | None
    description: str
    label: str
    quantity: Decimal
    unit: str
    unit_price: MoneyOut
    discount_pct: Decimal
    tax_rate: Decimal
    net: MoneyOut
    tax: MoneyOut
    gross: MoneyOut
    shipped_quantity: Decimal | None = None


class ShipmentLineIn(StrictIn):
    line: int
    quantity: Decimal


class ShipmentIn(StrictIn):
    lines: list[ShipmentLineIn]
    warehouse: int | None = None
    carrier: str = ""
    tracking_number: str = ""
    notes: str = ""


class ShipmentLineOut(Schema):
    line: int
    product: int | None
    quantity: Decimal


class ShipmentOut(Schema):
    id: int
    warehouse: int
    shipped_at: str
    carrier: str
    tracking_number: str
    notes: str
    created_by: int | None
    lines: list[ShipmentLineOut]


def line_out(line) -> dict:
    return {"id": line.pk, "position": line.position, "product": line.product_id, "description": line.description,
            "label": line.label, "quantity": line.quantity, "unit": line.unit, "unit_price": line.unit_price,
            "discount_pct": line.discount_pct, "tax_rate": line.tax_rate, "net": line.net, "tax": line.tax,
            "gross": line.gross, "shipped_quantity": getattr(line, "shipped_quantity", None)}


def shipment_out(s) -> dict:
    return {"id": s.pk, "warehouse": s.warehouse_id, "shipped_at": s.shipped_at.isoformat(), "carrier": s.carrier,
            "tracking_number": s.tracking_number, "notes": s.notes, "created_by": s.created_by_id,
            "lines": [{"line": sl.order_line_id, "product": sl.order_line.product_id, "quantity": sl.quantity}
                      for sl in s.lines.all()]}


def _cleaned(doc, payload: dict, line=None, index=None, products=None) -> dict:
    """The line's fields through the page's LineForm (the line's current values for what a PATCH
    leaves out); a 422 names each field, prefixed `lines.<n>.` in a list."""
    current = {}
    if line is not None:
        current = {"product": line.product_id, "description": line.description, "quantity": line.quantity,
                   "unit_price": line.unit_price, "discount_pct": line.discount_pct, "tax_rate": line.tax_rate}
    data = {**current, **{k: v for k, v in payload.items() if v is not None or k == "product"}}
    form = line_form(services.line_model(doc))({k: "" if v is None else str(v) for k, v in data.items()}, instance=line,
                                      products=products)
    if not form.is_valid():
        prefix = f"lines.{index}." if index is not None else ""
        raise ValidationError({f"{prefix}{k}": v for k, v in form.errors.as_data().items()})
    cleaned = {k: form.cleaned_data.get(k) for k in services.LINE_FIELDS if k in data or k == "product"}
    return cleaned


def prepare_lines(doc, items: list[dict], user) -> list:
    """`create_with` of orders and quotations (kehu/core/nested.py): the lines of a document being
    created, checked like POST .../lines (the same form, `lines.<n>.<field>` in a 422)."""
    products = line_form(services.line_model(doc)).preload_products(
        item.get("product") for item in items)
    cleaned, errors = [], {}
    for i, item in enumerate(items):
        try:
            cleaned.append(_cleaned(doc, item, index=i, products=products))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return services.prepare_new_lines(doc, cleaned)


def create_with_lines(what: str):
    from kehu.core.nested import Nested

    return {"lines": Nested(LineIn, prepare=prepare_lines, save=services.insert_lines,
                            description=f"The {what}'s lines, created with it (all or nothing; the same fields "
                                        "as POST .../lines; a product's price and tax rate are the defaults)")}


def extend(router, Out, rt):
    from kehu.core.api import get_visible, require

    is_order = rt.key == "order"

    @router.get("/{int:pk}/lines", response=list[LineOut], operation_id=f"{rt.key}_lines",
                summary="The lines, with their computed amounts")
    def list_lines(request, pk: int):
        require(request, rt, "view")
        doc = get_visible(request, rt, pk)
        return [line_out(ln) for ln in doc.lines.select_related("product")]

    @router.post("/{int:pk}/lines", response={201: list[LineOut]}, operation_id=f"{rt.key}_add_lines",
                 summary="Add lines (a list: all are added or none); a product's price and tax rate are the "
                         "defaults. Only while a quotation is a draft / an order is created.")
    def add_lines(request, pk: int, payload: list[LineIn]):
        from django.db import transaction

        require(request, rt, "edit")
        doc = get_visible(request, rt, pk)
        if not payload:
            raise ValidationError({"lines": ["Give at least one line."]})
        items = [item.dict(exclude_unset=True) for item in payload]
        products = line_form(doc.lines.model).preload_products(item.get("product") for item in items)
        with transaction.atomic():
            cleaned = [(_cleaned(doc, item, index=i, products=products), None) for i, item in enumerate(items)]
            added = services.save_lines(doc, request.auth, cleaned)  # one lock, one re-total for all
        return 201, [line_out(ln) for ln in added]

    @router.patch("/{int:pk}/lines/{int:line_id}", response=LineOut, operation_id=f"{rt.key}_update_line",
                  summary="Change a line (the fields given; the amounts are recomputed)")
    def update_line(request, pk: int, line_id: int, payload: LineIn):
        from django.shortcuts import get_object_or_404

        require(request, rt, "edit")
        doc = get_visible(request, rt, pk)
        line = get_object_or_404(doc.lines, pk=line_id)
        line = services.save_line(doc, request.auth, _cleaned(doc, payload.dict(exclude_unset=True), line), line)
        return line_out(line)

    @router.delete("/{int:pk}/lines/{int:line_id}", response={204: None}, operation_id=f"{rt.key}_delete_line")
    def delete_line(request, pk: int, line_id: int):
        from django.shortcuts import get_object_or_404

        require(request, rt, "edit")
        doc = get_visible(request, rt, pk)
        services.delete_line(doc, request.auth, get_object_or_404(doc.lines, pk=line_id))
        return 204, None

    if not is_order:
        return
    from .api_aftersales import extend as extend_after_sales

    extend_after_sales(router, rt)
    from .api_fin import extend_document  # the payment plan, payments and refunds

    extend_document(router, rt)

    @router.get("/{int:pk}/shipments", response=list[ShipmentOut], operation_id="order_shipments")
    def list_shipments(request, pk: int):
        require(request, rt, "view")
        order = get_visible(request, rt, pk)
        return [shipment_out(s) for s in order.shipments.prefetch_related("lines__order_line")]

    @router.post("/{int:pk}/shipments", response={201: ShipmentOut}, operation_id="order_ship",
                 summary="Ship quantities of the order's goods lines from a warehouse (the default one if "
                         "none is given): stock moves out, refused with nothing written when it is short; the "
                         "order becomes shipped when every goods line is")
    def ship(request, pk: int, payload: ShipmentIn):
        from kehu.catalog.models import Warehouse

        require(request, rt, "edit")
        order = get_visible(request, rt, pk)
        warehouse = None
        if payload.warehouse is not None:
            warehouse = Warehouse.objects.filter(pk=payload.warehouse, active=True).first()
            if warehouse is None:
                raise ValidationError({"warehouse": ["Unknown or inactive warehouse."]})
        quantities: dict = {}
        for item in payload.lines:
            quantities[item.line] = quantities.get(item.line, Decimal(0)) + item.quantity
        shipment = services.record_shipment(order, request.auth, quantities, warehouse=warehouse,
                                            carrier=payload.carrier[:100], tracking_number=payload.tracking_number[:100],
                                            notes=payload.notes[:300])
        return 201, shipment_out(shipment)
