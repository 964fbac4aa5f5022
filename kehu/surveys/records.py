"""Satisfaction surveys as a read-only record type: the supervisors' list (sent / answered /
expired, the average rating, filters by date and rating), the survey's page, the API and export.
Surveys are written by kehu/surveys/services.py only (send, answer, follow up, expire)."""

import django_filters
from django.db.models import Avg, Count, Q
from django.utils.translation import gettext_lazy as _

from kehu.core.filters import KehuFilterSet, LocalDateFilter
from kehu.core.registry import Column, RecordType, registry
from kehu.core.views import RecordListView

from .models import Survey

RATINGS = [(str(n), f"{n} ★") for n in range(1, 6)]


class SurveyFilterSet(KehuFilterSet):
    status = django_filters.ChoiceFilter(choices=Survey.Status.choices, label=_("Status"))
    rating = django_filters.ChoiceFilter(choices=RATINGS, label=_("Rating"))
    rating_max = django_filters.ChoiceFilter(field_name="rating", lookup_expr="lte", choices=RATINGS,
                                             label=_("Rating at most"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    answered_after = LocalDateFilter(field_name="answered_at", lookup_expr="gte", label=_("Answered from"))
    answered_before = LocalDateFilter(field_name="answered_at", lookup_expr="lte", label=_("Answered to"))
    search_fields = ["summary", "email"]
    primary = ["status", "rating", "created_after", "created_before"]

    class Meta:
        model = Survey
        fields = []


class SurveyListView(RecordListView):
    """The generic list, with the figures of what it lists above it (one aggregate query)."""

    template_name = "surveys/survey_list.html"
    table_template = "surveys/partials/survey_table.html"  # a filter's HTMX answer updates the figures too

    def extra_context(self):
        qs = self.filtered_queryset().order_by()
        figures = qs.aggregate(
            total=Count("id"), answered=Count("id", filter=Q(status=Survey.Status.ANSWERED)),
            sent=Count("id", filter=Q(status=Survey.Status.SENT)),
            expired=Count("id", filter=Q(status=Survey.Status.EXPIRED)), average=Avg("rating"))
        figures["response_rate"] = round(100 * figures["answered"] / figures["total"]) if figures["total"] else None
        return {"figures": figures}


@registry.register
class SurveyType(RecordType):
    model = Survey
    filterset = SurveyFilterSet
    read_only = True  # written by kehu.surveys.services only
    list_columns = ["created_at", "summary", "customer", "contact", "status", "rating", "answered_at"]
    extra_columns = ["email", "language", "sent_at", "expires_at", "comment", "followed_up_task", "owner",
                     "created_by"]
    sort_fields = ["id", "created_at", "answered_at", "rating"]
    default_sort = "-id"
    list_select_related = ["customer", "contact", "owner"]
    detail_fields = ["summary", "customer", "contact", "email", "language", "status", "rating", "comment",
                     "created_at", "sent_at", "expires_at", "answered_at", "followed_up_task", "owner",
                     "created_by"]
    export_fields = ["id", "created_at", "summary", "customer", "contact", "email", "language", "status", "rating",
                     "comment", "sent_at", "expires_at", "answered_at", "owner", "created_by"]
    api_exclude = ["token_id", "subject"]  # the link's secret half stays out; the subject is content_type + object_id
    bulk_actions = []
    nav_icon = "ti-mood-smile"
    # in the Customers menu: a section of its own widened the bar past 1280 px; at merge it may join
    # the tickets' "service" section (one more entry in that section's menu costs no width)
    nav_section, nav_order = "service", 90
    search_placeholder = _("Subject, e-mail")

    def available_columns(self):
        cols = super().available_columns()
        if "rating" in cols:
            cols["rating"] = Column("rating", cols["rating"].label, sort="rating",
                                    accessor=lambda s: s.rating_display)
        return cols

    def detail_value(self, name, obj):
        if name == "rating":
            return obj.rating_display
        return super().detail_value(name, obj)
