"""Orders and money: quotations 报价单, orders 订单 and their shipments 发货 (seed 000 §四, seed 001's
orders and orders_line tables). Statuses run on core's workflows (workflows.py), amounts are
core's MoneyField, numbers core's Numbering; the rules live in services.py.

A document (quotation, order) has lines; each line's amounts are computed once, by
`kehu.core.money.line_total`, when the line is saved, and the document's totals are the sums of its
rounded lines (`Document.recompute_totals`), kept on the document in the same transaction."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.catalog.models import QuantityField
from kehu.core.fields import dict_fk
from kehu.core.models import KehuModel
from kehu.core.money import MoneyField, document_total, line_total
from kehu.core.numbering import Numbering

ALIVE = Q(deleted_at__isnull=True)
PERCENT = [MinValueValidator(0), MaxValueValidator(100)]
ZERO = Decimal("0.00")


def local_today():
    return timezone.localdate()


class PaymentState(models.TextChoices):
    """A document's payment status 回款状态. Stored: unpaid, partly paid or paid (from the amounts);
    "overdue" is derived on reading, from the next unpaid instalment's due date and today."""

    UNPAID = "unpaid", _("Unpaid")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")


def payment_status(state: str, due_on) -> str:
    if state != PaymentState.PAID and due_on is not None and due_on < timezone.localdate():
        return PaymentState.OVERDUE
    return state


class Document(KehuModel):
    """What quotations and orders share: the parties, the totals kept from the lines."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="%(class)ss",
                                 verbose_name=_("customer"))
    contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("contact"))
    opportunity = models.ForeignKey("sales.Opportunity", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="%(class)ss", verbose_name=_("opportunity"))
    net_total = MoneyField(_("amount before tax"), default=ZERO, editable=False)
    tax_total = MoneyField(_("tax"), default=ZERO, editable=False)
    total = MoneyField(_("total"), default=ZERO, editable=False)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        abstract = True

    TOTAL_FIELDS = ("net_total", "tax_total", "total")

    def recompute_totals(self, lines=None) -> bool:
        """Set the totals from the lines (sums of the rounded lines; read once when not given);
        True when they changed."""
        totals = document_total(self.lines.all() if lines is None else lines)
        before = (self.net_total, self.tax_total, self.total)
        self.net_total, self.tax_total, self.total = totals.net, totals.tax, totals.gross
        return before != (self.net_total, self.tax_total, self.total)


class Line(models.Model):
    """A document line: a product (its price and tax rate are the defaults) or free text (a service
    sold without a product record). net/tax/gross are computed by `line_total`, never typed."""

    position = models.PositiveIntegerField(_("position"), default=0)
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("product"))
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = QuantityField(_("quantity"), default=Decimal(1), validators=[MinValueValidator(Decimal("0.001"))])
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    unit_price = MoneyField(_("unit price"), default=ZERO, validators=[MinValueValidator(ZERO)])
    discount_pct = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=ZERO,
                                       validators=PERCENT)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=ZERO,
                                   validators=PERCENT)
    net = MoneyField(_("amount before tax"), default=ZERO, editable=False)
    tax = MoneyField(_("tax"), default=ZERO, editable=False)
    gross = MoneyField(_("amount"), default=ZERO, editable=False)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        if self.product_id and not self.description:
            return str(self.product)
        return self.description or ""

    def compute(self) -> None:
        amounts = line_total(self.quantity, self.unit_price, self.discount_pct, self.tax_rate)
        self.net, self.tax, self.gross = amounts.net, amounts.tax, amounts.gross

    def save(self, *args, **kwargs):
        self.compute()
        super().save(*args, **kwargs)


class Quotation(Document):
    """A priced offer to a customer 报价单. Revising a sent quotation keeps it (status "revised") and
    makes a new draft, the next revision under the same number."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")
        REVISED = "revised", _("Revised")

    number = models.CharField(_("number"), max_length=24, unique=True, editable=False)
    revision = models.PositiveSmallIntegerField(_("revision"), default=1, editable=False)
    previous = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL, editable=False,
                                    related_name="next_revision", verbose_name=_("previous revision"))
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    quoted_on = models.DateField(_("quotation date"), default=local_today)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    terms = models.TextField(_("terms"), blank=True,
                             help_text=_("Delivery, payment and warranty terms printed on the quotation."))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)

    numbering = Numbering("BJ")

    class Meta:
        verbose_name = _("quotation")
        verbose_name_plural = _("quotations")
        indexes = [
            models.Index(fields=["id"], name="quote_alive_id_idx", condition=ALIVE),
            models.Index(fields=["owner", "id"], name="quote_owner_idx", condition=ALIVE),
            models.Index(fields=["customer", "id"], name="quote_customer_idx", condition=ALIVE),
            models.Index(fields=["opportunity"], name="quote_opp_idx", condition=ALIVE),
            models.Index(fields=["status", "id"], name="quote_status_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="quote_created_idx", condition=ALIVE),
            models.Index(fields=["updated_at", "id"], name="quote_updated_idx", condition=ALIVE),
            models.Index(fields=["total", "id"], name="quote_total_idx", condition=ALIVE),
            models.Index(fields=["owner", "created_at", "id"], name="quote_owner_created_idx", condition=ALIVE),
            models.Index(fields=["owner", "updated_at", "id"], name="quote_owner_updated_idx", condition=ALIVE),
            models.Index(fields=["owner", "total", "id"], name="quote_owner_total_idx", condition=ALIVE),
            # the worker's expiry: sent quotations past their validity
            models.Index(fields=["valid_until"], name="quote_sent_valid_idx",
                         condition=Q(deleted_at__isnull=True, status="sent")),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"


class QuotationLine(Line):
    quotation = models.ForeignKey(Quotation, on_delete=models.CASCADE, related_name="lines",
                                  verbose_name=_("quotation"))

    class Meta(Line.Meta):
        verbose_name = _("quotation line")
        verbose_name_plural = _("quotation lines")
        indexes = [models.Index(fields=["quotation", "position", "id"], name="quoteline_doc_idx")]


class Order(Document):
    """A customer's order 订单: created → processing → shipped → delivered, or cancelled."""

    class Status(models.TextChoices):
        CREATED = "created", pgettext_lazy("order status", "Created")
        PROCESSING = "processing", _("Processing")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN = ("created", "processing", "shipped")

    @classmethod
    def late_q(cls, today) -> Q:
        """Open orders promised before `today`, written so that the partial indexes of open orders
        (order_open_late_idx, order_open_promised_idx) apply on SQLite too (`literal_in`)."""
        return Q(status__literal_in=cls.OPEN, promised_date__lt=today)

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200, blank=True)
    # its number where it came from: an imported order's reference (订单号 of the file), or the
    # customer's purchase order number; a re-import finds the order by it (kehu/orders/imports.py)
    external_number = models.CharField(
        _("external number"), max_length=64, blank=True,
        help_text=_("The order's number in the system it came from, or the customer's purchase order number."))
    quotation = models.ForeignKey(Quotation, null=True, blank=True, on_delete=models.SET_NULL, editable=False,
                                  related_name="orders", verbose_name=_("quotation"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.CREATED)
    order_date = models.DateField(_("order date"), default=local_today)
    promised_date = models.DateField(_("promised delivery date"), null=True, blank=True)
    delivery_address = models.CharField(_("delivery address"), max_length=300, blank=True)
    payment_method = dict_fk("payment_method", _("payment method"))
    cost_total = MoneyField(_("cost"), default=ZERO, editable=False)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True, editable=False)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True, editable=False)
    contract = models.ForeignKey("orders.Contract", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="orders", verbose_name=_("contract"))
    # kept by the payment and invoice services in the transaction that changes them (payments.py)
    amount_received = MoneyField(_("received"), default=ZERO, editable=False)
    amount_invoiced = MoneyField(_("invoiced"), default=ZERO, editable=False)
    payment_state = models.CharField(_("payment"), max_length=12, choices=PaymentState.choices,
                                     default=PaymentState.UNPAID, editable=False)
    # the due date of the first instalment the payments do not cover yet (None: none due)
    payment_due_on = models.DateField(_("next payment due"), null=True, blank=True, editable=False)

    numbering = Numbering("DD")

    class Meta:
        verbose_name = pgettext_lazy("sales order", "order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["id"], name="order_alive_id_idx", condition=ALIVE),
            # a rep's orders in id order, holding what their search tests (number, title, the customer
            # whose name is read next) and the recycle-bin column of the condition, so SQLite plans it
            # as covering: a rep's search read each of their 10,000 rows from the table (1-2
            # characters or a common term at 2M orders: 40-66 ms, 15-34 ms so; kehu/core/search.py)
            models.Index(fields=["owner", "id", "customer", "number", "title", "deleted_at"],
                         name="order_owner_cover_idx", condition=ALIVE),
            models.Index(fields=["customer", "order_date", "id"], name="order_customer_idx", condition=ALIVE),
            models.Index(fields=["opportunity"], name="order_opp_idx", condition=ALIVE),
            models.Index(fields=["status", "id"], name="order_status_idx", condition=ALIVE),
            models.Index(fields=["order_date", "id"], name="order_date_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="order_created_idx", condition=ALIVE),
            models.Index(fields=["updated_at", "id"], name="order_updated_idx", condition=ALIVE),
            models.Index(fields=["total", "id"], name="order_total_idx", condition=ALIVE),
            models.Index(fields=["owner", "order_date", "id"], name="order_owner_date_idx", condition=ALIVE),
            models.Index(fields=["owner", "created_at", "id"], name="order_owner_created_idx", condition=ALIVE),
            models.Index(fields=["owner", "updated_at", "id"], name="order_owner_updated_idx", condition=ALIVE),
            models.Index(fields=["owner", "total", "id"], name="order_owner_total_idx", condition=ALIVE),
            # late orders: open ones by their promised date
            models.Index(fields=["promised_date", "owner"], name="order_open_promised_idx",
                         condition=Q(deleted_at__isnull=True, status__in=("created", "processing", "shipped"))),
            # the late filter in the list's order (newest first): late orders are old ones, so the
            # walk of the primary key passed ~87,000 newer orders first (15-24 ms at 2M orders);
            # the open ones by id, the promise tested in the index: 2 ms
            models.Index(fields=["id", "promised_date", "owner"], name="order_open_late_idx",
                         condition=Q(deleted_at__isnull=True, status__in=("created", "processing", "shipped"))),
            models.Index(fields=["contract", "id"], name="order_contract_idx", condition=ALIVE),
            # an import's duplicates: the orders with an external number
            models.Index(fields=["external_number"], name="order_external_idx",
                         condition=Q(deleted_at__isnull=True) & ~Q(external_number="")),
            models.Index(fields=["payment_state", "id"], name="order_paystate_idx", condition=ALIVE),
            # overdue receivables: orders not paid by their next instalment's date
            models.Index(fields=["payment_due_on", "owner"], name="order_pay_due_idx",
                         condition=Q(deleted_at__isnull=True, payment_due_on__isnull=False)),
        ]

    def __str__(self):
        return f"{self.number} {self.title}".strip()

    @property
    def is_late(self) -> bool:
        return (self.status in self.OPEN and self.promised_date is not None
                and self.promised_date < timezone.localdate())

    @property
    def gross_profit(self):
        return self.net_total - self.cost_total

    @property
    def outstanding(self):
        """What the customer still owes on this order (nothing for a cancelled one)."""
        if self.status == self.Status.CANCELLED:
            return ZERO
        return max(self.total - self.amount_received, ZERO)

    @property
    def payment_status(self) -> str:
        """unpaid / partly paid / paid / overdue: derived from the kept figures and today's date."""
        return payment_status(self.payment_state, self.payment_due_on)

    def get_payment_status_display(self):
        return PaymentState(self.payment_status).label

    # a save changing one of these changes the customer's kept figures (figures.py)
    FIGURE_FIELDS = frozenset({"customer", "customer_id", "status", "order_date", "total", "net_total", "cost_total",
                               "amount_received", "deleted_at"})

    @classmethod
    def from_db(cls, db, field_names, values):
        obj = super().from_db(db, field_names, values)
        obj._saved_customer_id = obj.__dict__.get("customer_id")
        return obj

    def save(self, *args, **kwargs):
        """Save, and in the same transaction set the customer's kept figures (and the previous
        customer's, when the order moved) from their orders: every path that changes an order —
        forms, API, lines, workflow, recycle bin — comes through here."""
        from . import figures

        update_fields = kwargs.get("update_fields")
        if update_fields is not None and not (set(update_fields) & self.FIGURE_FIELDS):
            return super().save(*args, **kwargs)
        with transaction.atomic(using=kwargs.get("using") or "default"):
            super().save(*args, **kwargs)
            figures.refresh_customers({self.customer_id, getattr(self, "_saved_customer_id", None)})
        self._saved_customer_id = self.customer_id

    TOTAL_FIELDS = (*Document.TOTAL_FIELDS, "cost_total")

    def recompute_totals(self, lines=None) -> bool:
        lines = list(self.lines.all()) if lines is None else lines
        changed = super().recompute_totals(lines)
        cost = sum((line.cost_total for line in lines), ZERO)
        changed = changed or cost != self.cost_total
        self.cost_total = cost
        return changed


class OrderLine(Line):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=pgettext_lazy("sales order", "order"))
    unit_cost = MoneyField(_("unit cost"), default=ZERO, editable=False,
                           help_text=_("The product's cost when it was ordered."))
    shipped_quantity = QuantityField(_("shipped"), default=Decimal(0), editable=False)

    class Meta(Line.Meta):
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        indexes = [
            models.Index(fields=["order", "position", "id"], name="orderline_doc_idx"),
            models.Index(fields=["product"], name="orderline_product_idx"),
        ]

    @property
    def cost_total(self):
        from kehu.core.money import round_money

        return round_money(self.quantity * self.unit_cost)

    @property
    def stocked(self) -> bool:
        """Goods are shipped from stock; a service or a free-text line is never shipped."""
        return self.product_id is not None and self.product.kind == "goods"

    @property
    def to_ship(self):
        return max(self.quantity - self.shipped_quantity, Decimal(0)) if self.stocked else Decimal(0)


class Shipment(models.Model):
    """One delivery of (part of) an order 发货: its lines write the stock movements."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments", verbose_name=pgettext_lazy("sales order", "order"))
    warehouse = models.ForeignKey("catalog.Warehouse", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("warehouse"))
    shipped_at = models.DateTimeField(_("shipped at"), default=timezone.now)
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("shipped by"))

    class Meta:
        ordering = ["shipped_at", "id"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        indexes = [models.Index(fields=["order", "shipped_at"], name="shipment_order_idx")]

    def __str__(self):
        return _("Shipment %(n)s of %(order)s") % {"n": self.pk, "order": self.order.number}


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines",
                                 verbose_name=_("shipment"))
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipment_lines",
                                   verbose_name=_("order line"))
    quantity = QuantityField(_("quantity"), validators=[MinValueValidator(Decimal("0.001"))])

    class Meta:
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")
        indexes = [models.Index(fields=["order_line"], name="shipmentline_line_idx")]


class AfterSalesRequest(models.Model):
    """An after-sales request 售后 on an order line: return, exchange or repair, with quantity and
    reason. A completed return puts the goods back in stock (a stock receipt) and, where money was
    received, records the refund. The service issue turns requests into tickets."""

    class Kind(models.TextChoices):
        RETURN = "return", pgettext_lazy("after-sales", "Return")
        EXCHANGE = "exchange", _("Exchange")
        REPAIR = "repair", _("Repair")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        COMPLETED = "completed", _("Completed")
        REJECTED = "rejected", _("Rejected")

    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="after_sales",
                                   verbose_name=_("order line"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    quantity = QuantityField(_("quantity"), validators=[MinValueValidator(Decimal("0.001"))])
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED)
    refund = MoneyField(_("refund"), default=ZERO, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("after-sales request")
        verbose_name_plural = _("after-sales requests")
        indexes = [models.Index(fields=["order_line", "status"], name="aftersales_line_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} × {self.quantity}"


class Contract(KehuModel):
    """A signed contract 合同 (seed 000 FAQ 9): draft → in force → completed / terminated. Orders may
    belong to it; its execution (ordered, received) is kept from them and from its payments."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("In force")
        COMPLETED = "completed", _("Completed")
        TERMINATED = "terminated", _("Terminated")

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="contracts",
                                 verbose_name=_("customer"))
    contact = models.ForeignKey("customers.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("contact"))
    opportunity = models.ForeignKey("sales.Opportunity", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="contracts", verbose_name=_("opportunity"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    signed_on = models.DateField(_("signing date"), null=True, blank=True)
    starts_on = models.DateField(_("start date"), null=True, blank=True)
    ends_on = models.DateField(_("end date"), null=True, blank=True)
    amount = MoneyField(_("amount"), default=ZERO, validators=[MinValueValidator(ZERO)])
    terms = models.TextField(_("terms"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    previous = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL, editable=False,
                                    related_name="renewal", verbose_name=_("renews"))
    # kept by the order and payment services (execution progress 执行进度)
    amount_ordered = MoneyField(_("ordered"), default=ZERO, editable=False)
    amount_received = MoneyField(_("received"), default=ZERO, editable=False)
    amount_invoiced = MoneyField(_("invoiced"), default=ZERO, editable=False)
    payment_state = models.CharField(_("payment"), max_length=12, choices=PaymentState.choices,
                                     default=PaymentState.UNPAID, editable=False)
    payment_due_on = models.DateField(_("next payment due"), null=True, blank=True, editable=False)
    activated_at = models.DateTimeField(_("in force since"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    expiry_reminded_on = models.DateField(null=True, blank=True, editable=False)  # the expiry reminder, once

    numbering = Numbering("HT")

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        indexes = [
            models.Index(fields=["id"], name="contract_alive_id_idx", condition=ALIVE),
            models.Index(fields=["owner", "id"], name="contract_owner_idx", condition=ALIVE),
            models.Index(fields=["customer", "id"], name="contract_customer_idx", condition=ALIVE),
            models.Index(fields=["opportunity"], name="contract_opp_idx", condition=ALIVE),
            models.Index(fields=["status", "id"], name="contract_status_idx", condition=ALIVE),
            models.Index(fields=["signed_on", "id"], name="contract_signed_idx", condition=ALIVE),
            models.Index(fields=["ends_on", "id"], name="contract_ends_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="contract_created_idx", condition=ALIVE),
            models.Index(fields=["updated_at", "id"], name="contract_updated_idx", condition=ALIVE),
            models.Index(fields=["amount", "id"], name="contract_amount_idx", condition=ALIVE),
            models.Index(fields=["owner", "ends_on", "id"], name="contract_owner_ends_idx", condition=ALIVE),
            models.Index(fields=["owner", "amount", "id"], name="contract_owner_amount_idx", condition=ALIVE),
            models.Index(fields=["owner", "signed_on", "id"], name="contract_owner_signed_idx", condition=ALIVE),
            models.Index(fields=["owner", "created_at", "id"], name="contract_owner_created_idx", condition=ALIVE),
            models.Index(fields=["owner", "updated_at", "id"], name="contract_owner_updated_idx", condition=ALIVE),
            # contracts in force by end date: the 30/60/90-day expiry list and the reminder
            models.Index(fields=["ends_on", "owner"], name="contract_active_ends_idx",
                         condition=Q(deleted_at__isnull=True, status="active")),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def outstanding(self):
        return max(self.amount - self.amount_received, ZERO)

    @property
    def payment_status(self) -> str:
        return payment_status(self.payment_state, self.payment_due_on)


class Instalment(models.Model):
    """One instalment of a payment plan 回款计划 of an order or a contract: due date and amount. The
    plan's instalments add up to the document's total (payments.py checks it)."""

    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="instalments",
                              verbose_name=pgettext_lazy("sales order", "order"))
    contract = models.ForeignKey(Contract, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="instalments", verbose_name=_("contract"))
    position = models.PositiveSmallIntegerField(_("instalment"), default=1)
    due_on = models.DateField(_("due date"))
    amount = MoneyField(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    notes = models.CharField(_("notes"), max_length=200, blank=True)
    reminded_on = models.DateField(null=True, blank=True, editable=False)  # the overdue reminder, once

    class Meta:
        ordering = ["due_on", "position", "id"]
        verbose_name = _("instalment")
        verbose_name_plural = _("payment plan")
        indexes = [
            models.Index(fields=["order", "due_on"], name="instalment_order_idx"),
            models.Index(fields=["contract", "due_on"], name="instalment_contract_idx"),
            models.Index(fields=["due_on"], name="instalment_due_idx"),
        ]
        constraints = [models.CheckConstraint(
            condition=Q(order__isnull=False, contract__isnull=True) | Q(order__isnull=True, contract__isnull=False),
            name="instalment_one_document")]

    def __str__(self):
        return f"{self.due_on} {self.amount}"


class Payment(KehuModel):
    """A payment received 回款 (or, negative, a refund 退款): read-only once recorded (payments.py).
    It belongs to an order or a contract and is visible with it."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="payments",
                                 verbose_name=_("customer"), db_index=False)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="payments",
                              verbose_name=pgettext_lazy("sales order", "order"), db_index=False)
    contract = models.ForeignKey(Contract, null=True, blank=True, on_delete=models.PROTECT, related_name="payments",
                                 verbose_name=_("contract"), db_index=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PAYMENT)
    received_on = models.DateField(_("date"), default=local_today)
    amount = MoneyField(_("amount"))  # negative for a refund
    method = dict_fk("payment_method", _("payment method"))
    reference = models.CharField(_("reference"), max_length=100, blank=True,
                                 help_text=_("Bank transfer number, cheque number…"))
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    after_sales = models.ForeignKey(AfterSalesRequest, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="refunds", verbose_name=_("return"))

    numbering = Numbering("HK")

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [
            models.Index(fields=["id"], name="payment_alive_id_idx", condition=ALIVE),
            models.Index(fields=["customer", "id"], name="payment_customer_idx", condition=ALIVE),
            # only the rows that have the document: where (nearly) every row has the other one, SQLite's
            # figures for an index holding the NULLs said "all rows match" and it walked the table
            # instead (an invoice list filtered by contract: 115-170 ms at 632,000 invoices)
            models.Index(fields=["order", "id"], name="payment_order_idx", condition=ALIVE & Q(order__isnull=False)),
            models.Index(fields=["contract", "id"], name="payment_contract_idx",
                         condition=ALIVE & Q(contract__isnull=False)),
            models.Index(fields=["received_on", "id"], name="payment_date_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="payment_created_idx", condition=ALIVE),
            models.Index(fields=["amount", "id"], name="payment_amount_idx", condition=ALIVE),
            # the owner is the document's (a rep's payments: one index range, in every sort)
            # holding what a rep's search tests, as order_owner_cover_idx (15,000 payments a rep at 3M)
            models.Index(fields=["owner", "id", "customer", "number", "reference", "deleted_at"],
                         name="payment_owner_cover_idx", condition=ALIVE),
            models.Index(fields=["owner", "received_on", "id"], name="payment_owner_date_idx", condition=ALIVE),
            models.Index(fields=["owner", "created_at", "id"], name="payment_owner_created_idx", condition=ALIVE),
            models.Index(fields=["owner", "amount", "id"], name="payment_owner_amount_idx", condition=ALIVE),
        ]
        constraints = [models.CheckConstraint(condition=Q(order__isnull=False) | Q(contract__isnull=False),
                                              name="payment_has_document")]

    def save(self, *args, **kwargs):
        self.owner_id = document_owner_id(self)
        super().save(*args, **kwargs)

    def __str__(self):
        return f"{self.number} {self.amount}"


def document_owner_id(record):
    """A payment's or invoice's owner: its document's (order or contract), whoever recorded it, so
    that it is seen, listed and scoped with the document through one indexed column. The order's
    and the contract's assignment moves them (OrderType / ContractType.after_assign)."""
    doc = record.order if record.order_id else record.contract if record.contract_id else None
    return doc.owner_id if doc is not None else record.owner_id


class Invoice(KehuModel):
    """An invoice issued to the customer 发票: requested → issued → cancelled."""

    class Type(models.TextChoices):
        ORDINARY = "ordinary", _("Ordinary VAT invoice (普通发票)")
        SPECIAL = "special", _("Special VAT invoice (增值税专用发票)")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        ISSUED = "issued", _("Issued")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    invoice_number = models.CharField(_("invoice number"), max_length=40, blank=True,
                                      help_text=_("The number printed on the tax invoice, once issued."))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="invoices",
                                 verbose_name=_("customer"), db_index=False)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices",
                              verbose_name=pgettext_lazy("sales order", "order"), db_index=False)
    contract = models.ForeignKey(Contract, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices",
                                 verbose_name=_("contract"), db_index=False)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.ORDINARY)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED)
    invoiced_on = models.DateField(_("invoice date"), default=local_today)
    amount = MoneyField(_("amount"), validators=[MinValueValidator(Decimal("0.01"))],
                        help_text=_("The invoice's total, tax included."))
    tax = MoneyField(_("tax"), default=ZERO, validators=[MinValueValidator(ZERO)])
    title = models.CharField(_("invoice title"), max_length=200, blank=True, help_text=_("抬头: the buyer's name"))
    tax_id = models.CharField(_("taxpayer ID"), max_length=30, blank=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True, editable=False)

    numbering = Numbering("FP")

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [
            models.Index(fields=["id"], name="invoice_alive_id_idx", condition=ALIVE),
            models.Index(fields=["customer", "id"], name="invoice_customer_idx", condition=ALIVE),
            # only the rows that have the document: where (nearly) every row has the other one, SQLite's
            # figures for an index holding the NULLs said "all rows match" and it walked the table
            # instead (an invoice list filtered by contract: 115-170 ms at 632,000 invoices)
            models.Index(fields=["order", "id"], name="invoice_order_idx", condition=ALIVE & Q(order__isnull=False)),
            models.Index(fields=["contract", "id"], name="invoice_contract_idx",
                         condition=ALIVE & Q(contract__isnull=False)),
            models.Index(fields=["status", "id"], name="invoice_status_idx", condition=ALIVE),
            models.Index(fields=["invoiced_on", "id"], name="invoice_date_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="invoice_created_idx", condition=ALIVE),
            models.Index(fields=["updated_at", "id"], name="invoice_updated_idx", condition=ALIVE),
            models.Index(fields=["amount", "id"], name="invoice_amount_idx", condition=ALIVE),
            models.Index(fields=["owner", "id"], name="invoice_owner_idx", condition=ALIVE),
            models.Index(fields=["owner", "status", "id"], name="invoice_owner_status_idx", condition=ALIVE),
            models.Index(fields=["owner", "invoiced_on", "id"], name="invoice_owner_date_idx", condition=ALIVE),
            models.Index(fields=["owner", "created_at", "id"], name="invoice_owner_created_idx", condition=ALIVE),
            models.Index(fields=["owner", "updated_at", "id"], name="invoice_owner_updated_idx", condition=ALIVE),
            models.Index(fields=["owner", "amount", "id"], name="invoice_owner_amount_idx", condition=ALIVE),
        ]
        constraints = [models.CheckConstraint(condition=Q(order__isnull=False) | Q(contract__isnull=False),
                                              name="invoice_has_document")]

    def save(self, *args, **kwargs):
        self.owner_id = document_owner_id(self)
        super().save(*args, **kwargs)

    def __str__(self):
        return f"{self.number} {self.amount}"
