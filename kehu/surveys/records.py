"""Satisfaction surveys as a read-only record type: the supervisors' list (sent / answered /
expired, the average rating, filters by date and rating), the survey's page, the API and export.
Surveys are written by kehu/surveys/services.py only (send, answer, follow up, expire)."""

import django_filters
from django.db.models import Avg, Count, Min, Q
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from kehu.core.counts import COUNT_EXACT_LIMIT
from kehu.core.filters import KehuFilterSet, LocalDateFilter
from kehu.core.registry import Column, RecordType, registry
from kehu.core.views import RecordListView

from .models import Survey

FIGURES_LIMIT = COUNT_EXACT_LIMIT
RATINGS = [(str(n), f"{n} ★") for n in range(1, 6)]


class SurveyFilterSet(KehuFilterSet):
    status = django_filters.ChoiceFilter(choices=Survey.Status.choices, label=_("Status"))
    rating = django_filters.ChoiceFilter(choices=RATINGS, label=_("Rating"))
    rating_max = django_filters.ChoiceFilter(field_name="rating", lookup_expr="lte", choices=RATINGS,
                                             label=_("Rating at most"))
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    answered_after = LocalDateFilter(field_name="answered_at", lookup_expr="gte", label=_("Answered from"))
    answered_before = LocalDateFilter(field_name="answered_at", lookup_expr="lte", label=_("Answered to"))
    search_fields = ["summary", "email", "customer__name"]
    search_indexed = True  # migration 0002: kehu.core.search.search_index_operation
    primary = ["status", "rating", "created_after", "created_before"]

    class Meta:
        model = Survey
        fields = []


class SurveyListView(RecordListView):
    """The generic list, with the figures of what it lists above it. The figures come in a request
    of their own (`?figures=1`, asked by the page once shown, and again by a filter's HTMX answer):
    the rows never wait for an aggregate (a rep's figures read up to FIGURES_LIMIT of their surveys
    among everyone's: 60-130 ms at 1M customers, against 15-25 ms for the list)."""

    template_name = "surveys/survey_list.html"
    table_template = "surveys/partials/survey_table.html"  # a filter's HTMX answer asks for the figures too

    def get(self, request, *args, **kwargs):
        if request.GET.get("figures"):
            figures = survey_figures(self.filtered_queryset())
            return TemplateResponse(request, "surveys/partials/figures.html", {"figures": figures})
        return super().get(request, *args, **kwargs)


def survey_figures(qs, limit: int | None = None) -> dict:
    """Sent, answered, waiting, expired, the response rate and the average rating of the surveys of
    `qs`. Of all of them up to `limit`; of a larger set, of its newest `limit` (by id), flagged
    `newest`: like the list's count (kehu/core/counts.py), the figures never read more than `limit`
    rows. All of a supervisor's 300,000 surveys aggregated on every page view took 0.7-1 s on
    SQLite at 1M customers, against a 50 ms budget for the page."""
    limit = limit or FIGURES_LIMIT
    newest = qs.order_by("-id")[:limit]
    figures = newest.aggregate(
        total=Count("id"), answered=Count("id", filter=Q(status=Survey.Status.ANSWERED)),
        sent=Count("id", filter=Q(status=Survey.Status.SENT)),
        expired=Count("id", filter=Q(status=Survey.Status.EXPIRED)), average=Avg("rating"), oldest=Min("id"))
    figures["newest"] = bool(figures["total"] >= limit and qs.filter(pk__lt=figures["oldest"]).exists())
    figures["response_rate"] = round(100 * figures["answered"] / figures["total"]) if figures["total"] else None
    return figures


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
    list_names = {"customer": ("name",), "contact": ("name",)}  # names, not whole rows joined
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
    search_placeholder = _("Subject, e-mail, customer")

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
