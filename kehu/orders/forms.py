import django_filters
from django import forms
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.filters import DictFilter, KehuFilterSet
from kehu.core.forms import (
    KehuFormMixin,
    KehuModelForm,
    PreloadedModelChoiceField,
    choose_visible,
    preload_rows,
)
from kehu.core.widgets import AutocompleteSelect
from kehu.customers.models import Contact, Customer

from . import contracts
from .models import Order, OrderLine, PaymentState, Quotation

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DocumentForm(KehuModelForm):
    """The parties of a quotation or an order: the customer and opportunity the user may see, the
    contact narrowed to the chosen customer."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from kehu.sales.models import Opportunity

        if self.user is not None:
            choose_visible(self.fields["customer"], Customer, self.user)
            choose_visible(self.fields["contact"], Contact, self.user)
            choose_visible(self.fields["opportunity"], Opportunity, self.user)
        for name, url, narrow in (("customer", "customers:customer_lookup", ()),
                                  ("contact", "activities:contact_lookup", ("customer",)),
                                  ("opportunity", "sales:opportunity_lookup", ("customer",))):
            field = self.fields.get(name)
            if field is not None and not field.disabled:
                field.widget = AutocompleteSelect(lookup_url=reverse_lazy(url), narrow_by=narrow)
                field.widget.choices = field.choices

        self.fields["customer"].required = False  # an opportunity's customer, when it has one
        self.fields["customer"].widget.is_required = True

    def initial_from_query(self):
        """A new document from an opportunity's page (?opportunity=): its customer and its contact."""
        from kehu.sales.models import Opportunity

        opp_id = str(self.initial.get("opportunity") or "")
        if opp_id.isdigit() and not self.initial.get("customer"):
            opp = Opportunity.objects.visible_to(self.user).filter(pk=opp_id).first() if self.user else None
            if opp is not None and opp.customer_id:
                self.initial["customer"] = opp.customer_id
                if not self.initial.get("title"):
                    self.initial["title"] = opp.title

    def clean(self):
        data = super().clean()
        if data.get("customer") is None and data.get("opportunity") is not None and data["opportunity"].customer_id:
            data["customer"] = data["opportunity"].customer
            self.instance.customer = data["customer"]
        if data.get("customer") is None and "customer" not in self.errors:
            self.add_error("customer", forms.Field.default_error_messages["required"])
        customer, contact, opportunity = data.get("customer"), data.get("contact"), data.get("opportunity")
        if customer is not None and contact is not None and contact.customer_id != customer.pk:
            self.add_error("contact", _("This contact belongs to another customer."))
        if customer is not None and opportunity is not None and opportunity.customer_id not in (None, customer.pk):
            self.add_error("opportunity", _("This opportunity belongs to another customer."))
        return data


class QuotationForm(DocumentForm):
    class Meta:
        model = Quotation
        fields = ["title", "customer", "contact", "opportunity", "quoted_on", "valid_until", "terms", "notes",
                  "owner"]
        widgets = {"quoted_on": DATE, "valid_until": DATE}

    def clean(self):
        data = super().clean()
        if data.get("valid_until") and data.get("quoted_on") and data["valid_until"] < data["quoted_on"]:
            self.add_error("valid_until", _("The validity ends before the quotation date."))
        return data


class OrderForm(DocumentForm):
    class Meta:
        model = Order
        fields = ["title", "customer", "contact", "opportunity", "contract", "order_date", "promised_date",
                  "delivery_address", "payment_method", "external_number", "notes", "owner"]
        widgets = {"order_date": DATE, "promised_date": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        contracts.setup_order_contract_field(self)  # the customer's visible contracts (contracts.py)

    def clean(self):
        data = super().clean()
        if data.get("promised_date") and data.get("order_date") and data["promised_date"] < data["order_date"]:
            self.add_error("promised_date", _("The promised delivery date is before the order date."))
        contracts.check_order_contract(self, data)
        return data

    def initial_from_query(self):
        super().initial_from_query()
        contracts.initial_from_contract(self)  # a new order from a contract's page: its customer

    def save(self, commit=True):
        return contracts.order_form_saved(self, super().save(commit))  # the contracts' ordered amounts


class LineForm(KehuFormMixin, forms.ModelForm):
    """A document line as the user types it; amounts are computed, never entered. `line_form(model)`
    gives the form of a document's own line model."""

    class Meta:
        model = OrderLine
        fields = ["product", "description", "quantity", "unit_price", "discount_pct", "tax_rate"]
        field_classes = {"product": PreloadedModelChoiceField}

    def __init__(self, *args, products: dict | None = None, **kwargs):
        """`products`: {pk: product} read by `preload_products` for many lines posted at once."""
        kwargs.pop("user", None)
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = self.product_choices()
        self.fields["product"].preloaded = products
        self.fields["product"].widget = AutocompleteSelect(lookup_url=reverse_lazy("orders:product_lookup"))
        self.fields["product"].widget.choices = self.fields["product"].choices
        for name in ("unit_price", "tax_rate", "discount_pct"):
            self.fields[name].required = False
        self.fields["quantity"].widget.attrs.update(step="any", min="0")

    @staticmethod
    def product_choices():
        from kehu.catalog.models import Product

        return Product.objects.filter(active=True)

    @classmethod
    def preload_products(cls, pks) -> dict:
        """The products a batch of lines names, with their units, in one query."""
        return preload_rows(cls.product_choices().select_related("unit"), pks)

    def clean(self):
        data = super().clean()
        if not data.get("product") and not (data.get("description") or "").strip():
            self.add_error("description", _("Choose a product or describe the line."))
        return data


def _date(field, lookup, label):
    return django_filters.DateFilter(field_name=field, lookup_expr=lookup, label=label,
                                     widget=forms.DateInput(attrs={"type": "date"}))


class QuotationFilterSet(KehuFilterSet):
    status = django_filters.ChoiceFilter(choices=Quotation.Status.choices, label=_("Status"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    opportunity = django_filters.NumberFilter(field_name="opportunity_id", label=_("Opportunity"))
    search_fields = ["number", "title", "customer__name"]
    search_indexed = True  # migration 0003: kehu.core.search.search_index_operation
    primary = ["status", "owner"]

    class Meta:
        model = Quotation
        fields = []


class OrderFilterSet(KehuFilterSet):
    status = django_filters.ChoiceFilter(choices=Order.Status.choices, label=_("Status"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    opportunity = django_filters.NumberFilter(field_name="opportunity_id", label=_("Opportunity"))
    contract = django_filters.NumberFilter(field_name="contract_id", label=_("Contract"))  # order_contract_idx
    payment_method = DictFilter("payment_method", label=_("Payment method"))
    ordered_after = _date("order_date", "gte", _("Ordered from"))
    ordered_before = _date("order_date", "lte", _("Ordered to"))
    late = django_filters.BooleanFilter(method="filter_late", label=_("Late"))
    payment = django_filters.ChoiceFilter(choices=PaymentState.choices, method="filter_payment", label=_("Payment"))
    search_fields = ["number", "title", "customer__name"]
    search_indexed = True  # migration 0003: kehu.core.search.search_index_operation
    primary = ["status", "payment", "late", "ordered_after", "ordered_before", "owner"]

    class Meta:
        model = Order
        fields = []

    def filter_late(self, queryset, name, value):
        if value is None:
            return queryset
        # read from the partial order_open_promised_idx and sorted. Planned by their number
        # (listed_or_walked) it was no faster at 2M orders: late orders are old ones, so the
        # newest-first walk read deep (an administrator's API list 17 -> 23.5 ms)
        cond = Order.late_q(timezone.localdate())
        return queryset.filter(cond) if value else queryset.exclude(cond)

    def filter_payment(self, queryset, name, value):
        """The payment status as the list shows it: overdue (not paid by the next instalment's
        date) is left out of unpaid and partly paid."""
        if not value:
            return queryset
        today = timezone.localdate()
        if value == PaymentState.OVERDUE:
            return (queryset.filter(payment_due_on__lt=today).exclude(payment_state=PaymentState.PAID)
                    .exclude(status=Order.Status.CANCELLED))
        queryset = queryset.filter(payment_state=value)
        if value != PaymentState.PAID:
            queryset = queryset.exclude(payment_due_on__lt=today)
        return queryset


_line_forms: dict = {}


def line_form(model) -> type[LineForm]:
    """The LineForm of `model` (OrderLine, QuotationLine)."""
    if model not in _line_forms:
        meta = type("Meta", (LineForm.Meta,), {"model": model})
        _line_forms[model] = type(f"{model.__name__}Form", (LineForm,), {"Meta": meta})
    return _line_forms[model]
