"""App registries: what each app adds to the shared parts of Kehu, declared by the app itself.

Core knows no business app. An app (or a record type) declares what it contributes, and core's
mechanics read the declarations: the navigation, the data dictionary's lists and their seed values,
the default rights of the built-in roles, rights modules that are not record types, the header
search, the My day panels, reminder kinds and scheduled jobs.

Declarations live in `kehu/<app>/registrations.py`. Core imports that module of every installed
app once, when Django is ready (`autodiscover()`, called by `kehu.core.apps.CoreConfig.ready`),
as Django's admin does with `admin.py`:

    # kehu/service/registrations.py
    from django.utils.translation import gettext_lazy as _
    from kehu.core import registries as r

    r.nav_section("service", _("Service"), order=40)
    r.dictionary_kind("ticket_channel", _("Ticket channel"), seeds=[("phone", "电话", "Phone")])
    r.default_rights({"service": ["ticket.*"], "supervisor": ["ticket.view"]})
    r.job(tasks.close_stale_tickets, daily_at=3)

Record types declare their own navigation entry (`nav_section`, `nav_order`) and bulk actions
(`bulk_actions`) as attributes (kehu/core/registry.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import autodiscover_modules

# --- navigation ------------------------------------------------------------------------------


@dataclass
class NavSection:
    key: str
    label: Any
    order: int = 100


@dataclass
class NavEntry:
    """A navigation entry that is not a record type's list (the audit log, the outbox)."""

    key: str
    label: Any
    url_name: str
    right: str  # "audit.view": shown only to users holding it
    section: str = "admin"
    icon: str = "ti-point"
    order: int = 100


ADMIN = "admin"  # the Administration menu
nav_sections: dict[str, NavSection] = {ADMIN: NavSection(ADMIN, "", order=1000)}
nav_entries: dict[str, NavEntry] = {}


def nav_section(key: str, label, *, order: int = 100) -> None:
    nav_sections[key] = NavSection(key, label, order)


def nav_entry(key: str, label, url_name: str, *, right: str, section: str = ADMIN, icon: str = "ti-point",
              order: int = 100) -> None:
    nav_entries[key] = NavEntry(key, label, url_name, right, section, icon, order)


# --- data dictionary -------------------------------------------------------------------------


@dataclass
class DictionaryKind:
    kind: str
    label: Any
    # (code, label (Chinese), label (English)); created by the post_migrate handler when missing
    seeds: list[tuple[str, str, str]] = field(default_factory=list)
    builtin: set[str] | bool = False  # True: every seed is built in; a set: these codes are


dictionary_kinds: dict[str, DictionaryKind] = {}


def dictionary_kind(kind: str, label, *, seeds: Iterable[tuple[str, str, str]] = (),
                    builtin: set[str] | bool = False) -> None:
    dictionary_kinds[kind] = DictionaryKind(kind, label, list(seeds), builtin)


def dictionary_kind_choices() -> list[tuple[str, Any]]:
    return [(k.kind, k.label) for k in dictionary_kinds.values()]


# --- rights ----------------------------------------------------------------------------------

right_modules: dict[str, Any] = {}  # rights modules that are not record types: {"audit": _("Audit log")}
role_defaults: dict[str, list[str]] = {}  # built-in role code -> rights ("customer.*", "pool.view")


def rights_module(module: str, label) -> None:
    right_modules[module] = label


def default_rights(per_role: dict[str, Iterable[str]]) -> None:
    """Rights the built-in roles get once (kehu.accounts.defaults applies them after migrate)."""
    for role, rights in per_role.items():
        current = role_defaults.setdefault(role, [])
        current.extend(r for r in rights if r not in current)


# --- header search ---------------------------------------------------------------------------


@dataclass
class SearchProvider:
    """One block of the header search's results page (`/search/?q=`)."""

    key: str
    label: Any
    right: str  # "customer.view"
    results: Callable[[Any, str], list]  # (user, term) -> at most ~25 rows
    template: str  # renders `rows`, `q`, `provider` as one card (col-* div included)
    placeholder: Any = ""  # the header field's placeholder, taken from the first provider that has one
    order: int = 100


search_providers: dict[str, SearchProvider] = {}


def search_provider(key: str, label, *, right: str, results, template: str, placeholder="",
                    order: int = 100) -> None:
    search_providers[key] = SearchProvider(key, label, right, results, template, placeholder, order)


def search_providers_for(user) -> list[SearchProvider]:
    return sorted((p for p in search_providers.values() if _holds(user, p.right)), key=lambda p: p.order)


# --- My day panels ---------------------------------------------------------------------------


@dataclass
class HomePanel:
    """A panel of the home page, loaded as its own fragment (`/?panel=<key>`).

    `build(request, ctx)` fills ctx and returns the template, or None when there is nothing to show
    (the fragment is then a 404 and the placeholder disappears)."""

    key: str
    title: Any
    right: str  # "" = every signed-in user
    build: Callable[[Any, dict], str | None]
    column: str = "main"  # "main" (wide) or "side"
    icon: str = "ti-point"
    rows: str = "x"  # the placeholder's size: "x" small, "xx" larger
    order: int = 100
    placeholder: bool = True  # False: nothing is drawn before it loads (a warning that is mostly empty)


home_panels: dict[str, HomePanel] = {}


def home_panel(key: str, title, *, right: str, build, column: str = "main", icon: str = "ti-point",
               rows: str = "x", order: int = 100, placeholder: bool = True) -> None:
    home_panels[key] = HomePanel(key, title, right, build, column, icon, rows, order, placeholder)


def home_panels_for(user) -> list[HomePanel]:
    return sorted((p for p in home_panels.values() if _holds(user, p.right)), key=lambda p: p.order)


@dataclass
class HomeAction:
    """A button in the home page's header ("Log follow-up")."""

    key: str
    label: Any
    url_name: str
    right: str
    icon: str = "ti-plus"
    primary: bool = False
    order: int = 100


home_actions: dict[str, HomeAction] = {}


def home_action(key: str, label, url_name: str, *, right: str, icon: str = "ti-plus", primary: bool = False,
                order: int = 100) -> None:
    home_actions[key] = HomeAction(key, label, url_name, right, icon, primary, order)


def home_actions_for(user) -> list[HomeAction]:
    return sorted((a for a in home_actions.values() if _holds(user, a.right)), key=lambda a: a.order)


# --- reminders and scheduled jobs ------------------------------------------------------------


@dataclass
class ReminderKind:
    """A kind of reminder: `produce(now, finished)` returns the reminders due now (a list of
    kehu.core.registries.Due); `finished(kind, model, user_field, due_field)` is an Exists() that
    is true when that reminder was already sent, to exclude them in the query."""

    kind: str
    label: Any
    produce: Callable[..., list]
    order: int = 100


@dataclass
class Due:
    kind: str
    obj: object
    due_at: Any
    user: object
    title: str
    body: str = ""
    url: str = ""


reminder_kinds: dict[str, ReminderKind] = {}


def reminder_kind(kind: str, label, *, produce, order: int = 100) -> None:
    reminder_kinds[kind] = ReminderKind(kind, label, produce, order)


@dataclass
class Job:
    """A periodic job run by core's scheduler (kehu/core/scheduler.py) inside `kehu worker`.

    `task` is a django-tasks task called with the time as an ISO string; `daily_at` an hour
    (local time) or a callable returning it: None runs the job every minute."""

    task: Any
    daily_at: int | Callable[[], int] | None = None

    @property
    def name(self) -> str:
        return self.task.name

    def hour(self) -> int | None:
        return self.daily_at() if callable(self.daily_at) else self.daily_at


jobs: dict[str, Job] = {}


def job(task, *, daily_at: int | Callable[[], int] | None = None) -> None:
    j = Job(task, daily_at)
    jobs[j.name] = j


# --- what one app adds to another's record type ------------------------------------------------


extra_relations: dict[str, list] = {}


def relation(record_type: str, rel) -> None:
    """A delete/merge rule (kehu/core/relations.py: Protect, Cascade) of another app's record type:
    `r.relation("customer", Protect("orders", message=…))` — a customer with orders is not deleted."""
    extra_relations.setdefault(record_type, []).append(rel)


extra_actions: dict[str, list] = {}


def record_action(record_type: str, action) -> None:
    """An action (kehu/core/actions.py) on another app's record type: the orders app offers "Make an
    order" on a won opportunity. Added to the record type once every app's records are registered
    (`apply_record_actions`, from CoreConfig.ready), so the page and the API offer it like its own."""
    extra_actions.setdefault(record_type, []).append(action)


def apply_record_actions() -> None:
    from .registry import registry

    for key, added in extra_actions.items():
        rt = registry.get(key)
        names = {a.name for a in rt.actions}
        rt.actions = (*rt.actions, *(a for a in added if a.name not in names))
    for key, added in extra_bulk_actions.items():
        rt = registry.get(key)
        declared = list(rt.bulk_actions if rt.bulk_actions is not None else rt.get_bulk_actions())
        names = {a if isinstance(a, str) else a.name for a in declared}
        rt.bulk_actions = [*declared, *(a for a in added if a.name not in names)]


extra_bulk_actions: dict[str, list] = {}


def bulk_action(record_type: str, action) -> None:
    """A bulk action (kehu.core.registry.BulkAction) on another app's list, its `handler` a function
    `(view, objs, data)` rather than a method of the list's bulk view: the campaigns app offers "Add to
    campaign…" on the customer list. Added with the record actions (`apply_record_actions`)."""
    extra_bulk_actions.setdefault(record_type, []).append(action)


@dataclass
class DetailTab:
    """A tab on a record's detail page listing the related records of another record type (a
    customer's orders): loaded on its own, through that record type's data scope."""

    key: str
    label: Any
    record_type: str  # whose detail page: "customer"
    related: str  # the record type listed: "order"
    field: str  # its foreign key to the record: "customer"
    order: int = 100
    limit: int = 50

    @property
    def right(self) -> str:
        return f"{self.related}.view"


detail_tabs: dict[str, list[DetailTab]] = {}


def detail_tab(record_type: str, key: str, label, *, related: str, field: str, order: int = 100) -> None:
    """`r.detail_tab("customer", "orders", _("Orders"), related="order", field="customer")`."""
    tabs = detail_tabs.setdefault(record_type, [])
    if any(t.key == key for t in tabs):
        raise ValueError(f"detail tab {record_type}/{key} is declared twice")
    tabs.append(DetailTab(key, label, record_type, related, field, order))
    tabs.sort(key=lambda t: t.order)


def detail_tabs_for(record_type: str, user) -> list[DetailTab]:
    from .registry import registry

    return [t for t in detail_tabs.get(record_type, ())
            if t.related in registry.keys() and user.has_right(registry.get(t.related).module, "view")]


# ---------------------------------------------------------------------------------------------


def _holds(user, right: str) -> bool:
    """The user holds `right` ("module.action"); an empty right: every signed-in user."""
    if not right:
        return True
    module, _sep, action = right.partition(".")
    return user.has_right(module, action or "view")


def autodiscover() -> None:
    """Import `registrations` of every installed app (once; Django's module cache keeps it)."""
    autodiscover_modules("registrations")
