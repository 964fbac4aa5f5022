"""The indexed list search (kehu/core/search.py) finds exactly what a plain `icontains` finds, for
every record type that declares `search_indexed`, on SQLite (FTS5 tables kept by triggers) and on
PostgreSQL (trigram indexes); a rare term is read through the index, never by walking the list."""

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.activities.models import FollowUp, Task
from kehu.activities.testing import make_followup
from kehu.core import memo, search
from kehu.core.filters import list_queryset
from kehu.core.registry import registry
from kehu.core.testing.factories import make_org
from kehu.customers.testing import make_customer
from kehu.sales.models import Opportunity, PlanStep
from kehu.sales.testing import make_opportunity

pytestmark = pytest.mark.django_db

TERMS = ["华东区", "东区", "zz9", "Zz9", "龘龘龘", "50%", "a_b", "客户回访"]


def indexed_types():
    return [rt for rt in registry.all() if rt.filterset is not None and getattr(rt.filterset, "search_indexed", False)]


def plain(rt, user, term):
    condition = Q()
    for field in rt.filterset.search_fields:
        condition |= Q(**{f"{field}__icontains": term})
    return set(rt.visible(user).filter(condition).values_list("pk", flat=True))


@pytest.fixture
def data():
    o = make_org()
    customer = make_customer(o.manager, name="华东区客户回访中心")
    other = make_customer(o.manager, name="西北贸易")
    opp = make_opportunity(o.manager, customer=customer, title="ZZ9 项目")
    make_opportunity(o.manager, customer=other, title="年度采购 50% 折扣")
    PlanStep.objects.create(opportunity=opp, action="华东区拜访", result="a_b 结果", planned_on=timezone.localdate(),
                            responsible=o.manager, owner=o.manager)
    make_followup(customer, topic="客户回访", content="约定下周到华东区")
    gone = make_followup(other, topic="zz9 已删除")
    gone.deleted_at = timezone.now()
    gone.save()
    Task.objects.create(title="准备 ZZ9 方案", description="华东区", owner=o.manager, created_by=o.manager,
                        customer=customer, due_at=timezone.now())
    # the orders app's documents: numbers, titles, references and their customer's name
    from kehu.orders import payments
    from kehu.orders.contract_testing import make_contract
    from kehu.orders.testing import make_order, make_quotation

    make_quotation(o.manager, customer=customer, title="ZZ9 报价")
    order = make_order(o.manager, customer=other, title="华东区 50% 预付")
    make_order(o.manager2, title="a_b 订单")
    make_contract(o.manager, customer=other, title="客户回访服务合同")
    payments.record_payment(order, "100", o.manager, reference="zz9-东区")
    payments.request_invoice(order, "100", "0", "ordinary", o.manager, title="华东区 a_b 抬头")
    return o


def test_every_indexed_type_finds_what_icontains_finds(data):
    types = indexed_types()
    assert {rt.key for rt in types} >= {"opportunity", "planstep", "followup", "task", "quotation", "order",
                                        "contract", "payment", "invoice"}
    found_any = False
    for rt in types:
        for user in (data.admin, data.manager, data.manager2):
            for term in TERMS:
                _fs, qs = list_queryset(rt, user, {"q": term})
                got = set(qs.values_list("pk", flat=True))
                assert got == plain(rt, user, term), (rt.key, user.username, term)
                found_any |= bool(got)
    assert found_any


def test_rare_term_is_read_through_the_index(data):
    rt = registry.get("followup")
    with CaptureQueriesContext(connection) as ctx:
        _fs, qs = list_queryset(rt, data.admin, {"q": "客户回访"})
        ids = list(qs.values_list("pk", flat=True))
    assert len(ids) == 1
    marker = "activities_followup_fts MATCH" if connection.vendor == "sqlite" else "LIKE UPPER"
    assert any(marker in q["sql"] for q in ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]
    page_sql = ctx.captured_queries[-1]["sql"]
    assert "LIKE" not in page_sql.upper(), page_sql  # the page filters by the probe's ids


def test_a_long_number_is_found_by_its_pieces_and_tested_whole(data):
    """A record's number or a phone (kehu/core/search.py index_pieces): on PostgreSQL the probe asks
    the trigram index for its first and last four characters and tests the whole term on each
    candidate. Found exactly as icontains finds it: a row with both pieces but not the term stays out."""
    customer = make_customer(data.manager, name="编号测试客户")
    wanted = [make_followup(customer, topic="回访", content="客户编号 KH202612079999005078，电话 13912345678"),
              make_followup(customer, topic="kh202612079999005078 复核")]
    make_followup(customer, topic="回访", content="KH20 开头，5078 结尾，13910005678")  # both pieces, not the term
    rt = registry.get("followup")
    for term, expected in (("KH202612079999005078", {f.pk for f in wanted}), ("13912345678", {wanted[0].pk})):
        with CaptureQueriesContext(connection) as ctx:
            _fs, qs = list_queryset(rt, data.admin, {"q": term})
            got = set(qs.values_list("pk", flat=True))
        assert got == expected == plain(rt, data.admin, term), term
        if connection.vendor == "postgresql":
            probe = [q["sql"].lower() for q in ctx.captured_queries if "LIMIT" in q["sql"] and "LIKE UPPER" in q["sql"]]
            assert probe, [q["sql"] for q in ctx.captured_queries]
            for piece in (term[:4].lower(), term[-4:]):  # the pieces as values the planner does not read (OPAQUE)
                assert f"like upper((select '%{piece}%'::text))" in probe[0], probe[0]
            assert f"|| '') like upper('%{term.lower()}%')" in probe[0], probe[0]


def test_index_follows_edits_and_deletes(data):
    rt = registry.get("task")
    task = Task.objects.get(title="准备 ZZ9 方案")
    task.title = "改名后的任务 QQ7"
    task.save()
    assert set(list_queryset(rt, data.admin, {"q": "QQ7"})[1].values_list("pk", flat=True)) == {task.pk}
    assert not list_queryset(rt, data.admin, {"q": "准备 ZZ9"})[1].exists()
    Task.all_objects.filter(pk=task.pk).delete()
    assert not list_queryset(rt, data.admin, {"q": "QQ7"})[1].exists()


def test_opportunity_search_through_its_customer_uses_the_customers_index(data):
    rt = registry.get("opportunity")
    with CaptureQueriesContext(connection) as ctx:
        _fs, qs = list_queryset(rt, data.admin, {"q": "客户回访中心"})
        titles = list(qs.values_list("title", flat=True))
    assert titles == ["ZZ9 项目"]
    page_sql = ctx.captured_queries[-1]["sql"]
    assert "customers_customer" not in page_sql, page_sql  # customer_id IN (ids), no join


def test_probe_limit_falls_back_to_the_plain_match(data, monkeypatch):
    """A term with PROBE or more matches keeps icontains (read in the list's order)."""
    monkeypatch.setattr(search, "PROBE", 1)
    rt = registry.get("followup")
    _fs, qs = list_queryset(rt, data.admin, {"q": "华东区"})
    assert set(qs.values_list("pk", flat=True)) == plain(rt, data.admin, "华东区")
    assert "LIKE" in str(qs.query).upper()
    assert FollowUp.objects.count() >= 1 and Opportunity.objects.count() == 2


def test_a_term_found_common_skips_the_probe_for_a_while_and_its_rows_stay_exact(data, monkeypatch):
    """A probe that finds PROBE matches or more is remembered for ten minutes (search._common_terms): the next
    searches of the term match it on the page's rows at once (PostgreSQL: 机 in 20,000 articles'
    words, 24 ms of probe before a 8 ms page). Only the plan is remembered: rows deleted meanwhile
    are not found, a row added is, and once the time is up the term is probed again."""
    monkeypatch.setattr(search, "PROBE", 2)
    now = [1000.0]
    monkeypatch.setattr(memo.time, "monotonic", lambda: now[0])
    rt = registry.get("followup")
    customer = make_customer(data.manager, name="常见词客户")
    rows = [make_followup(customer, topic=f"华南大区回访 {i}") for i in range(3)]
    marker = "activities_followup_fts MATCH" if connection.vendor == "sqlite" else "SELECT id FROM activities_followup"

    def search_once():
        with CaptureQueriesContext(connection) as ctx:
            _fs, qs = list_queryset(rt, data.admin, {"q": "华南大区"})
            found = set(qs.values_list("pk", flat=True))
        return found, sum(marker in q["sql"] for q in ctx.captured_queries)

    assert search_once() == ({r.pk for r in rows}, 1)  # probed: 3 >= PROBE, remembered
    assert search_once() == ({r.pk for r in rows}, 0)  # not probed again
    FollowUp.all_objects.filter(pk__in=[rows[0].pk, rows[1].pk]).delete()
    added = make_followup(customer, topic="华南大区 新增")
    assert search_once() == ({rows[2].pk, added.pk}, 0)  # still exact
    now[0] += search._common_terms.kept + 1
    found, probes = search_once()
    assert (found, probes) == ({rows[2].pk, added.pk}, 1)
    assert search_once()[1] == 0  # 2 matches: common again at PROBE = 2
    monkeypatch.setattr(search, "PROBE", 5000)  # remembered per PROBE: at 5000 the term is rare
    assert search_once() == ({rows[2].pk, added.pk}, 1)
    assert search_once()[1] == 1  # a rare term is never remembered
