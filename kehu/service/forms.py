"""The forms and list filters of tickets, feedback and the SLA settings (record types in records.py)."""

import django_filters
from django import forms
from django.db.models import Q
from django.db.models.lookups import Exact
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kehu.core.filters import (
    DictFilter,
    KehuFilterSet,
    PlainFilterSet,
    UserFilter,
    WalkOnly,
    listed_or_walked,
)
from kehu.core.forms import KehuModelForm, PlainModelForm, choose_visible
from kehu.core.widgets import AutocompleteSelect
from kehu.customers.models import Contact, Customer

from .models import Feedback, HandlingEntry, Holiday, Priority, SlaPolicy, Ticket, WorkingHours

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class PartiesMixin:
    """A visible customer (autocomplete) and a contact of that customer."""

    def setup_parties(self):
        if self.user is not None:
            choose_visible(self.fields["customer"], Customer, self.user)
            choose_visible(self.fields["contact"], Contact, self.user)
        for name, url, narrow in (("customer", "customers:customer_lookup", ()),
                                  ("contact", "activities:contact_lookup", ("customer",))):
            field = self.fields.get(name)
            if field is not None and not field.disabled:
                field.widget = AutocompleteSelect(lookup_url=reverse_lazy(url), narrow_by=narrow)
                field.widget.choices = field.choices


class TicketForm(PartiesMixin, KehuModelForm):
    class Meta:
        model = Ticket
        fields = ["type", "priority", "channel", "customer", "contact", "order_line", "summary", "request", "owner"]
        widgets = {"request": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from kehu.orders.models import Order, OrderLine

        self.fields["type"].required = True
        self.setup_parties()
        field = self.fields.get("order_line")
        if field is not None:
            if self.user is not None:
                field.queryset = OrderLine.objects.filter(order__in=Order.objects.visible_to(self.user).values("pk"))
            if not field.disabled:
                field.widget = AutocompleteSelect(lookup_url=reverse_lazy("service:order_line_lookup"),
                                                  narrow_by=("customer",))
                field.widget.choices = field.choices
            field.label_from_instance = lambda line: f"{line.order.number} · {line.label}"


class TicketFilterSet(KehuFilterSet):
    status = django_filters.ChoiceFilter(choices=Ticket.Status.choices, label=_("Status"))
    priority = django_filters.ChoiceFilter(choices=Priority.choices, label=_("Priority"))
    type = DictFilter("ticket_type", label=_("Type"))
    channel = django_filters.ChoiceFilter(choices=Ticket.Channel.choices, label=_("Channel"))
    handler = UserFilter(field_name="handler_id", label=_("Handler"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    breached = django_filters.BooleanFilter(method="filter_breached", label=_("SLA breached"))
    search_fields = ["number", "summary", "customer__name"]
    search_indexed = True  # migration 0007: kehu.core.search.search_index_operation
    primary = ["status", "priority", "type", "breached", "handler"]

    class Meta:
        model = Ticket
        fields = []

    def filter_breached(self, queryset, name, value):
        """Planned by the number of breached tickets (kehu.core.filters.listed_or_walked): with a
        status, SQLite read all of that status's breached tickets from ticket_breached_due_idx and
        sorted them (a supervisor's 25,000 assigned breached tickets at 1.5M: 65 ms)."""
        if value is None:
            return queryset
        if not value:
            return queryset.filter(breached=False)
        return listed_or_walked(queryset, Q(breached=True), Q(Exact(WalkOnly("breached"), True)))


class FeedbackForm(PartiesMixin, KehuModelForm):
    class Meta:
        model = Feedback
        fields = ["kind", "source", "customer", "contact", "content", "result", "satisfaction", "owner"]
        widgets = {"content": forms.Textarea(attrs={"rows": 4}), "result": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_parties()


class FeedbackFilterSet(KehuFilterSet):
    status = django_filters.ChoiceFilter(choices=Feedback.Status.choices, label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=Feedback.Kind.choices, label=_("Type"))
    source = django_filters.ChoiceFilter(choices=Feedback.Source.choices, label=_("Source channel"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    search_fields = ["content", "customer__name"]
    search_indexed = True  # migration 0007: kehu.core.search.search_index_operation
    primary = ["status", "kind", "source", "owner"]

    class Meta:
        model = Feedback
        fields = []


class HandlingForm(forms.ModelForm):
    class Meta:
        model = HandlingEntry
        fields = ["description", "minutes"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
                   "minutes": forms.NumberInput(attrs={"class": "form-control", "min": 0, "max": 1440})}


# --- SLA settings (Administration) ---------------------------------------------------------------
class SlaPolicyForm(PlainModelForm):
    class Meta:
        model = SlaPolicy
        fields = ["ticket_type", "priority", "response_minutes", "resolution_minutes", "remind_before_minutes"]


class SlaPolicyFilterSet(PlainFilterSet):
    search_fields = ["priority"]

    class Meta:
        model = SlaPolicy
        fields = ["priority"]


class WorkingHoursForm(PlainModelForm):
    class Meta:
        model = WorkingHours
        fields = ["weekday", "working", "starts", "ends", "break_starts", "break_ends"]
        widgets = {"starts": TIME, "ends": TIME, "break_starts": TIME, "break_ends": TIME}


class WorkingHoursFilterSet(PlainFilterSet):
    class Meta:
        model = WorkingHours
        fields = ["working"]


class HolidayForm(PlainModelForm):
    class Meta:
        model = Holiday
        fields = ["date", "kind", "name", "starts", "ends", "break_starts", "break_ends"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), "starts": TIME, "ends": TIME,
                   "break_starts": TIME, "break_ends": TIME}


class HolidayFilterSet(PlainFilterSet):
    search_fields = ["name"]

    class Meta:
        model = Holiday
        fields = ["kind"]
