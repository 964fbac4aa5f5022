"""The record-type registry: one declaration per record type drives its UI views, API
endpoints, filters, exports, rights module and generic tests.

    class ContactType(RecordType):
        model = Contact
        form = ContactForm
        filterset = ContactFilterSet
        list_columns = ["name", "customer", "mobile", "email", "owner"]

    registry.register(ContactType)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.encoding import force_str
from django.utils.functional import cached_property
from django.utils.text import capfirst

_CHOICES: dict[tuple[type, str], tuple[str, dict] | None] = {}


def choice_labels(cls, name: str) -> tuple[str, dict] | None:
    """(attname, {value: label}) of the model field `name` when `get_<name>_display` is Django's own
    and its choices are fixed; None otherwise (not a field with choices, a display method of the
    model's own, choices from a callable). Django's method builds the field's choices again on every
    call: 26 µs, against 4 µs for the lookup, for each status and priority cell of a list."""
    key = (cls, name)
    if key in _CHOICES:
        return _CHOICES[key]
    import functools
    import inspect

    from django.utils.hashable import make_hashable

    found = None
    method = inspect.getattr_static(cls, f"get_{name}_display", None)
    if isinstance(method, functools.partialmethod):
        field = method.keywords.get("field")
        if field is not None and isinstance(field.choices, (list, tuple)):
            found = (field.attname, dict(make_hashable(field.flatchoices)))
    _CHOICES[key] = found
    return found


_SHOWN: dict[tuple[type, str, str | None], dict] = {}


def shown_labels(cls, name: str, labels: dict) -> dict:
    """`labels` ({value: label} of `choice_labels`) as the text shown in the current language:
    a lazy label translated once per language, not in every cell (~150 a list page)."""
    from django.utils.translation import get_language

    key = (cls, name, get_language())
    shown = _SHOWN.get(key)
    if shown is None:
        shown = _SHOWN[key] = {value: force_str(label, strings_only=True) for value, label in labels.items()}
    return shown


@dataclass
class Column:
    name: str
    label: str
    sort: str | None = None  # the indexed field to sort on, if sortable
    accessor: Callable[[Any], Any] | None = None
    link: bool = False
    money: bool = False  # a MoneyField: shown with the currency symbol (kehu.core.money.format_money)

    def value(self, obj):
        if self.accessor is not None:
            return self.accessor(obj)
        if self.name.startswith("cf_"):
            return obj.custom_fields.get(self.name[3:])
        value = obj
        for part in self.name.split("__"):
            if value is None:
                return None
            labels = choice_labels(type(value), part) if isinstance(value, models.Model) else None
            if labels is not None:  # what get_<part>_display() answers, without building the choices again
                raw = getattr(value, labels[0])
                try:
                    shown = shown_labels(type(value), part, labels[1])
                    value = shown[raw] if raw in shown else force_str(raw, strings_only=True)
                except TypeError:  # an unhashable value (a list of a JSON field's choices)
                    value = getattr(value, f"get_{part}_display")()
                continue
            display = getattr(value, f"get_{part}_display", None)
            value = display() if callable(display) else getattr(value, part, None)
        return value


@dataclass(frozen=True)
class ExportLines:
    """An export of one row per child record (an order's lines), in the layout its import reads: the
    record's own columns on the first row of its children, then each child's columns
    (`fields`: (child field or `__` path, header)). A record without children is one row. The
    children are read per batch of records in one query, in the child model's order (docs/decisions.md)."""

    relation: str  # the children's reverse accessor on the record ("lines")
    fields: tuple[tuple[str, Any], ...]

    @property
    def prefix(self) -> str:
        return f"{self.relation}__"

    def columns(self) -> list[Column]:
        return [Column(f"{self.prefix}{name}", label) for name, label in self.fields]

    def relation_of(self, model):
        """(child model, the child's foreign key to the record)."""
        rel = model._meta.get_field(self.relation)
        return rel.related_model, rel.field

    def row_count(self, queryset) -> int:
        """The rows an export of `queryset` writes: one per child, one per record without any."""
        child, fk = self.relation_of(queryset.model)
        children = child._default_manager.filter(**{f"{fk.name}__in": queryset.order_by().values("pk")})
        with_children = children.order_by().values(fk.attname).distinct().count()
        return queryset.count() - with_children + children.count()


@dataclass(frozen=True)
class BulkAction:
    """A bulk action of a record type's list. `handler` names a method of the record type's bulk
    view (kehu.core.views.BulkActionView) called with (objs, POST data), or is a function called
    with (view, objs, POST data): another app's action (kehu.core.registries.bulk_action)."""

    name: str
    label: Any
    right: str  # the action on the record type's module the user needs: "edit", "assign", ...
    handler: Any
    value: str = ""  # what the bar's value field holds: "" nothing, "text" (a tag), "user" (an owner)
    tabs: tuple[str, ...] = ()  # offered only on these list tabs (empty: on every tab)
    not_tabs: tuple[str, ...] = ()  # never offered on these
    also: tuple[str, ...] = ()  # further rights it needs, as "module.action" ("pool.view")

    def allowed(self, user) -> bool:
        return all(user.has_right(*right.split(".", 1)) for right in self.also)

    def offered_on(self, tab) -> bool:
        return (not self.tabs or tab in self.tabs) and tab not in self.not_tabs


class RecordType:
    model: type[models.Model]
    key: str = ""  # "customer": URL names, API path, rights module
    module: str = ""  # rights module, defaults to key
    url_prefix: str = ""  # UI path, defaults to key + "s"
    api_prefix: str = ""  # API path under /api/v1/, defaults to the last part of url_prefix
    app_namespace: str = ""  # URL namespace, defaults to the model's app label
    form = None
    filterset = None
    list_columns: list[str] = []  # shown by default
    extra_columns: list[str] = []  # choosable
    sort_fields: list[str] = ["id"]  # each has an index
    default_sort: str = "-id"
    list_select_related: list[str] = []
    # relations of list_select_related a row shows by their name only, with the columns their name
    # is made of: read after the page, one query each with only those columns, as the owner always
    # is (a ticket row joined its whole customer: 2 of the 5 ms a 50-row page spent reading its rows)
    list_names: dict[str, tuple[str, ...]] = {}
    list_prefetch: list[str] = []
    detail_fields: list[str] | None = None
    detail_template: str = "core/record_detail.html"
    workflow = None  # a kehu.core.workflow.Workflow: states, transitions, log (its field is not a form field)
    actions: tuple = ()  # kehu.core.actions.Action: what it offers besides create / edit / delete
    read_only = False  # no create, edit or delete in the UI and the API (a ledger, a log)
    editable = True
    deletable = True
    api_exclude: list[str] = []
    export_fields: list[str] | None = None
    export_labels: dict = {}  # an export column's header other than the field's name ({"number": "order number"})
    export_lines: ExportLines | None = None  # exported as one row per child (an order's lines)
    nav_icon: str = "ti-database"
    search_placeholder: str = ""
    # --- declarations read by core's registries (kehu/core/registries.py) ---
    nav_section: str = ""  # "customers", "admin" (the Administration menu); "" = not in the navigation
    nav_order: int = 100  # within its section
    # offered by the list's bulk bar and accepted by the bulk view: names of the built-in actions
    # ("tag", "delete") or BulkAction declarations; None = ["tag", "delete"] (["delete"] without tags)
    bulk_actions: list[str | BulkAction] | None = None
    creatable = True
    # children a record is created with in one API request ({"lines": Nested(...)}: kehu/core/nested.py)
    create_with: dict = {}
    # delete, restore and merge: Protect / Cascade declarations (kehu/core/relations.py)
    relations: list = []
    # pre-aggregated sources of reports (kehu.core.reports.Rollup): the first that covers a report
    # answers it instead of the records (the pipeline's running totals, kehu/sales/reports.py)
    rollups: list = []

    def __init__(self):
        meta = self.model._meta
        self.key = self.key or meta.model_name
        self.module = self.module or self.key
        self.url_prefix = self.url_prefix or f"{self.key}s"
        self.api_prefix = self.api_prefix or self.url_prefix.rsplit("/", 1)[-1]
        self.app_namespace = self.app_namespace or meta.app_label
        if self.workflow is not None:
            self.workflow.bind(self)
        if self.read_only:
            self.creatable = self.editable = self.deletable = False

    def offers(self, operation: str) -> bool:
        """Whether this record type has the operation ("create", "edit", "delete") at all; the
        user's right is checked besides."""
        return {"create": self.creatable, "edit": self.editable, "delete": self.deletable}.get(operation, True)

    # --- names -------------------------------------------------------------
    @property
    def label(self):
        return capfirst(self.model._meta.verbose_name)

    @property
    def label_plural(self):
        return capfirst(self.model._meta.verbose_name_plural)

    @property
    def record_type_name(self) -> str:
        return f"{self.model._meta.app_label}.{self.model._meta.model_name}"

    def url_name(self, action: str) -> str:
        return f"{self.app_namespace}:{self.key}_{action}"

    @cached_property
    def is_kehu_model(self) -> bool:
        from .models import KehuModel

        return issubclass(self.model, KehuModel)

    # --- columns -----------------------------------------------------------
    def field_label(self, name: str) -> str:
        if name == "tags":
            from django.utils.translation import gettext

            return gettext("Tags")
        try:
            return capfirst(self.model._meta.get_field(name).verbose_name)
        except Exception:
            return name

    def is_money(self, name: str) -> bool:
        """True when the field `name` (a column, a detail row) is a MoneyField."""
        from .money import MoneyField

        try:
            return isinstance(self.model._meta.get_field(name), MoneyField)
        except Exception:
            return False

    def available_columns(self) -> dict[str, Column]:
        cols: dict[str, Column] = {}
        for name in list(self.list_columns) + [c for c in self.extra_columns if c not in self.list_columns]:
            sort = name if name in self.sort_fields else None
            accessor = None
            if name == "tags":
                accessor = lambda obj: ", ".join(t.name for t in obj.tags)  # noqa: E731
            cols[name] = Column(name, self.field_label(name), sort=sort, accessor=accessor,
                                money=self.is_money(name))
        if self.is_kehu_model:
            from .customfields import fields_for

            for cf in fields_for(self.record_type_name):
                cols[cf.key] = Column(cf.key, cf.display_label)
        first = next(iter(cols.values()), None)
        if first:
            first.link = True
        return cols

    def default_columns(self) -> list[str]:
        names = list(self.list_columns)
        if self.is_kehu_model:
            from .customfields import fields_for

            names += [cf.key for cf in fields_for(self.record_type_name) if cf.show_in_list]
        return names

    def get_bulk_actions(self) -> list[BulkAction]:
        """The declared bulk actions, the built-in ones ("tag", "delete") resolved by name."""
        from django.utils.translation import gettext_lazy as _

        builtin = {"tag": BulkAction("tag", _("Add tag"), "edit", "bulk_tag", value="text"),
                   "delete": BulkAction("delete", _("Delete"), "delete", "bulk_delete")}
        declared = self.bulk_actions
        if declared is None:
            declared = ["tag", "delete"] if self.is_kehu_model else ["delete"]
        return [builtin[a] if isinstance(a, str) else a for a in declared]

    def detail_value(self, name: str, obj):
        """What the detail page shows for field `name` of `obj` (a record type may format its own
        values: quantities without trailing zeros)."""
        return Column(name, "").value(obj)

    def get_detail_fields(self) -> list[str]:
        if self.detail_fields is not None:
            return self.detail_fields
        return [f.name for f in self.model._meta.fields if f.editable and f.name not in ("id", "custom_fields")]

    def prepare_detail(self, obj):
        """Attach the users a record's page names (its owner, who created, updated or assigned it)
        in one query of the columns a name needs: each was read whole, password hash and settings
        included, by a query of its own (four on an opportunity's page, ~3 ms). Its dictionary
        values come from the dictionary's memory, as a list's rows' do."""
        from django.contrib.auth import get_user_model
        from django.core.exceptions import FieldDoesNotExist

        from . import dictionary

        dictionary.attach([obj], dictionary.dict_fields(self.model))  # from the dictionary's memory
        user_model = get_user_model()
        fields = []
        for name in self.get_detail_fields():
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if field.many_to_one and field.related_model is user_model and not field.is_cached(obj):
                fields.append(field)
        ids = {getattr(obj, field.attname) for field in fields} - {None}
        if ids:
            users = user_model._base_manager.only("id", "username", "full_name").in_bulk(ids)
            for field in fields:
                if getattr(obj, field.attname) is not None:
                    field.set_cached_value(obj, users.get(getattr(obj, field.attname)))
        return obj

    def base_queryset(self):
        qs = self.model._default_manager.all()
        # the owner is not joined but read for the rows afterwards (prepare): with the users joined,
        # SQLite planned a data scope's `owner_id IN (...)` users-first and sorted ~260k customers
        related = [name for name in self.list_select_related if name != "owner" and name not in self.list_names]
        if related:
            qs = qs.select_related(*related)
        return qs.prefetch_related(*self.list_prefetch) if self.list_prefetch else qs

    def prepare(self, objs: list) -> list:
        """Attach what list rows show without a query per row: tags in one query, dictionary
        values from the in-memory cache, the owner and the `list_names` relations by name."""
        from . import dictionary

        dictionary.attach(objs, dictionary.dict_fields(self.model))
        if self.is_kehu_model and objs:
            from .models import attach_tags

            attach_tags(objs)
        names = dict(self.list_names)
        if "owner" in self.list_select_related:
            # a row shows its owner's name: not the password, settings JSON and the rest (~1.5 ms a page)
            names.setdefault("owner", ("username", "full_name"))
        for name, columns in names.items() if objs else ():  # each relation's rows in one query
            field = self.model._meta.get_field(name)
            ids = {getattr(o, field.attname) for o in objs if not field.is_cached(o)} - {None}
            if not ids:
                continue
            # the base manager, as a join would: a soft-deleted customer still names its tickets
            rows = field.related_model._base_manager.only("pk", *columns).in_bulk(ids)
            for obj in objs:
                value = getattr(obj, field.attname)
                if value is not None and not field.is_cached(obj):
                    field.set_cached_value(obj, rows.get(value))
        return objs

    def visible(self, user, owned: bool = False):
        """Records of this type the user may see (rights are checked by the caller). `owned`: the
        caller keeps only records that have an owner on the scope's owner field, so the scope
        leaves out its public-pool branch (kehu.accounts.scope.scope_filter)."""
        qs = self.base_queryset()
        if hasattr(qs, "visible_to"):
            qs = qs.visible_to(user, owned=True) if owned else qs.visible_to(user)
        return qs

    def scope_key(self, user) -> tuple:
        """What `visible(user)`'s SQL depends on besides the record type (kehu.accounts.scope.scope_key):
        the list API reuses a compiled page query between users with the same key. A record type
        whose `visible()` adds a condition of its own (articles: drafts only for their editors)
        adds what that condition depends on."""
        from kehu.accounts.scope import scope_key

        return scope_key(user, self.model)

    def save_form(self, form, user):
        """Save a validated form; record types override this to call their services."""
        return form.save()

    # --- assignment (kehu/core/assignment.py calls these for every owner change) ---------------
    def before_assign(self, obj, old_owner_id, by):
        """Set what an owner change sets on the record itself, before it is saved."""

    def after_assign(self, obj, old_owner_id, by):
        """Move what follows the owner (a customer's contacts), after the record is saved."""

    def assign_notification(self, obj, by) -> tuple[str, str]:
        """(title, body) of the notification the new owner gets."""
        from django.utils.translation import gettext as _

        return (_("%(type)s assigned to you: %(record)s") % {"type": self.label, "record": obj},
                _("%(user)s gave you %(type)s “%(record)s”.") % {"user": by, "type": self.label.lower(), "record": obj})

    def check_delete(self, obj):
        """Raise ValidationError when this record may not be deleted."""

    def extend_api(self, router, out_schema):
        """Add record-specific API endpoints (claim, merge, ...) to the generic router."""

    def get_absolute_url(self, obj):
        from django.urls import reverse

        return reverse(self.url_name("detail"), args=[obj.pk])


class Registry:
    def __init__(self):
        self._types: dict[str, RecordType] = {}

    def register(self, cls: type[RecordType]) -> type[RecordType]:
        rt = cls()
        self._types[rt.key] = rt
        return cls

    def keys(self) -> set[str]:
        return set(self._types)

    def all(self) -> list[RecordType]:
        return list(self._types.values())

    def get(self, key: str) -> RecordType:
        return self._types[key]

    def for_model(self, model) -> RecordType | None:
        label = model._meta.label_lower
        return next((rt for rt in self._types.values() if rt.model._meta.label_lower == label), None)


registry = Registry()
