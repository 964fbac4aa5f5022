"""Forms and filter sets of products, categories, warehouses and the stock ledger."""

from decimal import Decimal

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.filters import DictFilter, KehuFilterSet, PlainFilterSet
from kehu.core.forms import KehuModelForm, PlainModelForm

from .models import Product, ProductCategory, StockMove, Warehouse


class ProductForm(KehuModelForm):
    class Meta:
        model = Product
        fields = ["code", "name", "category", "kind", "unit", "list_price", "cost", "tax_rate",
                  "low_stock_threshold", "allow_backorder", "active", "description", "image"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = ProductCategory.objects.order_by("path")
        self.fields["category"].label_from_instance = lambda c: "\u3000" * c.depth + c.name


class ProductFilterSet(KehuFilterSet):
    category = django_filters.ModelChoiceFilter(queryset=ProductCategory.objects.order_by("path"),
                                                method="filter_category", label=_("Category"))
    kind = django_filters.ChoiceFilter(choices=Product.Kind.choices, label=_("Kind"))
    unit = DictFilter("product_unit", label=_("Unit"))
    active = django_filters.BooleanFilter(label=pgettext_lazy("product", "Active"))
    low_stock = django_filters.BooleanFilter(method="filter_low_stock", label=_("Low stock"))
    # code, name and pinyin in one indexed column (Product.search_text)
    search_fields = ["search_text"]
    search_indexed = True  # migration 0002: kehu.core.search.search_index_operation
    primary = ["category", "kind", "active", "low_stock"]

    class Meta:
        model = Product
        fields = []

    def filter_category(self, queryset, name, value):
        """The category and every category under it."""
        return queryset.filter(category_id__in=value.subtree_ids()) if value else queryset

    def filter_low_stock(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(Product.low_stock_q()) if value else queryset.exclude(Product.low_stock_q())


class ProductCategoryForm(PlainModelForm):
    class Meta:
        model = ProductCategory
        fields = ["name", "parent", "order"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parents = ProductCategory.objects.order_by("path")
        if self.instance.pk:  # not under itself or its own subtree
            parents = parents.exclude(path__startswith=self.instance.path)
        self.fields["parent"].queryset = parents


class ProductCategoryFilterSet(PlainFilterSet):
    search_fields = ["name"]

    class Meta:
        model = ProductCategory
        fields = ["parent"]


class WarehouseForm(PlainModelForm):
    class Meta:
        model = Warehouse
        fields = ["code", "name", "name_en", "is_default", "active"]


class WarehouseFilterSet(PlainFilterSet):
    search_fields = ["code", "name", "name_en"]

    class Meta:
        model = Warehouse
        fields = ["active"]


class StockMoveFilterSet(KehuFilterSet):
    product = django_filters.ModelChoiceFilter(queryset=Product.all_objects.only("id", "code", "name").order_by("code"),
                                               label=_("Product"))
    warehouse = django_filters.ModelChoiceFilter(queryset=Warehouse.objects.all(), label=_("Warehouse"))
    kind = django_filters.ChoiceFilter(choices=StockMove.Kind.choices, label=_("Kind"))
    # the document (an order's number) and the reason, through the search index (migration 0004)
    search_fields = ["document_label", "reason"]
    search_indexed = True
    primary = ["product", "warehouse", "kind", "created_after", "created_before"]

    class Meta:
        model = StockMove
        fields = []


# --- the input of the product's stock actions (Action.form) ------------------------------------

def warehouse_field():
    return forms.ModelChoiceField(queryset=Warehouse.objects.filter(active=True), required=False,
                                  label=_("Warehouse"), empty_label=_("Default warehouse"))


class ReceiveForm(forms.Form):
    quantity = forms.DecimalField(label=_("Quantity received"), max_digits=15, decimal_places=3,
                                  min_value=Decimal("0.001"))
    warehouse = warehouse_field()
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False,
                             help_text=_("A purchase, a supplier's delivery note…"))


class AdjustForm(forms.Form):
    quantity = forms.DecimalField(label=_("Quantity (+ / −)"), max_digits=15, decimal_places=3,
                                  help_text=_("Positive adds to the stock, negative takes away (a count's difference)."))
    warehouse = warehouse_field()
    reason = forms.CharField(label=_("Reason"), max_length=255)


class TransferForm(forms.Form):
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=15, decimal_places=3, min_value=Decimal("0.001"))
    from_warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.filter(active=True), label=_("From warehouse"))
    to_warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.filter(active=True), label=_("To warehouse"))
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)
