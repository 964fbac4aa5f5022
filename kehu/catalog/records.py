"""The catalogue's record types: products, their categories, warehouses and the stock ledger."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kehu.core.actions import Action
from kehu.core.registry import RecordType, registry

from . import services
from .forms import (
    AdjustForm,
    ProductCategoryFilterSet,
    ProductCategoryForm,
    ProductFilterSet,
    ProductForm,
    ReceiveForm,
    StockMoveFilterSet,
    TransferForm,
    WarehouseFilterSet,
    WarehouseForm,
)
from .models import Product, ProductCategory, StockMove, Warehouse

QUANTITIES = ("on_hand", "low_stock_threshold", "quantity", "balance_after")


def not_stocked(product, user):
    """Why the stock actions cannot be taken on `product` (a service), or None."""
    if product.kind != Product.Kind.GOODS:
        return gettext("Services are not stocked.")
    return None


def quantity(obj, name):
    """A quantity as people write it (10, 2.5, not 10.000); a service has no stock on hand."""
    value = getattr(obj, name)
    if value is None or (name == "on_hand" and getattr(obj, "kind", "goods") != Product.Kind.GOODS):
        return None
    return services.fmt_qty(value)


class QuantityColumns:
    """Quantities in lists and on detail pages: 10, 2.5 (not 10.000); "—" for a service's stock."""

    def available_columns(self):
        cols = super().available_columns()
        for name in QUANTITIES:
            if name in cols:
                cols[name].accessor = (lambda n: lambda obj: quantity(obj, n))(name)
        return cols

    def detail_value(self, name, obj):
        return quantity(obj, name) if name in QUANTITIES else super().detail_value(name, obj)


@registry.register
class ProductType(QuantityColumns, RecordType):
    model = Product
    form = ProductForm
    filterset = ProductFilterSet
    url_prefix = "products"
    list_columns = ["code", "name", "category", "unit", "list_price", "on_hand", "active"]
    extra_columns = ["kind", "cost", "tax_rate", "low_stock_threshold", "allow_backorder", "created_at",
                     "updated_at", "tags"]
    sort_fields = ["id", "code", "name", "list_price", "on_hand", "created_at", "updated_at"]
    default_sort = "code"
    list_select_related = ["category"]
    detail_template = "catalog/product_detail.html"
    detail_fields = ["code", "name", "category", "kind", "unit", "list_price", "cost", "tax_rate", "on_hand",
                     "low_stock_threshold", "allow_backorder", "active", "description", "created_at", "created_by",
                     "updated_at", "updated_by"]
    export_fields = ["code", "name", "category", "kind", "unit", "list_price", "cost", "tax_rate", "on_hand",
                     "low_stock_threshold", "allow_backorder", "active", "description", "created_at", "updated_at"]
    api_exclude = ["search_text", "image", "owner"]
    bulk_actions = ["tag", "delete"]
    nav_icon = "ti-package"
    nav_section, nav_order = "catalog", 10
    search_placeholder = _("Code, name, pinyin")
    actions = (
        Action("receive", _("Receive stock"), run=services.receive_action, right="stock.create", form=ReceiveForm,
               guard=not_stocked, icon="ti-package-import", style="outline-primary",
               help=_("Units that arrived (a purchase, a delivery): added to the stock of the warehouse.")),
        Action("adjust", _("Adjust stock"), run=services.adjust_action, right="stock.edit", form=AdjustForm,
               guard=not_stocked, icon="ti-adjustments",
               help=_("Correct the stock after a count, a loss or damage: the reason is kept in the ledger.")),
        Action("transfer", _("Transfer stock"), run=services.transfer_action, right="stock.edit", form=TransferForm,
               guard=not_stocked, icon="ti-arrows-exchange",
               help=_("Move units from one warehouse to another: two moves in the ledger.")),
    )

    def check_delete(self, obj):
        if obj.on_hand:
            raise ValidationError(_("%(product)s still has stock on hand: ship or adjust it to zero first.")
                                  % {"product": obj})


@registry.register
class ProductCategoryType(RecordType):
    model = ProductCategory
    key = "productcategory"
    url_prefix = "product-categories"
    form = ProductCategoryForm
    filterset = ProductCategoryFilterSet
    list_columns = ["name", "parent", "order"]
    sort_fields = ["id", "name", "order"]
    default_sort = "order"
    list_select_related = ["parent"]
    detail_fields = ["name", "parent", "order"]
    nav_icon = "ti-category"
    nav_section, nav_order = "admin", 44  # the Administration menu: the navigation bar stays short

    def check_delete(self, obj):
        if obj.children.exists() or Product.all_objects.filter(category=obj).exists():
            raise ValidationError(_("This category still has products or subcategories."))


@registry.register
class WarehouseType(RecordType):
    model = Warehouse
    url_prefix = "admin/warehouses"
    form = WarehouseForm
    filterset = WarehouseFilterSet
    list_columns = ["code", "name", "name_en", "is_default", "active"]
    sort_fields = ["id", "code", "name"]
    default_sort = "code"
    nav_icon = "ti-building-warehouse"
    nav_section, nav_order = "admin", 45

    def check_delete(self, obj):
        if obj.is_default:
            raise ValidationError(_("The default warehouse cannot be deleted."))
        if obj.moves.exists() or obj.balances.exists():
            raise ValidationError(_("This warehouse has stock moves: make it inactive instead."))


@registry.register
class StockMoveType(QuantityColumns, RecordType):
    model = StockMove
    key = "stockmove"
    module = "stock"  # stock.view: see stock; stock.create: receive; stock.edit: adjust (the product's actions)
    url_prefix = "stock-moves"
    filterset = StockMoveFilterSet
    read_only = True  # written by services.move_stock only
    list_columns = ["created_at", "product", "warehouse", "kind", "quantity", "balance_after", "document_label",
                    "reason", "created_by"]
    sort_fields = ["id", "created_at"]
    default_sort = "-id"
    list_select_related = ["product", "warehouse", "created_by"]
    detail_fields = ["product", "warehouse", "kind", "quantity", "balance_after", "reason", "document_type",
                     "document_id", "document_label", "created_at", "created_by"]
    export_fields = ["created_at", "product", "warehouse", "kind", "quantity", "balance_after", "reason",
                     "document_type", "document_id", "document_label", "created_by"]
    bulk_actions = []
    search_placeholder = _("Document, reason")
    nav_icon = "ti-list-numbers"
    nav_section, nav_order = "catalog", 30
