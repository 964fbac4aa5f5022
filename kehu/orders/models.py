"""Orders and money: quotations 报价单, orders 订单 and their shipments 发货 (seed 000 §四, seed 001's
orders and orders_line tables). Statuses run on core's workflows (workflows.py), amounts are
core's MoneyField, numbers core's Numbering; the rules live in services.py.

A document (quotation, order) has lines; each line's amounts are computed once, by
`kehu.core.money.line_total`, when the line is saved, and the document's totals are the sums of its
rounded lines (`Document.recompute_totals`), kept on the document in the same transaction."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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

    def recompute_totals(self) -> bool:
        """Set the totals from the lines (sums of the rounded lines); True when they changed."""
        totals = document_total(self.lines.all())
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
        CREATED = "created", _("Created")
        PROCESSING = "processing", _("Processing")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN = ("created", "processing", "shipped")

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200, blank=True)
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

    numbering = Numbering("DD")

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["id"], name="order_alive_id_idx", condition=ALIVE),
            models.Index(fields=["owner", "id"], name="order_owner_idx", condition=ALIVE),
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

    def recompute_totals(self) -> bool:
        changed = super().recompute_totals()
        cost = sum((line.cost_total for line in self.lines.all()), ZERO)
        changed = changed or cost != self.cost_total
        self.cost_total = cost
        return changed


class OrderLine(Line):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
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

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments", verbose_name=_("order"))
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
