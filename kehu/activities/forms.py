import django_filters
from django import forms
from django.db.models import Q
from django.db.models.lookups import GreaterThanOrEqual
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import User
from kehu.core.filters import DictFilter, KehuFilterSet, LocalDateFilter, WalkOnly, listed_or_walked
from kehu.core.forms import KehuModelForm, choose_visible
from kehu.core.widgets import AutocompleteSelect
from kehu.customers.models import Contact, Customer

from .models import FollowUp, Task

MINUTE_FORMAT = "%Y-%m-%dT%H:%M"


def minute_input():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=MINUTE_FORMAT)


def customer_field(form):
    field = form.fields["customer"]
    if form.user is not None:
        choose_visible(field, Customer, form.user)
    field.widget = AutocompleteSelect(lookup_url=reverse_lazy("customers:customer_lookup"))
    field.widget.choices = field.choices  # a replaced widget must be told the queryset (for the chosen row)


class FollowUpForm(KehuModelForm):
    class Meta:
        model = FollowUp
        fields = ["customer", "contact", "opportunity", "occurred_at", "method", "participants", "topic", "content",
                  "customer_feedback", "result", "next_action", "next_action_at", "next_action_by"]
        widgets = {"occurred_at": minute_input(), "next_action_at": minute_input()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.user is not None:
            from kehu.sales.models import Opportunity

            choose_visible(self.fields["opportunity"], Opportunity, self.user)
            choose_visible(self.fields["contact"], Contact, self.user)
        customer_field(self)
        # search as you type, narrowed to the chosen customer
        for name, url in (("contact", "activities:contact_lookup"), ("opportunity", "sales:opportunity_lookup")):
            self.fields[name].widget = AutocompleteSelect(lookup_url=reverse_lazy(url), narrow_by=("customer",))
            self.fields[name].widget.choices = self.fields[name].choices
        self.fields["next_action_by"].queryset = User.objects.filter(is_active=True).order_by("username")
        self.fields["next_action_by"].help_text = _("Gets the reminder; you, if left empty.")
        for name in ("occurred_at", "next_action_at"):
            self.fields[name].input_formats = [MINUTE_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        if not self.instance.pk and not self.is_bound and not self.initial.get("occurred_at"):
            self.initial["occurred_at"] = timezone.localtime().replace(second=0, microsecond=0)

    def prepare_instance(self, obj):
        if obj.next_action_at and not obj.next_action_by_id and self.user is not None:
            obj.next_action_by = self.user  # the reminder goes to whoever recorded it


class TaskForm(KehuModelForm):
    class Meta:
        model = Task
        fields = ["title", "customer", "owner", "due_at", "priority", "description"]  # status: TaskWorkflow
        widgets = {"due_at": minute_input()}
        labels = {"owner": _("Responsible")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        customer_field(self)
        self.fields["owner"].required = True
        self.fields["due_at"].input_formats = [MINUTE_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _date_filter(field, lookup, label):
    return LocalDateFilter(field_name=field, lookup_expr=lookup, label=label)  # UTC bounds, no date cast


PENDING_PROBE = 1000  # pending next actions listed by id below this many (FollowUpFilterSet.filter_pending)


class FollowUpFilterSet(KehuFilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    method = DictFilter("contact_method", label=_("Method"))
    occurred_after = _date_filter("occurred_at", "gte", _("From"))
    occurred_before = _date_filter("occurred_at", "lte", _("To"))
    pending_action = django_filters.BooleanFilter(method="filter_pending", label=_("Next action pending"))
    search_fields = ["topic", "content", "participants", "next_action"]
    search_indexed = True  # migration: kehu.core.search.search_index_operation
    primary = ["method", "occurred_after", "occurred_before", "owner"]

    class Meta:
        model = FollowUp
        fields = []

    def filter_pending(self, queryset, name, value):
        """Next actions still to come, planned by their number (kehu.core.filters.listed_or_walked):
        SQLite read every pending follow-up from fu_next_due_idx to sort them (0.4-1.1 s at 5M)."""
        if value is None:
            return queryset
        now = timezone.now()
        cond = Q(next_action_at__isnull=False, next_action_at__gte=now)
        if not value:
            return queryset.exclude(cond)
        # walked over the follow-ups that have a next action (fu_pending_occ_idx, in the list's order;
        # its condition stated, so SQLite may use it too)
        return listed_or_walked(queryset, cond, Q(next_action_at__isnull=False)
                                & Q(GreaterThanOrEqual(WalkOnly("next_action_at"), now)), limit=PENDING_PROBE)


class TaskFilterSet(KehuFilterSet):
    status = django_filters.ChoiceFilter(choices=Task.Status.choices, label=_("Status"))
    priority = django_filters.ChoiceFilter(choices=Task.Priority.choices, label=_("Priority"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))
    # open tasks due before now, read in due order (walk_sort) from the partial task_open_due_idx:
    # in id order SQLite read that index's range and sorted it (every overdue task at 1M)
    overdue.walk_field = "due_at"
    due_after = _date_filter("due_at", "gte", _("Due from"))
    due_before = _date_filter("due_at", "lte", _("Due to"))
    search_fields = ["title", "description"]
    search_indexed = True  # migration: kehu.core.search.search_index_operation
    primary = ["status", "priority", "due_after", "due_before"]

    class Meta:
        model = Task
        fields = []

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        cond = Task.open_q() & Q(due_at__lt=timezone.now())
        return queryset.filter(cond) if value else queryset.exclude(cond)
