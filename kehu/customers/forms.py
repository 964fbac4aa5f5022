import json

import django_filters
from django import forms
from django.db import connection
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import User
from kehu.core.filters import KehuFilterSet
from kehu.core.forms import KehuModelForm
from kehu.core.models import DictItem
from kehu.core.widgets import AutocompleteSelect

from . import normalize
from .models import Contact, Customer


class CustomerForm(KehuModelForm):
    confirm_duplicates = forms.BooleanField(
        label=_("Save anyway: this is not a duplicate"), required=False,
    )

    class Meta:
        model = Customer
        fields = [
            "name", "type", "level", "grade", "industry", "source", "status", "region", "country", "province",
            "city", "address", "phone", "email", "website", "employees", "annual_revenue", "needs",
            "first_contact_date", "owner", "deal_amount", "deal_products", "signed_on", "notes",
        ]
        widgets = {"needs": forms.Textarea(attrs={"rows": 3}), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicates = []
        if not self.instance.pk and not self.initial.get("type"):
            potential = DictItem.objects.filter(kind="customer_type", code="potential").first()
            if potential:
                self.initial["type"] = potential.pk
        self.fields["phone"].widget.attrs.setdefault("placeholder", "138 0000 0000")
        self.fields["confirm_duplicates"].widget.attrs["class"] = "form-check-input"

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("confirm_duplicates"):
            from .services import find_duplicates

            self.duplicates = find_duplicates(
                name=data.get("name", ""), phone=data.get("phone", ""), email=data.get("email", ""),
                exclude_pk=self.instance.pk, user=self.user,
            )
            if self.duplicates:
                raise forms.ValidationError(
                    _("This customer may already exist. Check the records below, or tick “Save anyway”."),
                    code="duplicate",
                )
        return data


class ContactForm(KehuModelForm):
    class Meta:
        model = Contact
        fields = ["customer", "name", "gender", "title", "mobile", "phone", "email", "wechat", "birthday",
                  "is_primary", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.user is not None:
            self.fields["customer"].queryset = Customer.objects.visible_to(self.user)
        # a million customers do not fit in a <select>: search as you type
        self.fields["customer"].widget = AutocompleteSelect(lookup_url=reverse_lazy("customers:customer_lookup"))
        self.fields["customer"].widget.choices = self.fields["customer"].choices  # the queryset, for the chosen row


class CustomerFilterSet(KehuFilterSet):
    type = django_filters.ModelChoiceFilter(
        queryset=DictItem.objects.filter(kind="customer_type"), label=_("Customer type"))
    level = django_filters.ModelChoiceFilter(
        queryset=DictItem.objects.filter(kind="customer_level"), label=_("Level"))
    industry = django_filters.ModelChoiceFilter(
        queryset=DictItem.objects.filter(kind="industry"), label=_("Industry"))
    source = django_filters.ModelChoiceFilter(
        queryset=DictItem.objects.filter(kind="customer_source"), label=_("Source"))
    region = django_filters.ModelChoiceFilter(
        queryset=DictItem.objects.filter(kind="region"), label=_("Sales region"))
    status = django_filters.ChoiceFilter(choices=Customer.Status.choices, label=_("Status"))
    grade = django_filters.ChoiceFilter(choices=Customer.Grade.choices, label=_("Grade"))
    owner = django_filters.ModelChoiceFilter(queryset=User.objects.pickable(), label=_("Owner"))
    pool = django_filters.BooleanFilter(field_name="owner", lookup_expr="isnull", label=_("In public pool"))
    province = django_filters.CharFilter(label=_("Province"))
    city = django_filters.CharFilter(label=_("City"))
    primary = ["type", "level", "industry", "owner"]

    class Meta:
        model = Customer
        fields = []

    def search(self, queryset, name, value):
        """Number, name, phone, e-mail, contact names, and pinyin (full and initials), all in one
        indexed column (`search_text`: a trigram GIN index on PostgreSQL)."""
        terms = normalize.search_terms(value)
        if not terms:
            return queryset
        condition = Q()
        for term in terms:
            condition |= search_condition(term)
        return queryset.filter(condition)


# A term with fewer matches than this is fetched whole through the trigram index and the page
# filters by their ids (SQLite: an FTS5 phrase query; PostgreSQL: a bitmap of a few thousand rows)
SEARCH_PROBE = 5000
# PostgreSQL: a term the planner's statistics put in at least this share of the rows is common
# enough for the id-ordered page query to find a page within a few thousand rows
SEARCH_COMMON_SHARE = 0.004


def search_condition(term: str) -> Q:
    """`search_text` contains `term`, planned adaptively.

    A probe fetches up to SEARCH_PROBE matching ids through the trigram index (FTS5 on SQLite,
    pg_trgm on PostgreSQL). A rare term (fewer matches) then filters by those ids, so the page
    query never walks the table; a common term keeps the plain LIKE, which the id-ordered page
    query answers after a few rows. Measured at 1M customers: the planners chose a full backward
    scan for rare terms (600 ms) and FTS materialised every match for common ones (75 ms).
    On PostgreSQL the planner's own estimate (from the column's statistics, a 1,000-value sample
    since migration 0006) first tells a common term, which skips the probe and is read in the
    list's order (probing "成都", 2 % of rows, cost 28-50 ms). A term common in the table but
    clustered far from the newest rows (a number prefix of two years ago) walks far and is slow.
    Terms under three characters have no trigram and always use the plain LIKE.
    """
    if len(term) < 3 or connection.vendor not in ("sqlite", "postgresql"):
        return Q(search_text__contains=term)
    if connection.vendor == "sqlite":
        # a quoted phrase of the trigram tokenizer is a substring match answered from the index's
        # positions; GLOB also read each candidate's text (at 1M customers: 2.4-2.7 vs 9.8-12 ms
        # for 5,000 ids). Inside the quotes only '"' is special (doubled); search_text is lower-case.
        phrase = '"' + term.replace('"', '""') + '"'
        sql = "SELECT rowid FROM customers_customer_fts WHERE customers_customer_fts MATCH %s LIMIT %s"
        params = [phrase, SEARCH_PROBE]
    else:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        if _pg_estimated_share(f"%{escaped}%") >= SEARCH_COMMON_SHARE:
            return Q(search_text__contains=term)
        sql = "SELECT id FROM customers_customer WHERE deleted_at IS NULL AND search_text LIKE %s LIMIT %s"
        params = [f"%{escaped}%", SEARCH_PROBE]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) < params[-1]:
        return Q(pk__in=ids)
    return Q(search_text__contains=term)


def _pg_estimated_share(pattern: str) -> float:
    """The share of customers PostgreSQL's statistics expect to match `search_text LIKE pattern`
    (planning only, ~0.3 ms; 0 when the table has no statistics yet)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'customers_customer'::regclass")
        total = cursor.fetchone()[0] or 0
        if total <= 0:
            return 0.0
        cursor.execute("EXPLAIN (FORMAT JSON) SELECT id FROM customers_customer WHERE search_text LIKE %s",
                       [pattern])
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return plan[0]["Plan"]["Plan Rows"] / total


class ContactFilterSet(KehuFilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    is_primary = django_filters.BooleanFilter(label=_("Primary contact"))
    search_fields = ["name", "mobile", "phone", "email", "wechat"]

    class Meta:
        model = Contact
        fields = []

    def search(self, queryset, name, value):
        value = normalize.clean_name(value)
        if not value:
            return queryset
        full, short = normalize.pinyin_forms(value)
        digits = "".join(ch for ch in value if ch.isdigit())
        condition = Q(name__icontains=value) | Q(email__icontains=value) | Q(wechat__icontains=value)
        if digits and len(digits) >= 4:
            condition |= Q(mobile__contains=digits) | Q(phone__contains=digits)
        return queryset.filter(condition)
