"""The app registries (kehu/core/registries.py): what apps declare reaches the shared parts, and
core itself imports no business app."""

import ast
import datetime
from dataclasses import replace
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from kehu.accounts.defaults import apply_default_rights
from kehu.accounts.models import Role
from kehu.core import registries, scheduler
from kehu.core.dictionary import seed_dictionary
from kehu.core.models import DictionarySeed, DictItem
from kehu.core.registry import registry
from kehu.core.testing.factories import make_user

BUSINESS_APPS = ("kehu.customers", "kehu.sales", "kehu.activities")
CORE = Path(__file__).resolve().parents[1]


def imported_modules(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]  # from kehu import sales
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            names.append(str(node.args[0].value))
    return names


def test_core_imports_no_business_app():
    """docs/architecture.md: core is shared mechanics; apps plug in through the registries. Its own
    tests (kehu/core/tests) may use business records as test data."""
    offenders = []
    for path in CORE.rglob("*.py"):
        if "tests" in path.relative_to(CORE).parts:
            continue
        for name in imported_modules(ast.parse(path.read_text(), str(path))):
            if name.startswith(BUSINESS_APPS):
                offenders.append(f"{path.relative_to(CORE.parent.parent)}: {name}")
    assert not offenders, offenders


def test_the_scan_sees_every_import_form():
    tree = ast.parse("import kehu.sales.models\nfrom kehu import customers\nfrom kehu.activities.x import y\n"
                     "importlib.import_module('kehu.sales.api')")
    found = [n for n in imported_modules(tree) if n.startswith(BUSINESS_APPS)]
    assert found == ["kehu.sales.models", "kehu.customers", "kehu.activities.x", "kehu.activities.x.y",
                     "kehu.sales.api"]


# --- navigation --------------------------------------------------------------------------------

def role_user(username, rights, scope="all"):
    role = Role.objects.create(code=f"r-{username}", name=username, data_scope=scope, rights=rights)
    user = make_user(username)
    user.roles.add(role)
    return user


@pytest.mark.django_db
def test_a_declared_nav_entry_shows_only_with_its_right(monkeypatch):
    from kehu.ui.context_processors import navigation

    monkeypatch.setitem(registries.nav_entries, "probe", registries.NavEntry(
        "probe", "Probe", "core:notifications", right="probe.view", section="customers", order=15))
    without = role_user("plain", ["customer.view"])
    with_right = role_user("prober", ["customer.view", "probe.view"])
    keys = [i["key"] for i in navigation(without)[0][0]["items"]]
    assert keys == ["customer"]
    keys = [i["key"] for i in navigation(with_right)[0][0]["items"]]
    assert keys == ["customer", "probe"]  # declared order: customer 10, probe 15


@pytest.mark.django_db
def test_record_types_are_in_the_nav_with_their_view_right(org):
    client = Client()
    client.force_login(org.service)  # customer.view, contact.view, followup.view, task.* - no opportunity
    html = client.get("/").content.decode()
    for key in ("customer", "contact", "followup", "task"):
        assert f'data-testid="nav-{key}"' in html, key
    assert 'data-testid="nav-opportunity"' not in html
    assert "/admin/roles/" not in html and "/admin/audit/" not in html
    client.force_login(org.admin)
    html = client.get("/").content.decode()
    for url in ("/admin/users/", "/admin/roles/", "/admin/dictionary/", "/admin/audit/", "/admin/outbox/"):
        assert url in html, url


@pytest.mark.django_db
def test_the_menu_is_written_once_per_language_and_entries(org):
    """ui/base.html's menu comes from the nav_menu tag: kept per language and set of entries, the
    same for every user with the same rights, translated for each language."""
    from django.utils import translation

    from kehu.ui.context_processors import navigation
    from kehu.ui.templatetags.kehu import _nav_html, nav_menu

    nav, admin_nav = navigation(org.admin)
    split = next(s for s in nav if len(s["items"]) > 1)
    _nav_html.clear()
    with translation.override("zh-hans"):
        zh = str(nav_menu({"nav": nav, "admin_nav": admin_nav}))
        assert str(nav_menu({"nav": nav, "admin_nav": admin_nav})) == zh  # from memory the second time
    with translation.override("en"):
        en = str(nav_menu({"nav": nav, "admin_nav": admin_nav}))
    assert len(_nav_html) == 2
    assert "系统管理" in zh and "Administration" in en and "Administration" not in zh
    for section in nav:
        first = section["items"][0]
        assert f'href="{first["url"]}" data-testid="nav-{first["key"]}"' in en
        for item in section["items"][1:]:
            assert f'href="{item["url"]}" data-testid="nav-{item["key"]}"' in en
    assert f'data-testid="navsec-{split["key"]}"' in en and 'class="nav-item dropdown nav-split"' in en
    for item in admin_nav:
        assert f'<a class="dropdown-item" href="{item["url"]}">' in en
    # a user with fewer rights gets the menu of their own entries
    service_nav, service_admin = navigation(org.service)
    with translation.override("en"):
        service = str(nav_menu({"nav": service_nav, "admin_nav": service_admin}))
    assert 'data-testid="nav-customer"' in service and 'data-testid="nav-opportunity"' not in service
    assert "/admin/roles/" not in service and len(_nav_html) == 3


# --- bulk actions ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_bulk_bar_offers_exactly_the_declared_actions(org, monkeypatch):
    from kehu.customers.testing import make_contact, make_customer

    rt = registry.get("contact")
    contact = make_contact(make_customer(org.admin), "王芳")
    client = Client()
    client.force_login(org.admin)
    html = client.get("/contacts/").content.decode()
    assert '<option value="tag">' in html and '<option value="delete">' in html

    monkeypatch.setattr(rt, "bulk_actions", ["delete"])
    html = client.get("/contacts/").content.decode()
    assert '<option value="tag">' not in html and '<option value="delete">' in html
    response = client.post("/contacts/bulk/", {"action": "tag", "pk": [contact.pk], "value": "x"})
    assert response.status_code == 404  # not declared: refused, also when the user has the right
    assert contact.tags == []


@pytest.mark.django_db
def test_customer_bulk_actions_follow_rights_and_tabs(org):
    client = Client()
    client.force_login(org.manager)  # no customer.assign, no customer.delete
    html = client.get("/customers/").content.decode()
    assert '<option value="release">' in html and '<option value="claim">' not in html
    assert '<option value="transfer">' not in html and '<option value="delete">' not in html
    html = client.get("/customers/?tab=pool").content.decode()
    assert '<option value="claim">' in html and '<option value="release">' not in html
    client.force_login(org.supervisor)
    html = client.get("/customers/").content.decode()
    assert '<option value="transfer">' in html and 'data-testid="bulk-owner"' in html


# --- the data dictionary -----------------------------------------------------------------------

@pytest.mark.django_db
def test_the_declared_dictionary_is_what_the_migrations_seeded():
    assert seed_dictionary() == 0
    declared = {(k.kind, code) for k in registries.dictionary_kinds.values() for code, _l, _e in k.seeds}
    assert declared == set(DictItem.objects.values_list("kind", "code"))
    assert DictItem.objects.get(kind="customer_type", code="won").builtin
    assert DictItem.objects.get(kind="industry", code="other").builtin
    assert not DictItem.objects.get(kind="industry", code="it").builtin


@pytest.mark.django_db
def test_dictionary_seeds_are_created_once(monkeypatch):
    monkeypatch.setitem(registries.dictionary_kinds, "probe", registries.DictionaryKind(
        "probe", "Probe", [("a", "甲", "A"), ("b", "乙", "B"), ("other", "其他", "Other")], builtin={"other"}))
    assert seed_dictionary() == 3
    assert seed_dictionary() == 0  # idempotent
    items = {i.code: i for i in DictItem.objects.filter(kind="probe")}
    assert [items[c].order for c in "ab"] == [10, 20] and items["other"].builtin and not items["a"].builtin

    # the administrator's changes stay: a deactivated value stays inactive, a deleted one deleted
    DictItem.objects.filter(kind="probe", code="a").update(active=False, label="改过")
    DictItem.objects.filter(kind="probe", code="b").delete()
    assert seed_dictionary() == 0
    assert DictItem.objects.get(kind="probe", code="a").label == "改过"
    assert not DictItem.objects.get(kind="probe", code="a").active
    assert not DictItem.objects.filter(kind="probe", code="b").exists()

    # a value added to the declaration later is created by the next migrate
    kind = registries.dictionary_kinds["probe"]
    monkeypatch.setitem(registries.dictionary_kinds, "probe", replace(kind, seeds=kind.seeds + [("c", "丙", "C")]))
    assert seed_dictionary() == 1
    assert DictionarySeed.objects.filter(kind="probe").count() == 4


@pytest.mark.django_db
def test_the_dictionary_form_offers_the_declared_kinds(monkeypatch):
    from kehu.core.records import DictItemForm

    monkeypatch.setitem(registries.dictionary_kinds, "probe", registries.DictionaryKind("probe", "Probe"))
    kinds = [k for k, _label in DictItemForm().fields["kind"].choices]
    assert "probe" in kinds and "industry" in kinds and "lost_reason" in kinds


# --- default rights ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_declared_default_rights_are_what_the_migrations_gave():
    assert apply_default_rights() == {}
    supervisor = Role.objects.get(code="supervisor")
    assert set(supervisor.defaults_applied) <= set(supervisor.rights)
    assert {"customer.assign", "pool.assign", "opportunity.delete", "task.assign"} <= set(supervisor.rights)


@pytest.mark.django_db
def test_default_rights_are_given_once(monkeypatch):
    monkeypatch.setitem(registries.role_defaults, "service", registries.role_defaults["service"] + ["probe.*"])
    assert apply_default_rights() == {"service": [f"probe.{a}" for a in
                                                  ("view", "create", "edit", "delete", "export", "assign")]}
    role = Role.objects.get(code="service")
    assert "probe.edit" in role.rights
    assert apply_default_rights() == {}

    # the administrator takes one away and adds another: neither is undone
    role.rights = [r for r in role.rights if r != "probe.edit"] + ["customer.edit"]
    role.save()
    assert apply_default_rights() == {}
    role.refresh_from_db()
    assert "probe.edit" not in role.rights and "customer.edit" in role.rights


@pytest.mark.django_db
def test_default_rights_of_a_missing_role_are_ignored(monkeypatch):
    monkeypatch.setitem(registries.role_defaults, "no-such-role", ["customer.view"])
    assert apply_default_rights() == {}


def test_declared_rights_modules_are_rights():
    from kehu.accounts.rights import all_modules

    modules = all_modules()
    assert {"audit", "outbox", "pool", "customer", "dictitem"} <= set(modules)


def test_every_business_list_search_has_an_index():
    """A business record type (a KehuModel: customers' data, which grows with the company) searches
    its list through an index (`search_indexed`, kehu/core/search.py) or a search of its own: a plain
    `icontains` walks the whole table in the list's order for a rare term. The campaign members'
    search had none and took 0.4-0.9 s at 500,000 members; the bench's data set had no members, so
    nothing measured it. The settings tables (users, stages, the dictionary...) stay small."""
    from kehu.core.filters import KehuFilterSet

    unindexed = []
    for rt in registry.all():
        fs = rt.filterset
        if fs is None or not rt.is_kehu_model or not getattr(fs, "search_fields", None):
            continue
        if not rt.model.__module__.startswith("kehu."):  # the test suite's own toy types
            continue
        if not getattr(fs, "search_indexed", False) and fs.search is KehuFilterSet.search:
            unindexed.append(rt.key)
    assert unindexed == []


# --- header search -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_header_search_asks_the_providers_the_user_has_the_right_for(org, monkeypatch):
    asked = []

    def results(user, q):
        asked.append((user.username, q))
        return []

    monkeypatch.setitem(registries.search_providers, "probe", registries.SearchProvider(
        "probe", "Probe", "probe.view", results, "customers/search_contacts.html", order=5))
    client = Client()
    client.force_login(org.manager)
    assert client.get("/search/", {"q": "王"}).status_code == 200
    assert asked == []
    prober = role_user("prober", ["customer.view", "probe.view"])
    client.force_login(prober)
    html = client.get("/search/", {"q": "王"}).content.decode()
    assert asked == [("prober", "王")] and 'data-testid="search-customers"' in html
    assert 'data-testid="header-search"' in html

    nobody = role_user("nobody2", [])
    client.force_login(nobody)
    assert 'data-testid="header-search"' not in client.get("/").content.decode()  # nothing to search


# --- My day panels -----------------------------------------------------------------------------

@pytest.mark.django_db
def test_home_shows_the_declared_panels_the_user_has_the_right_for(org, monkeypatch):
    def build(request, ctx):
        ctx["notes"] = []
        return "ui/home_notifications.html"

    monkeypatch.setitem(registries.home_panels, "probe", registries.HomePanel(
        "probe", "Probe", "probe.view", build, column="side", order=1))
    client = Client()
    client.force_login(org.service)
    html = client.get("/").content.decode()
    assert 'hx-get="/?panel=probe"' not in html and 'hx-get="/?panel=tasks"' in html
    assert 'hx-get="/?panel=opportunities"' not in html  # no opportunity.view
    assert client.get("/?panel=probe").status_code == 404
    assert client.get("/?panel=opportunities").status_code == 404
    prober = role_user("prober", ["probe.view"])
    client.force_login(prober)
    html = client.get("/").content.decode()
    assert 'hx-get="/?panel=probe"' in html and 'hx-get="/?panel=tasks"' not in html
    assert client.get("/?panel=probe").status_code == 200
    assert 'data-testid="home-add-task"' not in html


# --- reminders and jobs ------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_declared_reminder_kind_is_sent_once(org, monkeypatch):
    from kehu.activities.models import Reminder
    from kehu.activities.services import run_reminders
    from kehu.core.models import Notification

    due_at = timezone.now() - datetime.timedelta(minutes=5)
    thing = org.hq  # any record: here a department

    def produce(now, ledger):
        if (thing.pk, due_at, org.manager.pk) in ledger.sent_keys("probe", type(thing), [thing.pk]):
            return []
        return [registries.Due("probe", thing, due_at, org.manager, "Probe due")]

    monkeypatch.setitem(registries.reminder_kinds, "probe", registries.ReminderKind("probe", "Probe", produce))
    assert run_reminders()["sent"] == 1
    assert run_reminders()["sent"] == 0
    assert Reminder.objects.filter(kind="probe").count() == 1
    assert Notification.objects.filter(user=org.manager, title="Probe due").count() == 1


class FakeTask:
    def __init__(self, name):
        self.name = name
        self.calls = []

    def call(self, now):
        self.calls.append(now)
        return {"ok": len(self.calls)}


@pytest.mark.django_db
def test_declared_jobs_run_on_schedule(monkeypatch):
    every, daily = FakeTask("probe_every"), FakeTask("probe_daily")
    monkeypatch.setattr(registries, "jobs", {})
    registries.job(every)
    registries.job(daily, daily_at=lambda: 6)
    start = timezone.localtime().replace(hour=5, minute=59, second=0, microsecond=0)

    assert scheduler.run_due_jobs(start, execute=True) == {"probe_every": {"ok": 1}}  # before 6: not yet
    out = scheduler.run_due_jobs(start + datetime.timedelta(minutes=1), execute=True)
    assert out == {"probe_every": {"ok": 2}, "probe_daily": {"ok": 1}}
    for minutes in (2, 60, 17 * 60):  # the rest of the day: once is enough
        assert "probe_daily" not in scheduler.run_due_jobs(start + datetime.timedelta(minutes=minutes), execute=True)
    assert len(every.calls) == 5
    next_day = start + datetime.timedelta(days=1, minutes=1)
    assert "probe_daily" in scheduler.run_due_jobs(next_day, execute=True)
    assert len(daily.calls) == 2
    assert scheduler.JobRun.objects.get(name="probe_daily").last_run_at == next_day


def test_the_apps_declare_their_jobs():
    assert {"send_reminders", "cleanup_exports", "pool_sweep"} <= set(registries.jobs)
    assert registries.jobs["send_reminders"].hour() is None
    assert registries.jobs["pool_sweep"].hour() is not None


def test_the_system_check_names_a_wrong_declaration(monkeypatch):
    from kehu.core.checks import check_declarations
    from kehu.core.registry import BulkAction

    assert check_declarations() == []
    monkeypatch.setattr(registry.get("task"), "nav_section", "nowhere")
    monkeypatch.setattr(registry.get("contact"), "bulk_actions", ["delete", BulkAction("x", "X", "edit", "bulk_x")])
    assert sorted(e.id for e in check_declarations()) == ["kehu.E010", "kehu.E011"]
