"""公海规则: idle customers are warned, then go back to the public pool."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.core.models import Notification
from kehu.customers import services
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer


def idle(customer, days, now):
    Customer.objects.filter(pk=customer.pk).update(last_activity_at=now - datetime.timedelta(days=days))


def test_sweep_warns_first_then_returns_to_the_pool(org, settings, django_capture_on_commit_callbacks):
    settings.KEHU_POOL_IDLE_DAYS, settings.KEHU_POOL_WARN_DAYS = 30, 3
    now = timezone.now()
    fresh = make_customer(org.manager, name="活跃客户有限公司")
    soon = make_customer(org.manager, name="将要退回有限公司")
    gone = make_customer(org.manager, name="长期未跟进有限公司")
    idle(fresh, 5, now)
    idle(soon, 28, now)
    idle(gone, 31, now)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.pool_sweep(now)
    assert result == {"returned": 1, "warned": 1}
    gone.refresh_from_db()
    soon.refresh_from_db()
    fresh.refresh_from_db()
    assert gone.owner is None and gone.pool_entered_at is not None
    assert soon.owner == org.manager and soon.pool_warned_at is not None
    assert fresh.owner == org.manager and fresh.pool_warned_at is None
    # both are in the customers' history
    assert any("owner" in e.changes_dict for e in LogEntry.objects.get_for_object(gone))
    assert any("pool_warning" in e.changes_dict for e in LogEntry.objects.get_for_object(soon))
    titles = list(Notification.objects.filter(user=org.manager).values_list("title", flat=True))
    assert any("将要退回有限公司" in t for t in titles) and any("长期未跟进有限公司" in t for t in titles)
    assert len(mail.outbox) == 2
    # a second run the same day warns nobody twice and returns nothing more
    with django_capture_on_commit_callbacks(execute=True):
        assert services.pool_sweep(now + datetime.timedelta(hours=1)) == {"returned": 0, "warned": 0}
    assert len(mail.outbox) == 2
    # three days later the warned customer goes back too
    assert services.pool_sweep(now + datetime.timedelta(days=3))["returned"] == 1
    soon.refresh_from_db()
    assert soon.owner is None


def test_claim_and_activity_restart_the_clock(org, settings):
    settings.KEHU_POOL_IDLE_DAYS, settings.KEHU_POOL_WARN_DAYS = 30, 3
    now = timezone.now()
    customer = make_customer(None, name="公海里的客户有限公司")
    Customer.objects.filter(pk=customer.pk).update(last_activity_at=now - datetime.timedelta(days=90))
    services.claim(customer, org.manager)
    customer.refresh_from_db()
    assert customer.last_activity_at > now - datetime.timedelta(minutes=1)
    assert services.pool_sweep(now) == {"returned": 0, "warned": 0}
    idle(customer, 29, now)
    assert list(services.pool_candidates(org.manager, now)) == [customer]
    services.touch(customer.pk, now)
    assert list(services.pool_candidates(org.manager, now)) == []
    services.touch(customer.pk, now - datetime.timedelta(days=10))  # never moves backwards
    customer.refresh_from_db()
    assert customer.last_activity_at == now


def test_search_index_follows_renames_and_deletes(org):
    """The SQLite FTS5 index (triggers) and the PostgreSQL trigram index both track changes."""
    from kehu.customers.forms import CustomerFilterSet

    def found(term):
        return list(CustomerFilterSet({"q": term}, queryset=Customer.objects.all()).qs)

    customer = make_customer(org.manager, name="杭州西湖茶叶有限公司")
    assert found("hzxh") == [customer] and found("西湖茶") == [customer]
    customer.name = "宁波港口物流有限公司"
    customer.save()
    assert found("西湖茶") == [] and found("nbgk") == [customer]
    Customer.all_objects.filter(pk=customer.pk).delete()
    assert found("nbgk") == []


def test_search_plans_rare_and_common_terms_alike(org, monkeypatch):
    """Both paths of the adaptive search (ids from the index, or the plain LIKE) find the same rows."""
    from kehu.customers import forms

    made = [make_customer(org.manager, name=f"苏州工业园区{n}号精密机械有限公司") for n in range(4)]
    other = make_customer(org.manager, name="无锡纺织有限公司")
    quoted = make_customer(org.manager, name='引号"测试"*星号公司')

    def found(term):
        return set(forms.CustomerFilterSet({"q": term}, queryset=Customer.objects.all()).qs)

    for probe in (1000, 2):  # rare (below the probe) and common (at the probe) paths
        monkeypatch.setattr(forms, "SEARCH_PROBE", probe)
        assert found("szgy") == set(made)
        assert found("精密机") == set(made)
        assert found("wxfz") == {other}
        assert found("100%") == set()
        # the index's query syntax is not the user's: quotes, stars and brackets are plain text
        assert found('"号精') == set() and found("*号精") == set() and found("[号]") == set()
        assert found('"测试"*') == {quoted}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_postgres_skips_the_probe_for_terms_its_statistics_call_common(org):
    """A term in many rows (per ANALYZE) goes straight to the id-ordered LIKE; a rare one is probed."""
    from kehu.customers import forms
    from kehu.customers.normalize import search_text

    rows = []
    for n in range(3000):  # enough rows for a full statistics histogram
        name = f"成都{n}号精密机械有限公司" if n % 3 == 0 else f"杭州{n}号纺织贸易有限公司"
        rows.append(Customer(name=name, owner=org.manager, number=f"T{n}",
                             search_text=search_text(f"T{n}", name, "", "", [])))
    Customer.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    assert forms._pg_estimated_share("% 成都 %") > forms.SEARCH_COMMON_SHARE
    assert forms._pg_estimated_share("%zzzz-nothing%") < forms.SEARCH_COMMON_SHARE
    with CaptureQueriesContext(connection) as again:  # kept a minute per process: it only chooses a plan
        assert forms._pg_estimated_share("% 成都 %") > forms.SEARCH_COMMON_SHARE
    assert not again.captured_queries

    def search(term):
        with CaptureQueriesContext(connection) as ctx:
            rows = list(forms.CustomerFilterSet({"q": term}, queryset=Customer.objects.all()).qs)
        probes = [q for q in ctx.captured_queries if f"LIMIT {forms.SEARCH_PROBE}" in q["sql"]]
        return rows, probes

    rows, probes = search("成都")
    assert len(rows) == 1000 and not probes
    rows, probes = search("zzzz-nothing")
    assert rows == [] and len(probes) == 1


@pytest.mark.django_db
def test_the_public_pools_page_is_read_from_its_own_index(org):
    """The pool newest first: its customers are older than most (a new customer gets an owner), so
    walking the primary key met a page of them only after 17,000 owned customers (24 ms at 1M on
    PostgreSQL), since (owner, id) gives no id order for `owner IS NULL` there. Its own partial index
    (cust_pool_id_idx) reads the page directly. SQLite takes `IS NULL` as an equality and reads
    (owner, id) in id order already."""
    from kehu.core.filters import list_queryset
    from kehu.core.registry import registry
    from kehu.core.testing.plans import plan

    pooled = make_customer(org.manager, name="公海里的客户")
    Customer.objects.filter(pk=pooled.pk).update(owner=None)
    make_customer(org.manager, name="有主的客户")
    _fs, qs = list_queryset(registry.get("customer"), org.admin, {"pool": "true"})
    page = qs.select_related(None).order_by("-id")[:51]
    assert list(page.values_list("name", flat=True)) == ["公海里的客户"]
    text = plan(page.values("id"))
    indexes = ("cust_pool_id_idx",) if connection.vendor == "postgresql" else ("cust_pool_id_idx", "cust_owner_id_idx")
    assert any(index in text for index in indexes), text
    assert "TEMP B-TREE" not in text and "Sort" not in text.replace("Sort Key", ""), text


@pytest.mark.django_db
def test_a_filtered_page_is_read_from_the_filters_index_when_the_newest_rows_do_not_match(org):
    """A type the newest customers rarely have (a third of the table, all of it old): walking the
    primary key newest first tests every newer row before the first match, which the planner takes
    for a short walk (it assumes matches spread evenly; 17,000 rows, 24 ms at 1M on PostgreSQL). The
    filter's (type, id) index with the owner beside the key gives a rep's page directly: the HTML
    list reads its ids from it, and on PostgreSQL the list API's one statement reads the ids first
    too (kehu.core.pagination._value_rows)."""
    from kehu.core.api import list_columns
    from kehu.core.filters import list_queryset
    from kehu.core.models import DictItem
    from kehu.core.pagination import paginate
    from kehu.core.registry import registry
    from kehu.core.testing.plans import plan

    old, new = DictItem.objects.filter(kind="customer_type").order_by("id")[:2]
    Customer.objects.bulk_create([Customer(name=f"老客户{n}", number=f"O{n:05d}", type=old, owner=org.manager)
                                  for n in range(1000)])
    Customer.objects.bulk_create([Customer(name=f"新客户{n}", number=f"N{n:05d}", type=new,
                                           owner=org.manager if n % 2 else org.supervisor) for n in range(2000)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    rt = registry.get("customer")
    _fs, qs = list_queryset(rt, org.manager, {"type": str(old.pk)})
    with CaptureQueriesContext(connection) as ctx:
        page = paginate(qs.select_related(None).prefetch_related(None), sort="-id", cursor=None, size=50,
                        values=list_columns(rt))
    assert [row["name"] for row in page.items] == [f"老客户{n}" for n in range(999, 949, -1)]
    (sql,) = [q["sql"] for q in ctx.captured_queries if "customers_customer" in q["sql"] and "LIMIT" in q["sql"]]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN " + sql)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
        text = "\n".join(str(row[-1]) for row in cursor.fetchall())
    assert "cust_type_id_idx" in text, text
    if connection.vendor == "postgresql":  # the ids from the index alone, whatever the walk would cost
        assert "Index Only Scan Backward using cust_type_id_idx" in text, text
    # the HTML list's ids (model instances: kehu.core.pagination._instance_rows)
    ids = qs.select_related(None).order_by("-id").values("id")[:51]
    assert "cust_type_id_idx" in plan(ids)
