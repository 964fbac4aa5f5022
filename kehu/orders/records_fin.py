"""Payments 回款 and invoices 开票 as record types (imported by records.py). Payments are a
read-only history written by kehu/orders/payments.py only; invoices have a workflow (requested →
issued → cancelled) and are created through the same service rule (what is not invoiced yet)."""

import django_filters
from django import forms
from django.db import transaction
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kehu.core.filters import DictFilter, KehuFilterSet
from kehu.core.forms import KehuModelForm
from kehu.core.registry import RecordType, registry
from kehu.core.widgets import AutocompleteSelect
from kehu.core.workflow import NONE, REQUIRED, Transition, Workflow

from . import payments
from .models import Invoice, Order, Payment

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _date(field, lookup, label):
    return django_filters.DateFilter(field_name=field, lookup_expr=lookup, label=label,
                                     widget=forms.DateInput(attrs={"type": "date"}))


# --- the order list's payment columns ------------------------------------------------------------
def payment_columns(cols: dict) -> dict:
    """What the customer still owes (money) and the derived payment status (overdue included)."""
    from kehu.core.registry import Column

    if "outstanding" in cols:
        cols["outstanding"] = Column("outstanding", _("Outstanding"), money=True, accessor=lambda o: o.outstanding)
    if "payment_status" in cols:
        cols["payment_status"] = Column("payment_status", _("Payment status"),
                                        accessor=lambda o: o.get_payment_status_display())
    return cols


# --- payments -----------------------------------------------------------------------------------
class PaymentFilterSet(KehuFilterSet):
    kind = django_filters.ChoiceFilter(choices=Payment.Kind.choices, label=_("Kind"))
    method = DictFilter("payment_method", label=_("Payment method"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    order = django_filters.NumberFilter(field_name="order_id", label=_("Order"))
    contract = django_filters.NumberFilter(field_name="contract_id", label=_("Contract"))
    received_after = _date("received_on", "gte", _("Received from"))
    received_before = _date("received_on", "lte", _("Received to"))
    search_fields = ["number", "reference", "customer__name"]
    search_indexed = True  # migration 0003: kehu.core.search.search_index_operation
    primary = ["kind", "method", "received_after", "received_before"]

    class Meta:
        model = Payment
        fields = []


@registry.register
class PaymentType(RecordType):
    model = Payment
    filterset = PaymentFilterSet
    read_only = True  # written by kehu.orders.payments only (record_payment, record_refund)
    list_columns = ["number", "received_on", "amount", "customer", "order", "kind", "method", "reference"]
    extra_columns = ["contract", "notes", "created_at", "created_by"]
    sort_fields = ["id", "received_on", "created_at", "amount"]
    default_sort = "-id"
    list_select_related = ["customer", "order", "contract", "created_by"]
    list_names = {"customer": ("name",), "order": ("number", "title"), "contract": ("number", "title"),
                  "created_by": ("username", "full_name")}  # names, not whole rows joined
    detail_fields = ["number", "kind", "received_on", "amount", "method", "reference", "notes", "customer", "order",
                     "contract", "after_sales", "created_at", "created_by"]
    export_fields = ["number", "received_on", "customer", "order", "contract", "kind", "amount", "method",
                     "reference", "notes", "created_at", "created_by"]
    bulk_actions = []
    nav_icon = "ti-cash"
    nav_section, nav_order = "orders", 40
    search_placeholder = _("Number, reference, customer")


# --- invoices -----------------------------------------------------------------------------------
class InvoiceForm(KehuModelForm):
    """An invoice request: the order it invoices (one the user may see), the type, the amount
    (at most what of the order is not invoiced yet: payments.check_invoice_amount)."""

    class Meta:
        model = Invoice
        fields = ["order", "type", "amount", "tax", "invoiced_on", "title", "tax_id", "notes"]
        widgets = {"invoiced_on": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("order")
        if field is not None:
            if self.user is not None:
                field.queryset = Order.objects.visible_to(self.user)
            field.required = not self.instance.contract_id
            if self.instance.pk:
                field.disabled = True  # an invoice stays with its document
            else:
                field.widget = AutocompleteSelect(lookup_url=reverse_lazy("orders:order_lookup"))
                field.widget.choices = field.choices

    def document(self):
        if self.instance.pk:
            return payments.invoice_document(self.instance)
        return self.cleaned_data.get("order")

    def clean(self):
        data = super().clean()
        doc = self.document()
        amount = data.get("amount")
        if doc is not None and amount is not None and "amount" not in self.errors:
            if not self.instance.pk:
                try:
                    payments._check_open(doc, "order")
                except forms.ValidationError as exc:
                    self.add_error(None, exc)
            if not self.instance.pk or self.instance.status == Invoice.Status.REQUESTED:
                try:
                    payments.check_invoice_amount(doc, amount, exclude=self.instance.pk)
                except forms.ValidationError as exc:
                    self.add_error(None, exc)
        if amount is not None and data.get("tax") is not None and data["tax"] > amount:
            self.add_error("tax", _("The tax cannot be more than the invoice's amount."))
        return data

    def save(self, commit=True):
        obj = super().save(commit=False)
        doc = self.document()
        if doc is not None and not obj.customer_id:
            obj.customer_id = doc.customer_id
        if not obj.title and doc is not None:
            obj.title = str(doc.customer.name)[:200]
        if commit:
            obj.save()
            self.save_m2m()
        return obj


class InvoiceFilterSet(KehuFilterSet):
    status = django_filters.ChoiceFilter(choices=Invoice.Status.choices, label=_("Status"))
    type = django_filters.ChoiceFilter(choices=Invoice.Type.choices, label=_("Type"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    order = django_filters.NumberFilter(field_name="order_id", label=_("Order"))
    contract = django_filters.NumberFilter(field_name="contract_id", label=_("Contract"))
    invoiced_after = _date("invoiced_on", "gte", _("Invoiced from"))
    invoiced_before = _date("invoiced_on", "lte", _("Invoiced to"))
    search_fields = ["number", "invoice_number", "title", "customer__name"]
    search_indexed = True  # migration 0003: kehu.core.search.search_index_operation
    primary = ["status", "type", "invoiced_after", "invoiced_before"]

    class Meta:
        model = Invoice
        fields = []


class InvoiceWorkflow(Workflow):
    field = "status"
    # an issued invoice is a tax document the customer has: only its notes change
    frozen = {"issued": ("notes",), "cancelled": ("notes",)}
    transitions = (
        Transition("issue", _("Mark issued"), source=("requested",), target="issued", comment=NONE,
                   fields=("invoice_number", "invoiced_on"), required=("invoice_number",),
                   run=payments.invoice_issued, icon="ti-receipt", style="primary",
                   help=_("The tax invoice was issued: enter the number printed on it.")),
        Transition("cancel", _("Cancel invoice"), source=("requested", "issued"), target="cancelled",
                   comment=REQUIRED, run=payments.invoice_cancelled, icon="ti-ban", style="outline-danger",
                   help=_("A cancelled invoice no longer counts as invoiced.")),
    )


@registry.register
class InvoiceType(RecordType):
    model = Invoice
    form = InvoiceForm
    filterset = InvoiceFilterSet
    list_columns = ["number", "invoiced_on", "amount", "status", "customer", "order", "type", "tax",
                    "invoice_number"]
    extra_columns = ["contract", "title", "tax_id", "notes", "issued_at", "cancelled_at", "created_at", "created_by"]
    sort_fields = ["id", "invoiced_on", "created_at", "updated_at", "amount"]
    default_sort = "-id"
    list_select_related = ["customer", "order", "contract"]
    list_names = {"customer": ("name",), "order": ("number", "title"), "contract": ("number", "title")}
    detail_fields = ["number", "status", "type", "invoice_number", "invoiced_on", "amount", "tax", "title", "tax_id",
                     "notes", "customer", "order", "contract", "issued_at", "cancelled_at", "created_at",
                     "created_by", "updated_at", "updated_by"]
    nav_icon = "ti-receipt"
    nav_section, nav_order = "orders", 50
    search_placeholder = _("Number, invoice number, title, customer")
    workflow = InvoiceWorkflow()

    def check_delete(self, obj):
        """An issued tax invoice is a document the customer has: it is cancelled, never deleted."""
        if obj.status == Invoice.Status.ISSUED:
            raise forms.ValidationError(_("An issued invoice cannot be deleted: cancel it instead."))

    def save_form(self, form, user):
        """Created or changed on the locked document, the amount checked again under the lock (two
        requests at once never invoice more than the total); the invoiced amount follows (signal)."""
        doc = form.document()
        with transaction.atomic():
            if doc is not None:
                doc = payments._lock(doc)
                if not form.instance.pk or form.instance.status == Invoice.Status.REQUESTED:
                    payments.check_invoice_amount(doc, form.cleaned_data["amount"], exclude=form.instance.pk)
            return form.save()


payments.connect()
