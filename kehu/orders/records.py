from django.utils.translation import gettext_lazy as _

from kehu.core.actions import Action
from kehu.core.registry import ExportLines, RecordType, registry
from kehu.core.relations import Protect

from . import services
from .forms import OrderFilterSet, OrderForm, QuotationFilterSet, QuotationForm
from .models import Order, Quotation
from .workflows import OrderWorkflow, QuotationWorkflow

DOCUMENT_DETAIL = ["customer", "contact", "opportunity", "owner", "created_at", "created_by", "updated_at",
                   "updated_by"]


@registry.register
class QuotationType(RecordType):
    model = Quotation
    form = QuotationForm
    filterset = QuotationFilterSet
    list_columns = ["number", "title", "customer", "quoted_on", "valid_until", "total", "status", "owner"]
    extra_columns = ["contact", "opportunity", "revision", "net_total", "tax_total", "sent_at", "created_at", "tags"]
    sort_fields = ["id", "created_at", "updated_at", "total"]
    default_sort = "-id"
    list_select_related = ["customer", "owner"]
    list_names = {"customer": ("name",)}  # a row names its customer: not the whole row joined
    detail_fields = ["number", "title", "status", "revision", "quoted_on", "valid_until", "terms", "notes",
                     "sent_at", "decided_at", *DOCUMENT_DETAIL]
    detail_template = "orders/document_detail.html"
    nav_icon = "ti-file-dollar"
    nav_section, nav_order = "orders", 20
    search_placeholder = _("Number, title, customer")
    workflow = QuotationWorkflow()
    actions = (Action("make_order", _("Make an order"), run=services.order_from_quotation, right="order.create",
                      guard=services.make_order_refusal, icon="ti-shopping-cart", style="primary",
                      help=_("Creates the order with this quotation's customer and lines.")),)
    relations = [Protect("orders", message=_("“%(record)s” became %(n)s order(s): delete those first."))]

    @property
    def create_with(self):  # POST /api/v1/quotations/ with "lines" (kehu/core/nested.py)
        from .api import create_with_lines

        return create_with_lines("quotation")

    def extend_api(self, router, out_schema):
        from .api import extend

        extend(router, out_schema, self)


@registry.register
class OrderType(RecordType):
    model = Order
    form = OrderForm
    filterset = OrderFilterSet
    list_columns = ["number", "title", "customer", "order_date", "promised_date", "total", "status",
                    "amount_received", "outstanding", "payment_status", "owner"]
    extra_columns = ["contact", "opportunity", "quotation", "external_number", "payment_method", "net_total",
                     "tax_total", "cost_total", "amount_invoiced", "payment_due_on", "delivery_address", "shipped_at",
                     "delivered_at", "created_at", "tags"]
    sort_fields = ["id", "order_date", "created_at", "updated_at", "total"]
    default_sort = "-id"
    list_select_related = ["customer", "owner"]
    list_names = {"customer": ("name",)}  # a row names its customer: not the whole row joined
    detail_fields = ["number", "title", "status", "order_date", "promised_date", "delivery_address",
                     "payment_method", "external_number", "quotation", "contract", "notes", "shipped_at",
                     "delivered_at", "cancelled_at",
                     *DOCUMENT_DETAIL]
    detail_template = "orders/document_detail.html"
    # the export is the import's layout (kehu/orders/imports.py): a row per line, the order's columns
    # on its first line, its number in the reference column (a re-import keeps it as the external number)
    export_fields = ["number", "title", "customer", "contact", "status", "order_date", "promised_date",
                     "delivery_address", "payment_method", "notes", "owner", "net_total", "tax_total", "total",
                     "cost_total", "external_number", "opportunity", "quotation", "contract", "amount_received",
                     "amount_invoiced", "payment_state", "payment_due_on", "shipped_at", "delivered_at",
                     "cancelled_at", "created_at", "updated_at", "tags"]
    export_labels = {"number": _("order number")}
    export_lines = ExportLines("lines", (
        ("product__code", _("product code")), ("description", _("description")), ("quantity", _("quantity")),
        ("unit_price", _("unit price")), ("discount_pct", _("discount (%)")), ("tax_rate", _("tax rate (%)")),
        ("gross", _("amount")),
    ))
    nav_icon = "ti-shopping-cart"
    nav_section, nav_order = "orders", 10  # the section's main list
    search_placeholder = _("Number, title, customer")
    workflow = OrderWorkflow()
    relations = [Protect("shipments", message=_("Goods of “%(record)s” were shipped (%(n)s shipments): "
                                                 "cancel it instead."))]

    def available_columns(self):
        from .records_fin import payment_columns  # received, outstanding, payment status

        return payment_columns(super().available_columns())

    @property
    def create_with(self):  # POST /api/v1/orders/ with "lines" (kehu/core/nested.py)
        from .api import create_with_lines

        return create_with_lines("order")

    def after_assign(self, obj, old_owner_id, by):
        from .payments import follow_owner

        follow_owner(obj)  # its payments and invoices are seen with it

    def extend_api(self, router, out_schema):
        from .api import extend

        extend(router, out_schema, self)


from . import records_fin  # noqa: E402,F401  payments and invoices
from .contract_records import ContractType  # noqa: E402,F401  (contracts: contract_records.py)
