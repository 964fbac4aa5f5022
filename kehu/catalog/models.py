"""Products 商品, their categories, warehouses and stock 库存.

Stock is a ledger: every change of a product's quantity in a warehouse is a `StockMove` (never
edited, never deleted), and `StockBalance` holds each (product, warehouse) pair's on-hand quantity,
the sum of its moves, written in the same transaction as the move (kehu/catalog/services.py).
`Product.on_hand` is the sum over the warehouses (the list's column and the low-stock filter).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kehu.core.fields import dict_fk
from kehu.core.models import KehuModel
from kehu.core.money import MoneyField

ALIVE = Q(deleted_at__isnull=True)
PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class QuantityField(models.DecimalField):
    """A quantity of a product: numeric(15, 3), signed (a move out is negative). The one quantity
    definition of the app: balances, moves, thresholds (and order lines) use it."""

    def __init__(self, verbose_name=None, name=None, **kwargs):
        kwargs.setdefault("max_digits", 15)
        kwargs.setdefault("decimal_places", 3)
        super().__init__(verbose_name, name, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_digits") == 15:
            del kwargs["max_digits"]
        if kwargs.get("decimal_places") == 3:
            del kwargs["decimal_places"]
        return name, path, args, kwargs


def bilingual(name: str, name_en: str) -> str:
    lang = (get_language() or "zh-hans").lower()
    return name_en if lang.startswith("en") and name_en else name


class ProductCategory(models.Model):
    """A node of the product category tree (materialised path, as accounts.Department)."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("parent category"))
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    order = models.IntegerField(_("order"), default=0)

    class Meta:
        ordering = ["path"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")
        indexes = [models.Index(fields=["order", "id"], name="prodcat_order_idx"),
                   models.Index(fields=["parent", "order", "id"], name="prodcat_parent_idx"),
                   models.Index(fields=["name", "id"], name="prodcat_name_idx")]

    def __str__(self):
        return self.name

    def clean(self):
        node = self.parent
        while node is not None:
            if self.pk and node.pk == self.pk:
                raise ValidationError({"parent": _("A category cannot be placed under itself.")})
            node = node.parent

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        path = (self.parent.path if self.parent else "") + f"{self.pk}/"
        if path != self.path:
            old = self.path
            ProductCategory.objects.filter(pk=self.pk).update(path=path)
            self.path = path
            if old:  # move the subtree along
                for child in ProductCategory.objects.filter(path__startswith=old).exclude(pk=self.pk):
                    ProductCategory.objects.filter(pk=child.pk).update(path=path + child.path[len(old):])

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1

    def subtree_ids(self) -> list[int]:
        """This category's id and those of every category under it."""
        return list(ProductCategory.objects.filter(path__startswith=self.path).values_list("pk", flat=True))


class Warehouse(models.Model):
    """A place stock is kept. Exactly one is the default (moves that name none go there)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    is_default = models.BooleanField(_("default warehouse"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-is_default", "code"]
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        indexes = [models.Index(fields=["code", "id"], name="warehouse_code_idx"),
                   models.Index(fields=["name", "id"], name="warehouse_name_idx")]
        constraints = [
            # at most one default; the migration creates it and `clean` keeps one
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                    name="catalog_one_default_warehouse"),
        ]

    def __str__(self):
        return bilingual(self.name, self.name_en)

    def clean(self):
        if self.pk and not self.is_default:
            was_default = Warehouse.objects.filter(pk=self.pk, is_default=True).exists()
            if was_default:
                raise ValidationError({"is_default": _(
                    "There is always one default warehouse: make another warehouse the default instead.")})
        if self.is_default and not self.active:
            raise ValidationError({"active": _("The default warehouse cannot be inactive.")})

    def validate_constraints(self, exclude=None):
        # a new default replaces the old one when saved: the one-default constraint holds then
        super().validate_constraints(exclude={*(exclude or ()), "is_default"})

    def save(self, *args, **kwargs):
        from django.db import transaction

        with transaction.atomic():
            if self.is_default:  # the new default replaces the old one
                Warehouse.objects.filter(is_default=True).exclude(pk=self.pk).update(is_default=False)
            super().save(*args, **kwargs)


class Product(KehuModel):
    """A product or service the company sells 商品."""

    class Kind(models.TextChoices):
        GOODS = "goods", _("Goods (stocked)")
        SERVICE = "service", _("Service (not stocked)")

    code = models.CharField(_("product code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # no index of its own: the list filters a category's subtree while it walks its order's index
    category = models.ForeignKey(ProductCategory, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="products", verbose_name=_("category"), db_index=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.GOODS)
    unit = dict_fk("product_unit", _("unit"), db_index=False)
    list_price = MoneyField(_("list price"), default=Decimal("0.00"))
    cost = MoneyField(_("cost"), default=Decimal("0.00"))
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2, default=Decimal("13.00"),
                                   validators=PERCENT)
    active = models.BooleanField(_("active"), default=True)
    allow_backorder = models.BooleanField(
        _("allow back orders"), default=False,
        help_text=_("Shipments may take the stock below zero (the missing units are owed)."))
    low_stock_threshold = QuantityField(_("low-stock threshold"), null=True, blank=True,
                                        validators=[MinValueValidator(Decimal(0))],
                                        help_text=_("Listed under low stock when the stock on hand is below this."))
    description = models.TextField(_("description"), blank=True)
    image = models.ImageField(_("image"), upload_to="products/%Y/%m", blank=True, max_length=300)
    # the sum of the warehouses' balances, written with every move (services.move_stock)
    on_hand = QuantityField(_("on hand"), default=Decimal(0), editable=False)
    # code, name, pinyin (full and initials), Chinese bigrams and characters: the list's search
    search_text = models.TextField(editable=False, default="")

    scope_owner_field = None  # the catalogue is the company's: rights decide, not owners

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [
            models.Index(fields=["id"], name="product_alive_id_idx", condition=ALIVE),
            models.Index(fields=["code", "id"], name="product_code_idx", condition=ALIVE),
            models.Index(fields=["name", "id"], name="product_name_idx", condition=ALIVE),
            models.Index(fields=["list_price", "id"], name="product_price_idx", condition=ALIVE),
            models.Index(fields=["on_hand", "id"], name="product_on_hand_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="product_created_idx", condition=ALIVE),
            models.Index(fields=["updated_at", "id"], name="product_updated_idx", condition=ALIVE),
            models.Index(fields=["owner", "code", "id"], name="product_owner_idx", condition=ALIVE),
            # 查询库存: the stocked products below their threshold, in the list's order
            models.Index(fields=["code", "id"], name="product_low_stock_idx",
                         condition=ALIVE & Q(kind="goods", low_stock_threshold__isnull=False,
                                             on_hand__lt=F("low_stock_threshold"))),
            models.Index(fields=["deleted_at"], name="product_deleted_idx", condition=Q(deleted_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def is_stocked(self) -> bool:
        return self.kind == self.Kind.GOODS

    @property
    def is_low(self) -> bool:
        return (self.is_stocked and self.low_stock_threshold is not None
                and self.on_hand < self.low_stock_threshold)

    @classmethod
    def low_stock_q(cls) -> Q:
        """The products under their low-stock threshold (the partial index product_low_stock_idx)."""
        return Q(kind=cls.Kind.GOODS, low_stock_threshold__isnull=False, on_hand__lt=F("low_stock_threshold"))

    def clean(self):
        from kehu.customers.normalize import clean_name

        self.code = (self.code or "").strip()
        self.name = clean_name(self.name)
        if self.kind == self.Kind.SERVICE and self.pk:
            if StockBalance.objects.filter(product_id=self.pk).exclude(on_hand=0).exists():
                raise ValidationError({"kind": _("A product with stock on hand cannot become a service.")})

    def build_search_text(self) -> str:
        from kehu.customers import normalize

        parts = [self.code, self.name, *normalize.pinyin_forms(self.name), *normalize.cjk_bigrams(self.name)]
        return normalize.with_unigrams(" " + " ".join(p for p in parts if p).lower()[:2000] + " ")

    def save(self, *args, **kwargs):
        self.search_text = self.build_search_text()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {"search_text"}
        elif not (self._state.adding or self.pk is None or kwargs.get("force_insert")):
            # an edit never writes `on_hand`: only move_stock does (under the product's row lock);
            # the form's copy of it may be older than a move committed since
            kwargs["update_fields"] = {f.attname for f in self._meta.concrete_fields
                                       if not f.primary_key and f.name != "on_hand"}
        super().save(*args, **kwargs)


class StockBalance(models.Model):
    """The on-hand quantity of one product in one warehouse: the sum of its moves, kept by
    services.move_stock in the move's transaction, under this row's lock."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="balances",
                                verbose_name=_("product"))
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="balances",
                                  verbose_name=_("warehouse"))
    on_hand = QuantityField(_("on hand"), default=Decimal(0))
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("stock balance")
        verbose_name_plural = _("stock balances")
        constraints = [models.UniqueConstraint(fields=["product", "warehouse"], name="catalog_balance_unique")]

    def __str__(self):
        return f"{self.product_id}@{self.warehouse_id}: {self.on_hand}"


class StockMove(KehuModel):
    """One line of the stock ledger 库存流水: read-only once written (services.move_stock)."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        SHIPMENT = "shipment", _("Shipment")
        RETURN = "return", _("Return")
        ADJUSTMENT = "adjustment", _("Adjustment")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        TRANSFER_OUT = "transfer_out", _("Transfer out")

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="moves", verbose_name=_("product"),
                                db_index=False)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="moves",
                                  verbose_name=_("warehouse"), db_index=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    quantity = QuantityField(_("quantity"))
    balance_after = QuantityField(_("balance after"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    # the document that caused it, without a foreign key: "order", 42, "DD202612030001"
    document_type = models.CharField(_("document type"), max_length=40, blank=True)
    document_id = models.BigIntegerField(_("document id"), null=True, blank=True)
    document_label = models.CharField(_("document"), max_length=100, blank=True)

    scope_owner_field = None  # the ledger is the company's: whoever may view stock sees it

    class Meta:
        verbose_name = _("stock move")
        verbose_name_plural = _("stock ledger")
        indexes = [
            models.Index(fields=["id"], name="stockmove_alive_id_idx", condition=ALIVE),
            models.Index(fields=["product", "id"], name="stockmove_product_idx", condition=ALIVE),
            models.Index(fields=["warehouse", "id"], name="stockmove_warehouse_idx", condition=ALIVE),
            models.Index(fields=["created_at", "id"], name="stockmove_created_idx", condition=ALIVE),
            models.Index(fields=["document_type", "document_id"], name="stockmove_document_idx"),
        ]

    def __str__(self):
        return f"{self.product} {self.quantity:+}"
