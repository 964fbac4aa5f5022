"""Import of orders with their lines (kehu/core/imports), registered from registrations.py.

A file has a row per order line, as Chinese order exports have it (订单号, 客户, 订单日期, 产品编码,
产品名称, 数量, 单价, 折扣, 税率…). Which rows make one order:

- with an order reference column (订单号 / 外部单号 / order reference): consecutive rows with the same
  reference; a row whose reference is empty continues the order above it (exports with merged
  cells write the order's cells on its first line only);
- without one: consecutive rows with the same customer and order date, an empty cell repeating the
  row above's. Two orders of one customer on one day are then one order: a reference column tells
  them apart.

The order's own columns (customer by number or name, contact, order and promised dates, delivery
address, payment method, notes, owner, tags) are read from its first row; another of its rows that
fills one must say the same, or it is a bad row. The order is checked by OrderForm, each line by the
line form (LineForm: a product by its code or name, else a free-text line described by its name
column) and the whole order by the services (`prepare_new_lines`: the product's list price and tax
rate when the cells are empty, its cost at order time, the totals), as the API's create of an order
with its lines is; the order's number (DD…) comes from its numbering. A bad row makes its whole
order bad: every row of it goes to the error file.

An order may come with the status it reached where it came from (状态: processing, shipped,
delivered or cancelled) and the dates of it (发货日期, 签收日期, 取消日期): it is written in that
status as history (core's PastState), its goods lines counted as shipped when it was shipped, with
no shipment record, no stock movement and no notice; stock and payments are imported on their own.
A date the file leaves out is the one before it (the order date for the first). An order past
"created" needs its lines, as the transitions require.

The reference is kept as the order's external number; an order already imported under it (or
entered with it) is a duplicate: skipped, or updated — its fields, and its lines replaced by the
file's while its lines may still change (services.lines_editable, nothing shipped). Undo removes
the orders the import created with their lines, and puts an updated order's fields and lines back.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.core.assignment import acting_as
from kehu.core.imports import bulk, coerce
from kehu.core.imports.base import Importer, PastState, register, snapshot, write_tags
from kehu.customers.imports import resolve_contacts, resolve_customers

from . import figures, services
from .forms import OrderForm, line_form
from .models import Order, OrderLine

REFERENCE = "external_number"


class OrderImporter(Importer):
    key = "order"
    form_class = OrderForm
    exclude = ("allow_duplicate", "opportunity", "contract")  # records of their own: not a cell
    child_prefix = "line"
    child_label = gettext_lazy("Order line")
    grouped = True
    unique_key = True  # a reference is one order: "create anyway" skips a known one
    batch_size = 500
    # an order brought from another system with its history: delivered last year, cancelled…
    past_states = (PastState("processing"), PastState("shipped", ("shipped_at",)),
                   PastState("delivered", ("shipped_at", "delivered_at")), PastState("cancelled", ("cancelled_at",)))
    state_aliases = {  # how other systems' exports name them
        "created": ("新建", "待处理", "待确认", "草稿", "new", "draft", "open"),
        "processing": ("已确认", "待发货", "备货中", "confirmed", "in progress", "sale"),
        "shipped": ("已出库", "已发出", "in transit", "sent"),
        "delivered": ("已签收", "已收货", "已完成", "完成", "completed", "done", "fulfilled"),
        "cancelled": ("已作废", "作废", "取消", "canceled", "cancel", "void"),
    }
    aliases = {
        REFERENCE: ["订单号", "订单编号", "订单号码", "外部单号", "原单号", "单号", "采购单号", "客户订单号",
                    "order reference", "order no", "order number", "order id", "reference", "po number"],
        "title": ["订单标题", "订单名称", "标题", "subject"],
        "customer": ["客户", "客户名称", "客户编号", "购买方", "购货单位", "公司", "公司名称", "customer name",
                     "account name", "company", "partner_id"],
        "contact": ["联系人", "客户联系人", "contact name"],
        "order_date": ["订单日期", "下单日期", "下单时间", "日期", "order date", "date_order", "date"],
        "promised_date": ["交货日期", "交期", "承诺交期", "约定交货日期", "要求交货日期", "预计交货日期",
                          "delivery date", "promised date", "commitment_date"],
        "delivery_address": ["收货地址", "送货地址", "交货地址", "地址", "shipping address", "ship to"],
        "payment_method": ["付款方式", "支付方式", "结算方式", "payment"],
        "notes": ["备注", "订单备注", "说明", "remarks", "note", "notes"],
        "owner": ["负责人", "销售", "销售员", "业务员", "salesperson", "user_id"],
        "tags_text": ["标签", "tags"],
        "status": ["订单状态", "状态", "order status", "status", "state"],
        "shipped_at": ["发货日期", "发货时间", "出库日期", "shipped date", "ship date", "shipping date", "date shipped"],
        "delivered_at": ["签收日期", "签收时间", "收货日期", "送达日期", "delivered date", "date delivered"],
        "cancelled_at": ["取消日期", "取消时间", "作废日期", "cancelled date", "cancellation date", "date cancelled"],
        "line_product": ["产品编码", "产品编号", "商品编码", "物料编码", "编码", "货号", "sku", "item code",
                         "product code", "default_code", "product_id"],
        "line_description": ["产品名称", "商品名称", "品名", "名称", "产品", "商品", "服务", "摘要", "描述",
                             "product name", "product", "item", "description"],
        "line_quantity": ["数量", "订购数量", "销售数量", "qty", "quantity", "product_uom_qty"],
        "line_unit_price": ["单价", "销售单价", "不含税单价", "售价", "价格", "unit price", "price", "price_unit"],
        "line_discount_pct": ["折扣", "折扣率", "折扣%", "discount", "discount %"],
        # not "tax" alone: a column of that name is a tax amount as often as a rate (the order export's own)
        "line_tax_rate": ["税率", "税率（%）", "增值税税率", "tax rate", "tax rate (%)", "vat"],
    }

    @property
    def child_form_class(self):
        return line_form(OrderLine)

    def fields(self):
        out = super().fields()
        for f in out:
            if f.name == "customer":
                f.required = True  # the form asks for it in clean() (an opportunity's customer): not mappable otherwise
        return out

    # --- the mapping screen: how rows become orders --------------------------------------------------
    def options_template(self):
        return "orders/imports/order_options.html"

    def options_context(self, job):
        return {"reference_mapped": REFERENCE in job.mapping.values()}

    # --- rows to orders -----------------------------------------------------------------------------
    def group_key(self, cells, previous, ctx):
        reference = coerce.text(ctx.cell(cells, REFERENCE))
        if reference:
            return ("ref", reference)
        if previous is not None and previous[0] == "ref":
            return previous  # a further line of the order above (its reference on its first line only)
        customer = coerce.key(ctx.cell(cells, "customer"))
        day = _day(ctx.cell(cells, "order_date"))
        if previous is not None:  # an empty cell repeats the row above's
            customer, day = customer or previous[1], day or previous[2]
        return ("cd", customer, day)

    def within_file_keys(self, row):
        reference = row.data.get(REFERENCE)
        return [("ref", reference)] if reference else []

    def conflict_message(self, value, line, first):
        return _("“%(value)s” differs from line %(line)s of the same order (“%(first)s”): an order's own columns "
                 "are read from its first row.") % {"value": value, "line": line, "first": first}

    def apart_message(self, line):
        return _("This order reference is the order of line %(line)s already: the lines of an order must "
                 "follow each other.") % {"line": line}

    def group_error_message(self, line):
        return _("Line %(line)s of the same order is wrong: the order is not imported.") % {"line": line}

    # --- references -----------------------------------------------------------------------------------
    def resolve_refs(self, rows, ctx):
        resolve_customers(rows, ctx)
        resolve_contacts(rows, ctx)
        self._resolve_products(rows, ctx)
        for row in rows:
            for name in set(row.refs) - {"customer", "contact", "line_product"}:
                row.error(ctx.column_of.get(name, name), _("Cannot be imported."))

    def _resolve_products(self, rows, ctx):
        """A line's product by its code, else its name, among the products a line may name
        (LineForm.product_choices): one query. A line without a code whose name column names one
        product is that product's line; any other named line is a free-text line."""
        codes = {row.refs["line_product"] for row in rows if "line_product" in row.refs}
        names = {row.child["description"] for row in rows
                 if "line_product" not in row.refs and row.child.get("description")}
        by_code, by_name = {}, {}
        if codes or names:
            wanted = codes | names
            for p in line_form(OrderLine).product_choices().select_related("unit").filter(
                    Q(code__in=codes) | Q(name__in=wanted)):
                by_code[p.code] = p
                by_name.setdefault(p.name, []).append(p)
        ctx.child_refs["product"] = {p.pk: p for ps in by_name.values() for p in ps}
        column = ctx.column_of.get("line_product", "line_product")
        for row in rows:
            text = row.refs.get("line_product")
            if text is not None:
                named = by_name.get(text, [])
                product = by_code.get(text) or (named[0] if len(named) == 1 else None)
                if product is None:
                    row.error(column, _("Several products are named “%(name)s”: give the product code.") % {
                        "name": text} if named else _("No product with the code or name “%(code)s”.") % {"code": text})
                    # the line form would add that the line names nothing: this error says why
                    row.child["description"] = row.child.get("description") or text
                    continue
            else:
                named = by_name.get(row.child.get("description") or "", [])
                if len(named) != 1:
                    continue  # a free-text line (a service sold without a product record)
                product = named[0]
            row.child["product"] = str(product.pk)
            if row.child.get("description") == product.name:
                row.child["description"] = ""  # the line shows its product

    # --- the whole order: its lines through the services -------------------------------------------
    def validate_group(self, head, ctx):
        order = head.form.instance
        lines = [row for row in (head, *head.parts) if row.child_form is not None]
        items = [_line_data(row) for row in lines]
        head.line_items = items
        head.new_lines = None
        if not self._state_allowed(head, order, bool(items), ctx):
            return
        if not items:
            return  # an order without lines (an update keeps the lines it has)
        if head.action == "update":
            shipped = order.lines.filter(Q(shipment_lines__isnull=False) | Q(after_sales__isnull=False)).exists()
            if shipped:
                head.error(_("row"), _("Goods of order %(number)s were shipped: its lines cannot be replaced.")
                           % {"number": order.number})
                return
        try:
            head.new_lines = services.prepare_new_lines(order, items)
            return
        except ValidationError as exc:
            whole = exc
        said = False
        for row, item in zip(lines, items, strict=True):  # which line: each alone
            try:
                services.prepare_new_lines(order, [item])
            except ValidationError as exc:
                _line_errors(row, exc, ctx)
                said = True
                if "lines" in getattr(exc, "error_dict", {}):
                    break  # about the order (its state), not a line: said once
        if not said:
            _line_errors(head, whole, ctx)

    def _state_allowed(self, head, order, has_lines: bool, ctx) -> bool:
        """The status the file gives: a new order's past state (with its dates, from the order
        date on; one past "created" has lines, as the transitions require); an order already in
        Kehu keeps the status its transitions gave it."""
        given = head.data.get("status") or ""
        column = ctx.column_of.get("status", "status")
        if head.action == "update":
            if given and given != order.status:
                head.error(column, _("Order %(number)s is “%(state)s”: an import does not change the status of an "
                                     "order already in Kehu (its actions do).") % {
                    "number": order.number, "state": order.get_status_display()})
                return False
            return True
        before = len(head.errors)
        self.check_past_state(head, ctx, since=head.form.cleaned_data.get("order_date"))
        if given in ("processing", "shipped", "delivered") and not has_lines:
            head.error(column, _("An order that is “%(state)s” needs its lines.") % {
                "state": Order.Status(given).label})
        return len(head.errors) == before

    # --- duplicates ---------------------------------------------------------------------------------
    def find_existing(self, rows, ctx):
        refs = {row.data[REFERENCE]: row for row in rows if row.data.get(REFERENCE)}
        if not refs:
            return
        stored = list(Order.objects.filter(external_number__in=list(refs)).select_related("customer").order_by("id"))
        visible = set(Order.objects.visible_to(ctx.user).filter(pk__in=[o.pk for o in stored])
                      .values_list("pk", flat=True))
        for order in stored:
            row = refs.get(order.external_number)
            if row is None or row.existing is not None:
                continue
            shown = order.pk in visible
            label = self.label_of(order) if shown else _("An order outside your data scope")
            row.existing = (order.pk, label, [_("same order reference")], shown)

    def label_of(self, obj) -> str:
        return f"{obj.number} · {obj.external_number} · {obj.customer.name}"

    # --- writing ------------------------------------------------------------------------------------
    def write(self, creates, updates, ctx):
        """The batch's new orders and lines in two inserts, with what Order.save gives them (the
        number, the customers' kept figures), the lines as `prepare_new_lines` made them."""
        orders = [head.form.save(commit=False) for head in creates]
        for order, head in zip(orders, creates, strict=True):
            self.apply_past_state(order, head)  # a status of its past, with its dates
        Order.numbering.fill_many(orders)
        bulk.insert(Order, orders)
        lines = []
        for order, head in zip(orders, creates, strict=True):
            shipped = order.status in ("shipped", "delivered")
            for line in head.new_lines or ():
                line.order = order
                if shipped and line.stocked:  # its goods left (no shipment or stock movement: history)
                    line.shipped_quantity = line.quantity
                lines.append(line)
        bulk.insert(OrderLine, lines)
        self.log_past_states(zip(orders, creates, strict=True), ctx.user)
        write_tags(Order, [(o.pk, head.tags) for o, head in zip(orders, creates, strict=True) if head.tags])
        figures.refresh_customers({o.customer_id for o in orders})
        return [("main", [o.pk for o in orders])], self.apply_updates(updates, ctx)

    def apply_updates(self, updates, ctx):
        """An order's fields through its form's save (a new version, the customers' figures), and
        its lines replaced through the services when the file gives lines; the snapshot keeps the
        lines it had for undo."""
        before = []
        with acting_as(ctx.user):
            for head in updates:
                order = head.form.instance
                snap = snapshot(Order, head.existing_obj)
                if head.new_lines:
                    snap["lines"] = [_line_snapshot(line) for line in OrderLine.objects.filter(order=order)]
                head.form.save()
                if head.tags is not None:
                    order.set_tags(head.tags)
                if head.new_lines:
                    OrderLine.objects.filter(order=order).delete()
                    services.save_lines(order, ctx.user, [(item, None) for item in head.line_items])
                snap["version"] = Order.all_objects.values_list("version", flat=True).get(pk=order.pk)
                snap["customer_after"] = order.customer_id
                before.append(snap)
        return before

    # --- undo -----------------------------------------------------------------------------------------
    def remove(self, model, ids):
        customers = set(Order.all_objects.filter(pk__in=ids).values_list("customer_id", flat=True))
        removed = super().remove(model, ids)  # the lines go with their order
        figures.refresh_customers(customers)
        return removed

    def restored(self, obj, snap):
        from .payments import refresh_payment_figures

        if snap.get("lines") is not None:
            OrderLine.objects.filter(order=obj).delete()
            OrderLine.objects.bulk_create([OrderLine(**values) for values in snap["lines"]])
        refresh_payment_figures(obj)
        figures.refresh_customers({obj.customer_id, snap.get("customer_after")})


def _day(raw) -> str:
    try:
        return coerce.date(raw) if raw not in (None, "") else ""
    except ValueError:
        return coerce.key(raw)


def _line_data(row) -> dict:
    """A line's cleaned data as the services take it: the fields its columns give (an empty price
    or tax rate: the product's)."""
    cleaned = row.child_form.cleaned_data
    return {k: cleaned.get(k) for k in services.LINE_FIELDS if k in row.child or k == "product"}


def _line_errors(row, exc: ValidationError, ctx) -> None:
    messages = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    for name, texts in messages.items():
        column = ctx.column_of.get(f"line_{name}") or _("row")
        row.error(column, texts[0])


def _line_snapshot(line) -> dict:
    values = {}
    for f in OrderLine._meta.concrete_fields:
        v = f.value_from_object(line)
        values[f.attname] = v if v is None or isinstance(v, (int, str, bool)) else str(v)
    return values


register(OrderImporter())
