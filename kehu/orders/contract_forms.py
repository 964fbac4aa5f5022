"""The contract's form and list filters (ContractType in records.py)."""

import datetime

import django_filters
from django import forms
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kehu.core.filters import KehuFilterSet

from . import contracts
from .forms import DATE, DocumentForm, _date
from .models import Contract


class ContractForm(DocumentForm):
    """The parties (DocumentForm: visible customer, contact and opportunity of that customer), the
    term and the amount. Signed on a day that has come; ending no earlier than it starts."""

    class Meta:
        model = Contract
        fields = ["title", "customer", "contact", "opportunity", "signed_on", "starts_on", "ends_on", "amount",
                  "terms", "notes", "owner"]
        widgets = {"signed_on": DATE, "starts_on": DATE, "ends_on": DATE,
                   "terms": forms.Textarea(attrs={"rows": 4}), "notes": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        data = super().clean()
        starts_on, ends_on, signed_on = data.get("starts_on"), data.get("ends_on"), data.get("signed_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The end date is before the start date."))
        if signed_on and signed_on > timezone.localdate() and "signed_on" in self.changed_data:
            self.add_error("signed_on", _("The signing date cannot be in the future."))
        return data


def _days(n: int) -> str:
    return gettext("%(n)s days") % {"n": n}


_days_lazy = lazy(_days, str)  # translated when the form is shown, in the user's language


class ExpiresWithinFilter(django_filters.ChoiceFilter):
    """Contracts in force ending within 30 / 60 / 90 days from today (the contract_active_ends_idx)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [(str(d), _days_lazy(d)) for d in contracts.EXPIRY_WINDOWS])
        kwargs.setdefault("field_name", "ends_on")  # what it compares (with the contract's status)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return qs.filter(contracts.expiring_q(int(value), self.today()))

    @staticmethod
    def today() -> datetime.date:
        return timezone.localdate()


class ContractFilterSet(KehuFilterSet):
    status = django_filters.ChoiceFilter(choices=Contract.Status.choices, label=_("Status"))
    expires_within = ExpiresWithinFilter(label=_("Expires within"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    opportunity = django_filters.NumberFilter(field_name="opportunity_id", label=_("Opportunity"))
    signed_after = _date("signed_on", "gte", _("Signed from"))
    signed_before = _date("signed_on", "lte", _("Signed to"))
    ends_after = _date("ends_on", "gte", _("Ends from"))
    ends_before = _date("ends_on", "lte", _("Ends to"))
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte", label=_("Amount from"))
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte", label=_("Amount to"))
    search_fields = ["number", "title", "customer__name"]
    search_indexed = True  # migration 0003: kehu.core.search.search_index_operation
    primary = ["status", "expires_within", "owner"]

    class Meta:
        model = Contract
        fields = []
