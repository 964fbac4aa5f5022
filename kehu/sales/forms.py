import django_filters
from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.accounts.models import Department, User
from kehu.core.filters import DictFilter, KehuFilterSet, PlainFilterSet, UserFilter
from kehu.core.forms import BootstrapMixin, KehuModelForm, PlainModelForm, choose_visible
from kehu.core.widgets import AutocompleteSelect

from .models import Opportunity, PlanStep, Stage


class StageForm(PlainModelForm):
    class Meta:
        model = Stage
        fields = ["name", "name_en", "order", "probability", "is_won", "is_lost", "active"]


class StageFilterSet(PlainFilterSet):
    search_fields = ["name", "name_en"]

    class Meta:
        model = Stage
        fields = ["active", "is_won", "is_lost"]


def active_users():
    return User.objects.filter(is_active=True).order_by("username")


class OpportunityForm(KehuModelForm):
    class Meta:
        model = Opportunity
        fields = [
            "title", "customer", "prospect_name", "source", "stage", "amount", "discount", "probability",
            "expected_close", "owner", "competitors", "description", "deal_products", "signed_on",
            "lost_reason", "won_competitor",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}),
                   "expected_close": forms.DateInput(), "signed_on": forms.DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from kehu.customers.models import Customer

        if self.user is not None:
            choose_visible(self.fields["customer"], Customer, self.user)
        self.fields["customer"].widget = AutocompleteSelect(lookup_url=reverse_lazy("customers:customer_lookup"))
        if "stage" in self.fields:  # a new opportunity's first stage; later stages are transitions
            self.fields["stage"].queryset = Stage.objects.filter(active=True).order_by("order", "id")
        if not self.instance.pk and not self.initial.get("stage"):
            from .services import default_stage

            first = default_stage()
            if first:
                self.initial["stage"] = first.pk
        if self.user is not None and not self.user.has_right("opportunity", "assign"):
            # only those with the assign right give an opportunity to someone else
            self.fields["owner"].disabled = True


class OpportunityFilterSet(KehuFilterSet):
    stage = django_filters.ModelChoiceFilter(queryset=Stage.objects.all(), label=_("Stage"))
    owner = UserFilter(field_name="owner_id", label=_("Owner"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    source = DictFilter("customer_source", label=_("Source"))
    open = django_filters.BooleanFilter(field_name="closed_at", lookup_expr="isnull", label=pgettext_lazy("opportunity", "Open"))
    close_after = django_filters.DateFilter(field_name="expected_close", lookup_expr="gte",
                                            label=_("Expected close from"))
    close_before = django_filters.DateFilter(field_name="expected_close", lookup_expr="lte",
                                             label=_("Expected close to"))
    search_fields = ["number", "title", "prospect_name", "customer__name"]
    search_indexed = True  # migration: kehu.core.search.search_index_operation
    primary = ["stage", "owner", "open"]

    class Meta:
        model = Opportunity
        fields = []


class PlanStepForm(KehuModelForm):
    class Meta:
        model = PlanStep
        fields = ["opportunity", "order", "planned_on", "action", "responsible", "result"]
        widgets = {"planned_on": forms.DateInput(), "result": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.user is not None:
            choose_visible(self.fields["opportunity"], Opportunity, self.user)
        self.fields["opportunity"].widget = AutocompleteSelect(lookup_url=reverse_lazy("sales:opportunity_lookup"))
        self.fields["opportunity"].widget.choices = self.fields["opportunity"].choices
        self.fields["responsible"].queryset = active_users()
        if not self.instance.pk and self.user is not None and not self.initial.get("responsible"):
            self.initial["responsible"] = self.user.pk


class PlanStepInlineForm(BootstrapMixin, forms.ModelForm):
    """The short form on the opportunity page (the opportunity is given)."""

    class Meta:
        model = PlanStep
        fields = ["planned_on", "action", "responsible"]
        widgets = {"planned_on": forms.DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = active_users()


class PlanStepFilterSet(KehuFilterSet):
    opportunity = django_filters.NumberFilter(field_name="opportunity_id", label=_("Opportunity"))
    responsible = UserFilter(field_name="responsible_id", label=_("Responsible"))
    done = django_filters.BooleanFilter(field_name="done_at", lookup_expr="isnull", exclude=True, label=_("Done"))
    planned_after = django_filters.DateFilter(field_name="planned_on", lookup_expr="gte", label=_("Planned from"))
    planned_before = django_filters.DateFilter(field_name="planned_on", lookup_expr="lte", label=_("Planned to"))
    search_fields = ["action", "result"]
    search_indexed = True  # migration: kehu.core.search.search_index_operation
    primary = ["responsible", "done"]

    class Meta:
        model = PlanStep
        fields = []


class BoardFilterForm(BootstrapMixin, forms.Form):
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label=_("Owner"))
    department = forms.ModelChoiceField(queryset=Department.objects.all(), required=False, label=_("Department"))
    close_from = forms.DateField(required=False, label=_("Expected close from"), widget=forms.DateInput())
    close_to = forms.DateField(required=False, label=_("Expected close to"), widget=forms.DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = active_users()
        for field in self.fields.values():
            css = field.widget.attrs.get("class", "")
            field.widget.attrs["class"] = css.replace("form-select", "form-select form-select-sm").replace(
                "form-control", "form-control form-control-sm")

    def apply(self, qs, dates=True):
        """`qs` narrowed to the chosen owner, department and (unless `dates=False`) close dates."""
        if not self.is_valid():
            return qs
        data = self.cleaned_data
        if data.get("owner"):
            qs = qs.filter(owner=data["owner"])
        if data.get("department"):
            qs = qs.filter(owner__department__path__startswith=data["department"].path)
        if dates and data.get("close_from"):
            qs = qs.filter(expected_close__gte=data["close_from"])
        if dates and data.get("close_to"):
            qs = qs.filter(expected_close__lte=data["close_to"])
        return qs

    def totals_filters(self) -> dict:
        """The chosen filters as `kehu.sales.reports.pipeline_report` takes them."""
        data = self.cleaned_data if self.is_valid() else {}
        return {name: data.get(name) for name in ("owner", "department", "close_from", "close_to")}
