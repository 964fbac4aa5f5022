"""The forms and list filters of campaigns and their members (record types in records.py)."""

import django_filters
from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kehu.core.filters import DictFilter, KehuFilterSet
from kehu.core.forms import KehuModelForm, choose_visible
from kehu.core.widgets import AutocompleteSelect
from kehu.customers.models import Contact, Customer

from .models import Campaign, CampaignMember


class CampaignForm(KehuModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "type", "channel", "start_date", "end_date", "budget", "actual_cost",
                  "expected_revenue", "owner", "description"]
        widgets = {"start_date": forms.DateInput(), "end_date": forms.DateInput(),
                   "description": forms.Textarea(attrs={"rows": 4})}


class CampaignFilterSet(KehuFilterSet):
    status = django_filters.ChoiceFilter(choices=Campaign.Status.choices, label=_("Status"))
    type = django_filters.ChoiceFilter(choices=Campaign.Type.choices, label=_("Type"))
    channel = DictFilter("campaign_channel", label=_("Channel"))
    start_after = django_filters.DateFilter(field_name="start_date", lookup_expr="gte", label=_("Starts from"))
    start_before = django_filters.DateFilter(field_name="start_date", lookup_expr="lte", label=_("Starts to"))
    search_fields = ["number", "name"]
    search_indexed = True  # migration 0002: kehu.core.search.search_index_operation (a member's campaign__name too)
    primary = ["status", "type", "channel"]

    class Meta:
        model = Campaign
        fields = []


class CampaignMemberForm(KehuModelForm):
    """A member: a customer of the user's scope (autocomplete) and, optionally, one of its contacts."""

    class Meta:
        model = CampaignMember
        fields = ["campaign", "customer", "contact", "status", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.order_by("-id")
        if self.user is not None:
            choose_visible(self.fields["customer"], Customer, self.user)
            choose_visible(self.fields["contact"], Contact, self.user)
        for name, url, narrow in (("customer", "customers:customer_lookup", ()),
                                  ("contact", "activities:contact_lookup", ("customer",))):
            field = self.fields[name]
            field.widget = AutocompleteSelect(lookup_url=reverse_lazy(url), narrow_by=narrow)
            field.widget.choices = field.choices


class CampaignMemberFilterSet(KehuFilterSet):
    campaign = django_filters.NumberFilter(field_name="campaign_id", label=_("Campaign"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    status = django_filters.ChoiceFilter(choices=CampaignMember.Status.choices, label=_("Status"))
    search_fields = ["notes", "customer__name", "campaign__name", "campaign__number"]
    search_indexed = True  # migration 0002; a customer's and a campaign's names through their own indexes
    primary = ["status", "owner"]

    class Meta:
        model = CampaignMember
        fields = []
