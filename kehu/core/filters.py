"""The base FilterSet: one per record type, serving UI lists, the API and exports alike.

Every filter set understands `q` (free-text search), `tag`, `owner`, `mine`, `created_after`,
`created_before` and a `cf_<name>` filter per custom field.
"""

import copy
import datetime
import decimal
from functools import cached_property

import django_filters
import django_filters.constants
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db.models import CharField, Expression, Field, Func, IntegerField, Lookup, Q
from django.db.models.expressions import Col
from django.db.models.fields.related import ForeignObject
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In
from django.db.models.sql.where import AND
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import TaggedItem


class WalkOnly(Func):
    """A column as an expression no index serves on SQLite, so a condition on it is tested on the
    rows the list's order (or another condition's index) reads; the plain column on PostgreSQL,
    which plans from its histograms. For a value SQLite takes for rare when it is common: without
    a histogram it judges `email = ''` (a fifth of all customers) by the index's average of two rows
    per value.

    `COALESCE(column, NULL)`, not `+column`: SQLite still took `+next_action_at >= ?` (and
    `next_action_at || ''`) as proof of `next_action_at IS NOT NULL`, the condition of the partial
    fu_next_due_idx, read all ~100,000 pending follow-ups from it and sorted them (330 ms at 5M
    follow-ups, 0.7-1.4 s with a scope); through COALESCE it walks the list's order (2 ms)."""

    template = "%(expressions)s"

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="COALESCE(%(expressions)s, NULL)", **extra)


def local_day_start(day: datetime.date, tz=None) -> datetime.datetime:
    """The first instant of `day` in the time zone `tz` (the user's: the current one)."""
    tz = tz or timezone.get_current_timezone()
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)


class _Ids(Expression):
    output_field = IntegerField()

    def __init__(self, ids: tuple):
        super().__init__()
        self.ids = ids

    def __deepcopy__(self, memo):
        return self

    def __len__(self):
        return len(self.ids)

    def as_sql(self, compiler, connection):
        if not self.ids:
            raise EmptyResultSet
        return "(" + ", ".join(map(str, self.ids)) + ")", []


class IdList(_Ids):
    """Integer ids written into the SQL as literals, for `pk__in=IdList(ids)`: Django prepares,
    resolves and binds each value of a plain list, 3.5 ms to filter and 3 ms to compile 5,000 ids
    (a search's probe, kehu/core/search.py; the header search makes several). The values are
    int()-ed, so nothing but digits reaches the SQL. Immutable: copies share the tuple.
    Resolved into a query it becomes `_ResolvedIds`, which cannot be iterated: Django iterates the
    value of a foreign key's `__in` to check each item's model (`check_related_objects`), 3,161
    `hasattr` calls for a phone fragment's customers, on every filter that lists them."""

    def __init__(self, ids):
        super().__init__(ids.ids if isinstance(ids, _Ids) else tuple(map(int, ids)))

    def __iter__(self):
        return iter(self.ids)

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        return _ResolvedIds(self.ids)


class _ResolvedIds(_Ids):
    """An IdList inside a query (see IdList)."""

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        return self


class IdListIn:
    """`__in` with an IdList written on PostgreSQL as `= ANY('{1,2,…}'::bigint[])`: one array
    constant, the same ScalarArrayOp the planner makes of `IN (1, 2, …)` but parsed as one value
    instead of thousands. Planning `id IN (3,161 ids)` took 2.0-2.2 ms warm, the array 0.7 (1M
    customers, a phone fragment's probe; the page query itself runs in 0.7 ms). Other values and
    SQLite keep `IN (…)`. Mixed into Django's `In` and `RelatedIn` (register_id_list_lookups)."""

    def get_rhs_op(self, connection, rhs):
        if connection.vendor == "postgresql" and isinstance(self.rhs, _Ids):
            kind = self.lhs.output_field.db_type(connection)
            kind = kind if kind in ("smallint", "integer", "bigint") else "bigint"
            values = ",".join(map(str, self.rhs.ids))
            return f"= ANY('{{{values}}}'::{kind}[])"
        return super().get_rhs_op(connection, rhs)


class IdListAwareIn(IdListIn, In):
    pass


class IdListAwareRelatedIn(IdListIn, RelatedIn):
    pass


class LiteralIn(Lookup):
    """`field IN ('a', 'b')` with the values written into the SQL instead of bound as parameters
    (`status__literal_in=[...]`).

    SQLite uses a partial index only when the query's WHERE clause contains the index's predicate
    term for term, and `status IN (?, ?)` does not match the predicate `status IN ('todo', 'doing')`
    (PostgreSQL sees the values either way: psycopg binds them on the client). A supervisor's late
    orders at 2M orders: 18.5 ms bound (every order walked by id), 5.5 ms written (the partial index
    of open orders). For fixed, known identifiers only (checked below), never for user input."""

    lookup_name = "literal_in"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        values = [str(v) for v in self.rhs]
        if not values or not all(v.isidentifier() for v in values):
            raise ValueError("literal_in takes a non-empty list of identifiers")
        lhs, params = self.process_lhs(compiler, connection)
        quoted = ", ".join(f"'{v}'" for v in values)
        return f"{lhs} IN ({quoted})", params


def merge_id_lists(queryset):
    """`queryset` with its id lists on one column (`col IN IdList`, top-level conditions of its
    WHERE) written as one list, their intersection. A single owner's listed data scope
    (kehu/accounts/scope.py) and a search's found ids were two arrays on the primary key: PostgreSQL
    prices an index scan with two `= ANY` arrays as one probe per pair of values (910 × 24), so it
    walked a whole index of the table instead (a rep's feedback searched for 北 at 200,000 rows:
    33 ms; one list of 24 ids: 0.2 ms). The same rows: an id in both lists."""
    where = queryset.query.where
    if where.connector != AND or where.negated:
        return queryset
    lists: dict[tuple, list[int]] = {}
    for i, child in enumerate(where.children):
        lhs = getattr(child, "lhs", None)
        if isinstance(child, In) and isinstance(child.rhs, _Ids) and isinstance(lhs, Col):
            lists.setdefault((lhs.alias, lhs.target.column), []).append(i)
    if all(len(found) < 2 for found in lists.values()):
        return queryset
    queryset = queryset.all()  # the clone's WHERE has its own list of children
    children = queryset.query.where.children
    dropped = set()
    for found in lists.values():
        if len(found) < 2:
            continue
        ids = set(children[found[0]].rhs.ids)
        for i in found[1:]:
            ids &= set(children[i].rhs.ids)
        merged = copy.copy(children[found[0]])
        merged.rhs = _ResolvedIds(tuple(sorted(ids)))
        children[found[0]] = merged
        dropped.update(found[1:])
    queryset.query.where.children = [child for i, child in enumerate(children) if i not in dropped]
    return queryset


def register_id_list_lookups() -> None:
    Field.register_lookup(IdListAwareIn)
    ForeignObject.register_lookup(IdListAwareRelatedIn)
    CharField.register_lookup(LiteralIn)  # `literal_in`: a partial index's fixed values, written out


FEW_ROWS = 1000  # listed_or_walked: a condition met by fewer rows than this is listed by id


def listed_or_walked(queryset, condition: Q, walked: Q, limit: int | None = None):
    """`queryset` filtered by `condition`, planned by how many rows meet it, as a search term is
    (kehu/core/search.py): fewer than `limit` (FEW_ROWS) are read from the condition's index and
    become `id IN (...)` (a sort of at most that many); more are common, and `walked` (the same
    condition through WalkOnly) is tested on the rows the list's order reads, where matches come
    after a few rows. SQLite has no histogram to tell the two apart: it read every one of 25,000
    breached tickets of a status from their partial index and sorted them (65 ms at 1.5M tickets),
    every one of ~100,000 pending follow-ups (330 ms at 5M). The walk pays off when matches are
    spread over the list's order; late orders, all old, were no faster walked (docs/decisions.md)."""
    limit = limit or FEW_ROWS
    ids = list(queryset.model._default_manager.filter(condition).order_by().values_list("pk", flat=True)[:limit])
    if len(ids) < limit:
        return queryset.filter(pk__in=IdList(ids))
    return queryset.filter(walked)


class LocalDateFilter(django_filters.DateFilter):
    """A date filter on a date-time column, as the user means it: the local day in the user's time
    zone, compiled to UTC bounds `[start of day, start of the next day)` of the column itself.
    Pure (`filter_is_pure`): the bounds depend on the date and the time zone, which a compiled
    list's key holds.

    `created_at__date__gte` casts every row's time to a local date: on SQLite a Python function
    called per row (6 s for a month at 1M rows), on PostgreSQL a cast no index serves. A range on
    the column is answered from its index. `lookup_expr` is gte, lte, gt, lt or exact."""

    LOOKUPS = ("gte", "lte", "gt", "lt", "exact")
    pure = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.lookup_expr not in self.LOOKUPS:
            raise ValueError(f"LocalDateFilter: lookup_expr must be one of {self.LOOKUPS}")

    def filter(self, qs, value):
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        if self.distinct:
            qs = qs.distinct()
        return self.get_method(qs)(**self.slot_conditions(value))

    def slot_conditions(self, value) -> dict:
        """The conditions on the column for the local day `value` ({lookup: UTC bound})."""
        name, lookup = self.field_name, self.lookup_expr
        try:
            next_day = value + datetime.timedelta(days=1)
        except OverflowError:  # 9999-12-31: nothing lies after it
            next_day = None
        return {
            "gte": {f"{name}__gte": local_day_start(value)},
            "lt": {f"{name}__lt": local_day_start(value)},
            "lte": {f"{name}__lt": local_day_start(next_day)} if next_day else {f"{name}__isnull": False},
            "gt": {f"{name}__gte": local_day_start(next_day)} if next_day else {"pk__in": []},
            "exact": ({f"{name}__gte": local_day_start(value), f"{name}__lt": local_day_start(next_day)}
                      if next_day else {f"{name}__gte": local_day_start(value)}),
        }[lookup]


def user_choices():
    from django.utils.translation import gettext

    from kehu.accounts.authcache import filter_users

    inactive = gettext("%(name)s (inactive)")
    return [(pk, name if active else inactive % {"name": name}) for pk, name, active in filter_users()]


class UserChoiceField(django_filters.fields.ChoiceField):
    """A user's id checked against the per-process user memory as a set: ChoiceField walked and
    normalised the 200 users' choices to validate one (0.2 ms of a 4 ms list request)."""

    def valid_value(self, value):
        from kehu.accounts.authcache import filter_users

        return str(value) in {str(pk) for pk, _name, _active in filter_users()}


class UserFilter(django_filters.ChoiceFilter):
    """One user (an owner, a responsible person), offered as a select whose options come from the
    per-process user memory (kehu/accounts/authcache.py) instead of 200 model instances per page:
    the active users, then the inactive ones marked so (a departed colleague's records are found
    to hand them over). An unknown user's id is refused like any invalid choice."""

    field_class = UserChoiceField

    def __init__(self, *args, **kwargs):
        from .widgets import QuickSelect

        kwargs.setdefault("choices", user_choices)
        kwargs.setdefault("widget", QuickSelect)
        super().__init__(*args, **kwargs)


def dict_choices(kind: str):
    """The choices of a dictionary kind, from the per-process dictionary memory, in the
    dictionary's order and the user's language (kehu/core/dictionary.py)."""

    def choices():
        from .dictionary import items_by_id

        items = sorted((i for i in items_by_id().values() if i.kind == kind), key=lambda i: (i.order, i.pk))
        return [(item.pk, str(item)) for item in items]

    return choices


class DictFilter(django_filters.ChoiceFilter):
    """A dictionary value (industry, source...): a select of the kind's items read from memory
    instead of one query and a model instance per item on every list page."""

    def __init__(self, kind: str, *args, **kwargs):
        from .widgets import QuickSelect

        self.kind = kind
        kwargs.setdefault("choices", dict_choices(kind))
        kwargs.setdefault("widget", QuickSelect)
        super().__init__(*args, **kwargs)


class StrictNullBooleanSelect(forms.NullBooleanSelect):
    """NullBooleanSelect, but a value it does not know stays as sent (the field refuses it)
    instead of becoming "unknown", which filtered nothing: `?mine=yes` listed everything. Its empty
    choice is the other filters' "---------" (any), not "Unknown" (未知), which read as a value."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("", "---------"), ("true", _("Yes")), ("false", _("No"))]

    def format_value(self, value):
        found = super().format_value(value)
        return [""] if found == "unknown" else [found]  # a list, as Select's: "" is in every string

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        return value.strip().lower() if isinstance(value, str) else value


class StrictNullBooleanField(forms.NullBooleanField):
    widget = StrictNullBooleanSelect
    TRUE = (True, "true", "1", "2", "yes", "on")
    FALSE = (False, "false", "0", "3", "no", "off")

    def to_python(self, value):
        if value in (None, "", "unknown"):
            return None
        if value in self.TRUE:
            return True
        if value in self.FALSE:
            return False
        raise forms.ValidationError(_("Enter true or false."), code="invalid")

    def validate(self, value):
        pass


def strict_booleans(filterset) -> None:
    """Every boolean filter of `filterset` refuses a value that is neither true nor false."""
    for f in filterset.filters.values():
        if isinstance(f, django_filters.BooleanFilter):
            f.field_class = StrictNullBooleanField


class OwnCopyFilters(dict):
    """A filter set class's declared filters, copied for each filter set one level deep: each filter
    and its options dict, not everything they reference. django-filter deep-copies them per list
    request (with their choices, querysets and lazy labels: ~690 objects a customer list), and the
    filter form deep-copies the fields made from them again; together 0.5 ms of a 4 ms API list.
    A filter's per-request state (its filter set, model and form field) is set on its own copy."""

    def __deepcopy__(self, memo):
        out = {}
        for name, declared in self.items():
            own = copy.copy(declared)
            own.extra = dict(declared.extra)
            own.__dict__.pop("_field", None)  # a form field of this filter set's own
            if isinstance(own.__dict__.get("filter"), django_filters.filters.FilterMethod):
                own.filter = django_filters.filters.FilterMethod(own)  # calls this copy's filter set
            out[name] = own
        return out


class OwnFields(dict):
    """A filter form's fields, made for its filter set alone (OwnCopyFilters): the form takes them
    as they are instead of deep-copying them."""

    def __deepcopy__(self, memo):
        return dict(self)


class OwnCopies:
    """OwnCopyFilters and OwnFields for a filter set class (KehuFilterSet, PlainFilterSet)."""

    @classmethod
    def get_filters(cls):
        return OwnCopyFilters(super().get_filters())

    def get_form_class(self):
        form_class = super().get_form_class()
        form_class.base_fields = OwnFields(form_class.base_fields)
        return form_class


def filter_is_pure(f, value) -> bool:
    """True when the SQL a filter adds depends on its cleaned value alone (and on the user and the
    time zone, which a compiled list's key holds), not on the database's rows or the clock: the
    list API may then reuse the page query it compiled for the same values (prepare_reuse).

    A filter says so with a `pure` attribute (or a function of the value). Without one, a filter of
    django-filter's own classes comparing a field (no `method`) is pure; a method, or a class that
    writes its own `filter()`, is not until it declares `pure = True` (a search lists ids the index
    found; "not followed up for N days" and "expires within" count from now)."""
    declared = getattr(f, "pure", None)
    if callable(declared):
        return bool(declared(value))
    if declared is not None:
        return bool(declared)
    return f.method is None and type(f).filter.__module__.startswith("django_filters.")


SLOT_LOOKUPS = ("exact", "gte", "gt", "lte", "lt")
_PLAIN_FILTERS = (django_filters.Filter.filter, django_filters.ChoiceFilter.filter)


def _is_scalar(value) -> bool:
    return value is not None and isinstance(value, (bool, int, str, decimal.Decimal, datetime.date, datetime.time))


def slot_conditions(f, value) -> dict | None:
    """The conditions a pure filter adds for `value`, as {lookup: value}, when the SQL they make
    is the same for every value but for the values themselves: `status = %s`, `created_at >= %s`.
    The list API then compiles the filter with slots for these values and reuses the SQL for any
    other value (prepare_reuse). None when the value shapes the SQL (`IS NULL`, a list, a pattern).

    A filter class may say it itself (`slot_conditions(value)`: LocalDateFilter's UTC bounds);
    otherwise django-filter's plain comparison of one of the model's own columns qualifies."""
    own = getattr(f, "slot_conditions", None)
    if own is not None:
        conditions = own(value)
    elif f.method is not None or type(f).filter not in _PLAIN_FILTERS or f.lookup_expr not in SLOT_LOOKUPS:
        return None
    elif isinstance(f, django_filters.ChoiceFilter) and value == f.null_value:
        return None
    else:
        conditions = {f"{f.field_name}__{f.lookup_expr}": value}
    if not conditions:
        return None
    for lookup, v in conditions.items():
        name, _, kind = lookup.rpartition("__")
        if kind not in SLOT_LOOKUPS or "__" in name or not _is_scalar(v):
            return None
    return conditions


def _key_value(value):
    """A cleaned filter value as a hashable part of a key, or raise TypeError."""
    from django.db.models import Model, QuerySet

    if isinstance(value, Model):
        return (value._meta.label_lower, value.pk)
    if isinstance(value, (list, tuple, set, frozenset, QuerySet)):
        parts = [_key_value(v) for v in value]
        return tuple(sorted(parts, key=repr)) if isinstance(value, (set, frozenset)) else tuple(parts)
    if isinstance(value, (datetime.date, datetime.time)):
        return (type(value).__name__, value.isoformat())
    if value is None or isinstance(value, (bool, int, str, decimal.Decimal, float)):
        return (type(value).__name__, value)
    raise TypeError(type(value).__name__)


def prepare_reuse(filterset) -> tuple[tuple, dict] | None:
    """What a valid bound filter set's SQL depends on, for the list API to reuse the page query it
    compiled (kehu/core/pagination.py), with the caller adding the user, the time zone and the data
    scope: `(key, slots)`, or None when a filter with a value is not pure (filter_is_pure). When it
    answers a key, it also switches the filter set to parameters (`slot_plan`): its
    filter_queryset then writes each slotted filter with a parameter, as the key supposes.

    Each filter with slot conditions (slot_conditions) enters the key by the shape of its
    conditions and its values go to `slots` ({name: (value, model field)}); from then on the
    filter set applies it with a parameter per slot (CursorParam), so the compiled SQL serves any
    value. Another pure filter enters the key with its value. A customer list by grade, industry,
    owner or a creation range then compiles once per combination of filters, not per value:
    building and compiling its query was ~40 % of the request."""
    if not filterset.is_bound or not filterset.is_valid():
        return None
    model = filterset._meta.model
    data = filterset.form.cleaned_data
    items, slots, plan = [], {}, {}
    for name, f in filterset.filters.items():
        value = data.get(name)
        if value in django_filters.constants.EMPTY_VALUES:
            continue
        if not filter_is_pure(f, value):
            return None
        conditions = slot_conditions(f, value)
        if conditions is None:
            try:
                items.append((name, _key_value(value)))
            except TypeError:
                return None
            continue
        plan[name] = []
        for i, (lookup, v) in enumerate(conditions.items()):
            slot = f"f{i}:{name}"
            try:
                field = model._meta.get_field(lookup.rpartition("__")[0])
            except Exception:
                return None
            slots[slot] = (v, field)
            plan[name].append((lookup, slot, field))
        items.append((name, "slots", tuple(conditions)))
    filterset.slot_plan = plan
    return tuple(items), slots


def filter_with_slots(filterset, queryset):
    """filterset.filter_queryset, with the filters of its slot plan (prepare_reuse) compared to a
    parameter per slot instead of their values."""
    from .pagination import CursorParam

    plan = filterset.slot_plan
    for name, value in filterset.form.cleaned_data.items():
        f = filterset.filters[name]
        if name not in plan:
            queryset = f.filter(queryset, value)
            continue
        if f.distinct:
            queryset = queryset.distinct()
        queryset = f.get_method(queryset)(**{lookup: CursorParam(slot, field) for lookup, slot, field in plan[name]})
    return queryset


class Reusable:
    """The list API's reuse of compiled page queries (prepare_reuse), and the rights check that must
    run whether the filters are applied or a compiled query is reused (KehuFilterSet, PlainFilterSet)."""

    prepare_reuse = prepare_reuse
    slot_plan = None  # set by prepare_reuse: the filters applied with parameters

    def check_rights(self) -> None:
        """Refuse (PermissionDenied) filter values the user may not use: run before the filters
        are applied, and before a compiled list's page query is reused without applying them."""

    def filter_queryset(self, queryset):
        self.check_rights()
        if self.slot_plan is not None:
            return filter_with_slots(self, queryset)
        return merge_id_lists(super().filter_queryset(queryset))


class KehuFilterSet(Reusable, OwnCopies, django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    tag = django_filters.CharFilter(method="filter_tag", label=_("Tag"))
    tag.pure = True  # a subquery of the tag's name
    owner = UserFilter(field_name="owner_id", label=_("Owner"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Mine only"))
    mine.pure = True  # the user's id: a compiled list's key holds the user
    created_after = LocalDateFilter(field_name="created_at", lookup_expr="gte", label=_("Created from"))
    created_before = LocalDateFilter(field_name="created_at", lookup_expr="lte", label=_("Created to"))

    search_fields: list[str] = []
    search_indexed = False  # search_fields have a search index (kehu/core/search.py)
    primary: list[str] = ["owner", "tag"]  # shown at once; the others under "More filters"
    custom_field_filters = True  # a cf_<name> filter per custom field (a report's filter set may do without)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if getattr(self._meta.model, "scope_owner_field", "owner") is None:
            # a record type no owner limits (the catalogue, the stock ledger): no owner filters
            for name in ("owner", "mine"):  # before the form is built from the filters
                self.filters.pop(name, None)
        if self.custom_field_filters:
            from .customfields import add_filters

            add_filters(self, self._meta.model._meta.label_lower)
        strict_booleans(self)

    def owned_only(self) -> bool:
        """True when the valid filters keep only records that have an owner on the field the data
        scope filters on (`mine`, one owner, "not in the public pool"): the list then asks the
        scope without its public-pool branch (RecordType.visible(user, owned=True))."""
        from kehu.accounts.scope import scope_paths

        field = next(iter(scope_paths(self._meta.model)), None)
        if not field or not getattr(self._meta.model, "scope_includes_unowned", False):
            return False
        if not self.is_bound or not self.is_valid():
            return False
        data = self.form.cleaned_data
        for name, f in self.filters.items():
            value = data.get(name)
            if value in django_filters.constants.EMPTY_VALUES:
                continue
            if name == "mine" and field == "owner" and value is True and self.user is not None:
                return True
            if getattr(f, "keeps_owned", False):  # a method filter that keeps owned rows only (idle_days)
                return True
            if f.field_name in (field, f"{field}_id") and f.method is None:
                if f.lookup_expr == "isnull" and bool(value) == bool(f.exclude):
                    return True
                if f.lookup_expr == "exact" and not f.exclude:
                    return True
        return False

    def search(self, queryset, name, value):
        """`q`: any of `search_fields` contains the term; through the search index when the filter
        set declares `search_indexed` (kehu/core/search.py)."""
        from .search import rows_of_the_list, search_q

        value = (value or "").strip()
        if not value or not self.search_fields:
            return queryset
        self.search_notices = []  # a short term searched among the newest rows only (kehu/core/search.py)
        condition = search_q(queryset.model, self.search_fields, value,
                             indexed=getattr(self, "search_indexed", False),
                             notices=self.search_notices, queryset=queryset,
                             reading=self.reading(queryset.model))
        ids = rows_of_the_list(condition)
        if ids is not None:
            # every id found was read through this queryset (its scope and the filters before the
            # search): the list is those ids, without its conditions evaluated again beside them
            from .pagination import unconditioned

            bare = unconditioned(queryset)
            if bare is not queryset:
                bare.query.scope_branches = None  # no scope left to read path by path
                return bare.filter(pk__in=ids)
        return queryset.filter(condition)

    def reading(self, model) -> "ListReading":
        """How this list of `model` is read, for a search's plan (ListReading)."""
        return ListReading(self, model)

    def newest_first(self) -> bool:
        """The list is read newest first (no sort asked, or by id or creation), so a condition met
        by many of the newest rows finds a page after a few of them (kehu/core/search.py)."""
        sort = (self.data.get("sort") or "") if self.data is not None else ""
        return sort.lstrip("-") in ("", "id", "created_at")

    NARROW_OWNERS = 3

    def narrow_scope(self, model) -> bool:
        """The user sees the records of a few owners only (a rep's own), with no public-pool
        branch: that list is a small share of the table (5,000 of 1M opportunities for one of 200
        reps), so a search reads all of it instead of the table's newest rows, where a rep's own
        records are a few dozen (kehu/core/search.py)."""
        from kehu.accounts.models import DataScope
        from kehu.accounts.scope import scope_paths

        access = getattr(self.user, "access", None)
        if access is None or access.user_id is None or access.scope == DataScope.ALL:
            return False
        if getattr(model, "scope_includes_unowned", False) or not scope_paths(model):
            return False
        return len(access.scope_user_ids()) <= self.NARROW_OWNERS

    @classmethod
    def probe_ids(cls, term: str):
        """Ids of every record matching `term` through the search index, or None (see kehu/core/search.py)."""
        from .search import probe_ids

        return probe_ids(cls, term)

    def filter_tag(self, queryset, name, value):
        if not value:
            return queryset
        ct = ContentType.objects.get_for_model(queryset.model)
        ids = TaggedItem.objects.filter(content_type=ct, tag__name=value).values("object_id")
        return queryset.filter(pk__in=ids)

    def filter_mine(self, queryset, name, value):
        if value and self.user is not None:
            return queryset.filter(owner_id=self.user.pk)
        return queryset

    @property
    def form(self):
        form = django_filters.FilterSet.form.fget(self)
        if not getattr(form, "_kehu_styled", False):
            style_filter_form(form)
        return form


def style_filter_form(form):
    from django import forms

    from .widgets import QuickSelect

    for field in form.fields.values():
        widget = field.widget
        if type(widget) is forms.Select:  # the same HTML, written without a dict per option
            widget.__class__ = QuickSelect
        if isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select form-select-sm")
        elif isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        else:
            widget.attrs.setdefault("class", "form-control form-control-sm")
        if isinstance(field, forms.DateField):
            widget.input_type = "date"
    form._kehu_styled = True


class PlainFilterSet(Reusable, OwnCopies, django_filters.FilterSet):
    """For record types that are not KehuModels (users, roles, departments)."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    search_fields: list[str] = []

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        strict_booleans(self)

    search = KehuFilterSet.search
    narrow_scope = KehuFilterSet.narrow_scope
    newest_first = KehuFilterSet.newest_first
    reading = KehuFilterSet.reading
    NARROW_OWNERS = KehuFilterSet.NARROW_OWNERS
    primary: list[str] = []
    form = KehuFilterSet.form


class ListReading:
    """How a list being searched is read: whose rows its user sees and in which order. A search
    (kehu/core/search.py: search_q) asks only what its plan needs, and each answer is worked out
    once, when first asked: most searches need none of them (an index answers the term).

    - `narrow`: a few owners' own rows (a rep's), searched whole (KehuFilterSet.narrow_scope);
      `owners`: whose;
    - `newest_first`: the page is read newest first (by id or creation);
    - `walks_window`: the user sees every row and the page is read by id: a search window may be
      walked from its top instead of listed first (search._walked_window). A department's list
      keeps the listing: the walk would test every row's scope, and its rows are a fraction of the
      window;
    - `walks_own`: one owner's rows (a rep's own, no public pool) through a single owner column
      with an `(owner, id)` index, read by id: a short term's page walks the rep's rows down that
      index and stops at a page of matches, instead of reading all of them joined to their
      customers first. Not for several owners (`owner_id IN (…)` reads no index in id order) or
      several paths."""

    def __init__(self, filterset, model):
        self.filterset, self.model = filterset, model

    @cached_property
    def _access(self):
        return getattr(self.filterset.user, "access", None)

    @cached_property
    def narrow(self) -> bool:
        return self.filterset.narrow_scope(self.model)

    @cached_property
    def newest_first(self) -> bool:
        return self.filterset.newest_first()

    @cached_property
    def owners(self) -> tuple[int, ...]:
        """The owners whose rows a `narrow` list shows (the rep's own id), else ()."""
        access = self._access
        if not self.narrow or access is None or access.user_id is None:
            return ()
        return tuple(access.scope_user_ids())

    @cached_property
    def by_id(self) -> bool:
        """The page is read by id, newest first (`walk_sort`: the sort asked or the record type's
        default, unless a range filter reads the page in its field's order)."""
        from .registry import registry

        data = self.filterset.data
        rt = registry.for_model(self.model)
        return data is not None and rt is not None and walk_sort(rt, data.get("sort"), data) == "-id"

    @cached_property
    def walks_window(self) -> bool:
        from kehu.accounts.models import DataScope

        return self._access is not None and self._access.scope == DataScope.ALL and self.by_id

    @cached_property
    def walks_own(self) -> bool:
        from kehu.accounts.models import DataScope
        from kehu.accounts.scope import path_index, scope_paths

        access = self._access
        if access is None or access.user_id is None or access.scope == DataScope.ALL:
            return False
        paths = scope_paths(self.model)
        if len(paths) != 1 or "__" in paths[0] or getattr(self.model, "scope_includes_unowned", False):
            return False
        return path_index(self.model, paths[0]) is not None and self.by_id and \
            len(access.scope_user_ids()) == 1


RANGE_LOOKUPS = ("gte", "gt", "lte", "lt")


def walk_sort(rt, requested: str | None, data) -> str:
    """The order a list is read in: the requested sort, except that a list sorted by id (or not
    sorted explicitly) and filtered by a range of a sortable field (created from/to, a close-date
    range...) is read in that field's order, same direction. "Newest first" is then newest by
    that date, and the page is read from the field's index where the range starts instead of
    walking the ids until enough rows fall in the range: customers created in one month of 2024,
    sorted by id, took 500 ms on PostgreSQL at 1M rows; by creation date, under 1 ms.

    Every list (HTML, API) asks this function, so its cursors agree with its pages."""
    from .pagination import parse_sort

    sort = parse_sort(requested, rt.sort_fields, rt.default_sort)
    if requested and sort.lstrip("-") != "id":
        return sort
    filterset = rt.filterset
    if filterset is None or not data:
        return sort
    for name, f in filterset.base_filters.items():
        if data.get(name) in (None, ""):
            continue
        # a method filter that is a range of a field says so: `walk_field` ("not followed up for N days")
        field = getattr(f, "walk_field", None) or (
            f.field_name if f.method is None and f.lookup_expr in RANGE_LOOKUPS else None)
        if field in rt.sort_fields and field != "id":
            return f"-{field}" if sort.startswith("-") else field
    return sort


class InvalidFilters(ValidationError):
    """A list's filter values that are not valid: the API answers 422 naming each parameter, the
    HTML list says so instead of listing every record."""


def list_filterset(rt, user, data, *, owned: bool = False, filterset=None):
    """The filter set of a list, validated, its queryset the user's visible records (the owned
    ones when `owned` or the filters keep only those), the filters not yet applied: `fs.qs` applies
    them. list_queryset's first half; the list API asks the filter set for its prepare_reuse before
    building the query."""
    fs = (filterset or rt.filterset)(data or None, queryset=rt.visible(user), user=user)
    fs.owned = False
    if not fs.is_bound:
        if owned:
            fs.queryset, fs.owned = rt.visible(user, owned=True), True
        return fs
    if not fs.is_valid():
        exc = InvalidFilters(fs.errors)
        exc.filterset = fs
        raise exc
    if owned or (hasattr(fs, "owned_only") and fs.owned_only()):
        fs.queryset, fs.owned = rt.visible(user, owned=True), True
    return fs


def list_queryset(rt, user, data, *, owned: bool = False, filterset=None):
    """(filter set, queryset) of a list: the user's visible records of `rt` with the filters in
    `data` applied: the one code path of the HTML list, the API list, exports, reports
    (kehu/core/reports.py) and the plan test (kehu/core/tests/test_list_plans.py). `owned`: the
    caller keeps only owned records (a tab); with that or with filters that do, the scope is asked
    without its public-pool branch. `filterset`: another filter set than the record type's (a
    report's, with more filters). Invalid filter values raise InvalidFilters, never a broader query."""
    fs = (filterset or rt.filterset)(data or None, queryset=rt.visible(user), user=user)
    if not fs.is_bound:
        if owned:
            fs.queryset = rt.visible(user, owned=True)
        return fs, fs.queryset
    if not fs.is_valid():
        exc = InvalidFilters(fs.errors)
        exc.filterset = fs
        raise exc
    if owned or (hasattr(fs, "owned_only") and fs.owned_only()):
        fs.queryset = rt.visible(user, owned=True)
    return fs, fs.qs
