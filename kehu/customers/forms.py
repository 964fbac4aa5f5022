import json

import django_filters
from django import forms
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kehu.core import search as core_search
from kehu.core.dictionary import item_by_code
from kehu.core.filters import DictFilter, IdList, KehuFilterSet, UserFilter
from kehu.core.forms import KehuModelForm, choose_visible
from kehu.core.memo import TimedMemory
from kehu.core.search import indexed_like, like_pattern, table_rows
from kehu.core.widgets import AutocompleteSelect

from . import normalize
from .models import Contact, Customer


class CustomerForm(KehuModelForm):
    allow_duplicate = forms.BooleanField(
        label=_("Save anyway: this is not a duplicate"), required=False,
        help_text=_("Send true to save although the customer may already exist; a 422 answer lists the "
                    "possible duplicates under this field."),
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
        if not self.instance.pk and not self.initial.get("type"):
            potential = item_by_code("customer_type", "potential")
            if potential:
                self.initial["type"] = potential.pk
        self.fields["phone"].widget.attrs.setdefault("placeholder", "138 0000 0000")
        self.fields["allow_duplicate"].widget.attrs["class"] = "form-check-input"


class ContactForm(KehuModelForm):
    class Meta:
        model = Contact
        fields = ["customer", "name", "gender", "title", "mobile", "phone", "email", "wechat", "birthday",
                  "is_primary", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.user is not None:
            choose_visible(self.fields["customer"], Customer, self.user)
        # a million customers do not fit in a <select>: search as you type
        self.fields["customer"].widget = AutocompleteSelect(lookup_url=reverse_lazy("customers:customer_lookup"))
        self.fields["customer"].widget.choices = self.fields["customer"].choices  # the queryset, for the chosen row


def _missing_choices():
    from .quality import missing_fields

    return [(key, label) for key, label, _required in missing_fields()]


def _quality_choices():
    from .models import QualityIssue

    return list(QualityIssue.Kind.choices)


def _not_custom(value: str) -> bool:
    return not value.startswith("cf_")


class CustomerFilterSet(KehuFilterSet):
    type = DictFilter("customer_type", label=_("Customer type"))
    level = DictFilter("customer_level", label=_("Level"))
    industry = DictFilter("industry", label=_("Industry"))
    source = DictFilter("customer_source", label=_("Source"))
    region = DictFilter("region", label=_("Sales region"))
    status = django_filters.ChoiceFilter(choices=Customer.Status.choices, label=_("Status"))
    grade = django_filters.ChoiceFilter(choices=Customer.Grade.choices, label=_("Grade"))
    owner = UserFilter(field_name="owner_id", label=_("Owner"))
    pool = django_filters.BooleanFilter(field_name="owner", lookup_expr="isnull", label=_("In public pool"))
    province = django_filters.CharFilter(label=_("Province"))
    city = django_filters.CharFilter(label=_("City"))
    # "not followed up for N days": owned customers whose last activity is older than N days, read
    # in the order of last activity (walk_sort) from cust_activity_idx / cust_owner_activity_idx
    idle_days = django_filters.NumberFilter(label=_("Not followed up for (days)"), min_value=1, max_value=3650,
                                            method="filter_idle_days")
    idle_days.walk_field = "last_activity_at"
    idle_days.keeps_owned = True  # owner IS NOT NULL: the scope is asked without the public pool

    def filter_idle_days(self, queryset, name, value):
        import datetime

        from django.utils import timezone

        if value is None:
            return queryset
        cutoff = timezone.now() - datetime.timedelta(days=int(value))
        return queryset.filter(owner__isnull=False, last_activity_at__lt=cutoff)

    # the data-quality page's links (kehu/customers/quality.py): customers lacking a field, and the
    # customers of the last scan's duplicate groups or with an invalid phone / e-mail
    missing = django_filters.ChoiceFilter(label=_("Missing"), method="filter_missing", choices=_missing_choices)
    # conditions on the customer's own fields; a required custom field's follow its definition
    missing.pure = _not_custom
    quality = django_filters.ChoiceFilter(label=_("Data quality"), method="filter_quality", choices=_quality_choices)

    def filter_missing(self, queryset, name, value):
        from .quality import missing_q

        q = missing_q(value) if value else None
        return queryset.filter(q) if q is not None else queryset

    def filter_quality(self, queryset, name, value):
        from .models import QualityIssue
        from .quality import last_scan

        scan = last_scan()
        if not value:
            return queryset
        if scan is None:
            return queryset.none()
        return queryset.filter(pk__in=QualityIssue.objects.filter(scan=scan, kind=value).values("customer_id"))

    primary = ["type", "level", "industry", "owner"]

    class Meta:
        model = Customer
        fields = []

    def check_rights(self):
        if self.form.cleaned_data.get("pool") is True and self.user is not None:
            from .services import require_pool

            require_pool(self.user)  # the public pool's list needs the pool right (UI and API)

    def search(self, queryset, name, value):
        """Number, name, phone, e-mail, contact names, and pinyin (full and initials), all in one
        indexed column (`search_text`: FTS5 on SQLite, a trigram GIN index on PostgreSQL); a
        number prefix (KH2024...) through the number column."""
        terms = normalize.search_terms(value)
        if not terms:
            return queryset
        condition = Q()
        for term in terms:
            condition |= search_condition(term, within=queryset)
        return queryset.filter(condition)

    @classmethod
    def probe_ids(cls, value: str):
        """Ids of every customer the search for `value` finds, when the index gives them all
        (rare terms), else None: another list's search through `customer__name` (opportunities)
        then filters by these ids (kehu/core/search.py).

        The customers in the recycle bin are not probed: PostgreSQL's trigram index holds the
        others only (`cust_search_trgm`, partial), and reading every customer for a term it judged
        common scanned the whole table (orders searched for "atla" at 1M: 600 ms, 6 ms so). A
        customer with orders, quotations, contracts, tickets or open opportunities cannot be
        deleted (the relations' Protect rules), so only its closed opportunities and tasks are left
        to be found by its name; they are still found by their own text."""
        from kehu.core.search import PROBE, known_common, remember_common

        table, columns = Customer._meta.db_table, ["search_text"]
        ids = set()
        for term in normalize.search_terms(value):
            if known_common(table, columns, term):  # found too often in the last minutes
                return None
            condition = search_condition(term)
            listed = listed_ids(condition)
            if listed is not None:
                ids.update(listed)
                continue
            if known_common(table, columns, term):  # its probe just found PROBE or more
                return None
            # judged common for a customer list's page (or a number prefix: a range of ids), but
            # another list may have few of them: up to PROBE ids through the index (not a
            # sequential scan that "stops soon")
            if len(term) < 3:
                return None
            if connection.vendor == "sqlite" and not normalize.number_prefix(term) and SEARCH_PROBE >= PROBE:
                # the index itself found SEARCH_PROBE matches: reading PROBE again by LIKE scanned the
                # table (" 北 " at 1M customers: 0.3-1.2 s)
                remember_common(table, columns, term)
                return None
            if connection.vendor == "postgresql" and not normalize.number_prefix(term) \
                    and _pg_estimated_rows(like_pattern(term)) >= 2 * PROBE:
                # the statistics expect far more than PROBE: reading PROBE ids to learn it cost
                # 11 ms at 1M customers ("atla": 12,000 expected, 8,350 found)
                remember_common(table, columns, term)
                return None
            if connection.vendor == "postgresql" and not normalize.number_prefix(term):
                # the trigram index itself: `condition` is then a common match (KnownCommon's
                # CASE), which no index serves. Read with it, a term the statistics put at 4,000
                # to 10,000 customers but found in 3,161 ("5957") scanned all 1M customers for
                # its 5,000: 1.1-1.4 s a page of opportunities
                found = pg_index_probe(term, PROBE)
            else:  # a number prefix: its range of ids
                with core_search.pg_planned(seqscan=False):
                    found = list(Customer.objects.filter(condition).order_by().values_list("pk", flat=True)[:PROBE])
            if len(found) >= PROBE:
                remember_common(table, columns, term)
                return None
            ids.update(found)
        return sorted(ids)

    @classmethod
    def related_condition(cls, value: str, fk: str):
        """A condition on another list's rows through their customer (`fk`), asked before
        `probe_ids` (kehu/core/search.py), when the customers' indexes express the search as a
        range: a number prefix ("KH202312", the customers of a month, or one customer's number) as
        the range of their ids (number_range_condition). None otherwise: the list then asks
        `probe_ids` or tests the customer's name.
        Before, that name test was all a number prefix got, and it matched nothing: a rep's
        payments searched for KH202312 came back empty although 391 were theirs."""
        terms = normalize.search_terms(value)
        prefix = normalize.number_prefix(terms[0]) if len(terms) == 1 else None
        return number_range_condition(prefix, fk) if prefix else None


# A term with fewer matches than this is fetched whole through the trigram index and the page
# filters by their ids (SQLite: an FTS5 phrase query; PostgreSQL: a bitmap of a few thousand rows)
SEARCH_PROBE = 5000
# PostgreSQL: a term the planner's statistics put in at least this share of the rows is common
# enough for the id-ordered page query to find a page within a few thousand rows
SEARCH_COMMON_SHARE = 0.004
# ... unless the list's own rows hold it so rarely that its page walks more rows than this to find a
# page (SEARCH_PAGE): the term is then probed (_walk_is_long). 50,000 rows take ~25 ms to walk, the
# probe of up to 2 * SEARCH_PROBE rows about as long
SEARCH_WALK = 50_000
SEARCH_PAGE = 51


def search_condition(term: str, model=Customer, probe: int | None = None, within=None) -> Q:
    """`search_text` of `model` (Customer or Contact) contains `term`, planned adaptively.

    A customer-number prefix ("kh2024", see `number_condition`) is a range of the number column.
    Otherwise a probe fetches up to SEARCH_PROBE matching ids through the trigram index (FTS5 on
    SQLite, pg_trgm on PostgreSQL). A rare term (fewer matches) then filters by those ids, so the
    page query never walks the table; a common term keeps the plain LIKE, which the id-ordered page
    query answers after a few rows. Measured at 1M customers: the planners chose a full backward
    scan for rare terms (600 ms) and FTS materialised every match for common ones (75 ms).
    On PostgreSQL the planner's own estimate (from the column's statistics, a 1,000-value sample
    since migrations 0006 and 0008) first tells a common term, which skips the probe and is read in
    the list's order (probing "成都", 2 % of rows, cost 28-50 ms).
    `probe`: how many ids the probe may list (SEARCH_PROBE by default); a caller that only uses a short list (the duplicate
    check's candidates) asks fewer, and the probe stops reading the table sooner.
    `within`: the list's rows before the search (its data scope), when a page of them is read: a
    term common in the table may be rare in them, and the page would walk far to find it
    (`_walk_is_long`); it is then probed.
    Every term has an index path: one or two Chinese characters are searched as the stored word
    (" 王 ", " 韩刚 ": `normalize.search_terms`, migration 0008); other terms under three
    characters (a latin letter or digit pair) match most rows and are read in the list's order.
    """
    if model is Customer:
        prefix = normalize.number_prefix(term)
        if prefix:
            return number_condition(prefix)
    if len(term) < 3 or connection.vendor not in ("sqlite", "postgresql"):
        return Q(search_text__common_contains=term)
    table = model._meta.db_table
    probe = probe or SEARCH_PROBE
    if connection.vendor == "sqlite":
        # a quoted phrase of the trigram tokenizer is a substring match answered from the index's
        # positions; GLOB also read each candidate's text (at 1M customers: 2.4-2.7 vs 9.8-12 ms
        # for 5,000 ids). Inside the quotes only '"' is special (doubled); search_text is lower-case.
        phrase = '"' + term.replace('"', '""') + '"'
        sql = f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH %s LIMIT %s"
        params = [phrase, probe]
    else:
        share = _pg_estimated_share(like_pattern(term), table)
        if (share >= SEARCH_COMMON_SHARE and not _walk_is_long(share, within, table)) or \
                (probe < SEARCH_PROBE and _pg_estimated_rows(like_pattern(term), table) > 5 * probe):
            # common, or far more matches than a short probe may list: the probe would read its
            # limit of rows for nothing (a name's digits in the duplicate check: 2-50 ms)
            return Q(search_text__common_contains=term)
        sql, params = _pg_probe_sql(term, table, probe)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) < params[-1]:
        return Q(pk__in=IdList(ids))
    if probe >= core_search.PROBE:  # as common as a probe tells: another list's search does not probe it again
        core_search.remember_common(table, ["search_text"], term)
    return Q(search_text__common_contains=term)


def _walk_is_long(share: float, within, table: str) -> bool:
    """PostgreSQL: whether a page of the rows `within` (a list's scope) matching a term the table's
    statistics put at `share` of its rows would walk more than SEARCH_WALK rows, the term being as
    common among them as in the table (the planner's estimate of `within`: no rows read). A rep
    sees a tenth of 1M customers (theirs and the public pool's): the walk newest first to 51 matches
    of "8082" (4,262 customers, estimated 5,022) read 105,000 rows (51 ms), where the trigram index
    lists them all in 20-29 ms; their own 6,000 customers alone are read whole (10 ms). Only a term
    that a probe may list whole (fewer than 2 * SEARCH_PROBE expected) is asked: a commoner one
    would fill the probe for nothing."""
    total = table_rows(table)
    if within is None or share * total >= 2 * SEARCH_PROBE:
        return False
    from kehu.core.counts import planner_estimate  # at call time: the plan tests set its figures

    try:
        listed = planner_estimate(within.order_by().values("pk"))
    except EmptyResultSet:  # a list that can hold nothing (no scope at all) walks nothing
        return False
    if listed is None or share * listed <= 0:
        return False
    # a walk of the table newest first tests every row, the list's among them; a list small enough
    # (a rep's own customers, their owner's index) is read whole instead
    return min(SEARCH_PAGE * total / (share * listed), listed) > SEARCH_WALK


def _pg_probe_sql(term: str, table: str, limit: int) -> tuple[str, list]:
    """PostgreSQL: the ids of up to `limit` live rows of `table` whose `search_text` contains
    `term`, read through its trigram index (`search_text LIKE`, the indexed expression; by its
    pieces where `index_pieces` has them: kehu/core/search.py indexed_like)."""
    condition, params = indexed_like("search_text", term)
    return f"SELECT id FROM {table} WHERE deleted_at IS NULL AND {condition} LIMIT %s", [*params, limit]


def pg_index_probe(term: str, limit: int, model=Customer) -> list[int]:
    """PostgreSQL: up to `limit` ids of live `model` rows (Customer or Contact) whose search text
    contains `term`, through the trigram index whatever the planner's estimate of the term. Never a
    scan of the table: the index is the plan's only path (`enable_seqscan` off for the statement's
    transaction), and the condition is the indexed expression, not a common match's CASE
    (KnownCommon), which no index serves."""
    sql, params = _pg_probe_sql(term, model._meta.db_table, limit)
    with core_search.pg_planned(seqscan=False), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def listed_ids(condition: Q):
    """The ids of a `search_condition` that the index listed whole (a rare term), else None."""
    child = condition.children[0] if len(condition.children) == 1 and not condition.negated else None
    return child[1] if isinstance(child, tuple) and child[0] == "pk__in" else None


def number_condition(prefix: str) -> Q:
    """Customers whose number starts with `prefix` ("KH2024"), as a range of ids.

    Numbers are KH + the local date + a daily sequence, given when the customer is first saved
    (`Customer.save`, under the sequence's row lock), so they grow with the ids: the customers of a
    prefix are the ids between the first and the last number of its range, two probes of the
    number's unique index. The page query then reads that id range in the list's order: an old
    prefix ("KH2024", a third of the table) no longer walks past every newer customer (835k rows,
    385-556 ms at 1M on PostgreSQL) and no prefix is sorted whole. The exact prefix test stays in
    the condition, so a row inside the range with another number is never shown."""
    found = number_range(prefix)
    if found is None:
        return Q(pk__in=[])
    low, high = found
    if range_is_exact(prefix, low, high):
        # the range holds only the prefix's customers: no number test, so the page is the range of
        # the id index read from its top (with it, PostgreSQL's planner multiplied the two ranges'
        # shares, expected one row, and sorted a month of customers: 20-29 ms at 1M)
        return Q(pk__gte=low, pk__lte=high)
    return Q(pk__gte=low, pk__lte=high, number__startswith=prefix)


def number_range(prefix: str) -> tuple[int, int] | None:
    """(lowest, highest id) of the customers (the recycle bin's too) whose numbers lie in the
    range of `prefix` (see number_condition), or None when there are none."""
    # both ends in one statement, read from the number's unique index: two ORM queries cost ~1 ms
    # more of every search of another list by a customer-number prefix (PostgreSQL at 1M)
    top = _number_top(prefix)
    table = connection.ops.quote_name(Customer._meta.db_table)
    end = f"(SELECT id FROM {table} WHERE number >= %s AND number <= %s ORDER BY number {{}} LIMIT 1)"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {end.format('ASC')}, {end.format('DESC')}", [prefix, top, prefix, top])
        first, last = cursor.fetchone()
    if first is None:
        return None
    return min(first, last), max(first, last)


def _numbers_in_range(prefix: str):
    """The customers (the recycle bin's too) whose number lies between `prefix` and `prefix`
    followed by nines: a range of the number's unique index."""
    return Customer.all_objects.filter(number__gte=prefix, number__lte=_number_top(prefix))


def _number_top(prefix: str) -> str:
    """The highest number a customer number starting with `prefix` can be (the prefix, then nines)."""
    return prefix + "9" * (Customer._meta.get_field("number").max_length - len(prefix))


def number_range_condition(prefix: str, fk: str) -> Q:
    """Another list's rows whose customer (`fk`) has a number starting with `prefix`, as the range
    of customer ids it covers: read through the list's index of its customer, or tested on each of
    its rows without reading the customer. The customers' own number is tested too only when the
    range also holds customers with other numbers (imported with their own: the two counts, of the
    numbers in the prefix's range and of the ids in the id range, differ)."""
    found = number_range(prefix)
    if found is None:
        return Q(**{f"{fk}_id__in": []})
    low, high = found
    condition = Q(**{f"{fk}_id__gte": low, f"{fk}_id__lte": high})
    if not range_is_exact(prefix, low, high):
        condition &= Q(**{f"{fk}__number__startswith": prefix})
    return condition


def range_is_exact(prefix: str, low: int, high: int) -> bool:
    """Whether the customers (the recycle bin's too) with ids from `low` to `high` are exactly those
    whose numbers start with `prefix` (see number_range). Kept a minute (`_exact_ranges`)."""
    exact = _exact_ranges.get((prefix, low, high))
    if exact is None:
        numbered = _numbers_in_range(prefix).order_by().count()
        # as many numbers as ids in the range: no other number can be inside (the usual case, and no
        # count of the id range needed: 3-6 ms for a month of customers at 1M)
        exact = numbered == high - low + 1 or \
            numbered == Customer.all_objects.filter(pk__gte=low, pk__lte=high).order_by().count()
        _exact_ranges.remember((prefix, low, high), exact)
    return exact


# Whether a number prefix's id range holds exactly its customers, kept a minute per process with the
# range's ends: the two counts cost 5-13 ms at 1M (more while autovacuum has not yet marked new rows
# visible), on every page of every list searched through the customer's number. A new customer of
# the prefix moves an end and is counted again; one given an old number by an import (rare) waits
# out the minute.
_exact_ranges = TimedMemory(kept=60.0)


def _pg_estimated_share(pattern: str, table: str = "customers_customer") -> float:
    """The share of rows of `table` PostgreSQL's statistics expect to match `search_text LIKE pattern`
    (planning only, ~0.3 ms; 0 when the table has no statistics yet)."""
    rows, total = _pg_estimate(pattern, table)
    return rows / total if total > 0 else 0.0


def _pg_estimated_rows(pattern: str, table: str = "customers_customer") -> float:
    """The rows of `table` PostgreSQL's statistics expect to match `search_text LIKE pattern` (0
    without statistics)."""
    rows, total = _pg_estimate(pattern, table)
    return rows if total > 0 else 0.0


# The planner's estimate of a pattern, kept a minute per process like the tables' row counts: it
# only chooses a plan, and a user paging through a search's results asked it again on every page
# (~1 ms of planning for a trigram LIKE at 1M customers)
_estimates = TimedMemory(kept=60.0)


def _pg_estimate(pattern: str, table: str) -> tuple[float, float]:
    total = table_rows(table)
    if total <= 0:
        return 0.0, 0.0
    rows = _estimates.get((table, pattern))
    if rows is None:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT id FROM {table} WHERE search_text LIKE %s", [pattern])
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        rows = plan[0]["Plan"]["Plan Rows"]
        _estimates.remember((table, pattern), rows)
    return rows, total


class ContactFilterSet(KehuFilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    is_primary = django_filters.BooleanFilter(label=_("Primary contact"))
    search_fields = ["name", "mobile", "phone", "email", "wechat"]

    class Meta:
        model = Contact
        fields = []

    def search(self, queryset, name, value):
        """Name, pinyin, phones, e-mail and WeChat id in the contact's own indexed `search_text`,
        planned per term like the customers' search (`search_condition`)."""
        terms = normalize.search_terms(value)
        if not terms:
            return queryset
        condition = Q()
        for term in terms:
            condition |= search_condition(term, Contact, within=queryset)
        return queryset.filter(condition)
