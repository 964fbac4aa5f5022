"""A search term under three characters in a list larger than search.SHORT_WINDOW rows is probed
in the newest rows only, and the list says so (HTML notice, API header) instead of walking every
row into the statement time limit (kehu/core/search.py)."""

import pytest
from django.db import connection

from kehu.activities.models import FollowUp
from kehu.activities.testing import make_followup
from kehu.core import search
from kehu.core.testing.factories import auth
from kehu.customers.testing import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def followups(org, monkeypatch):
    monkeypatch.setattr(search, "SHORT_WINDOW", 3)
    customer = make_customer(org.admin)
    old = make_followup(customer, org.admin, topic="北方老客户回访")
    made = [make_followup(customer, org.admin, topic=f"回访{i}") for i in range(3)]
    newest = make_followup(customer, org.admin, topic="北京新客户")
    return old, made, newest


def test_short_term_in_a_large_list_searches_the_newest_rows(client, org, followups):
    old, made, newest = followups
    r = client.get("/api/v1/followups/?q=北", **auth(org.admin))
    assert r.status_code == 200
    assert [row["id"] for row in r.json()["results"]] == [newest.pk]  # the old one is outside the window
    assert r["X-Kehu-Search-Window"] == "3"
    client.force_login(org.admin)
    html = client.get("/followups/?q=北").content.decode()
    assert 'data-testid="search-window"' in html and "北京新客户" in html and "北方老客户回访" not in html
    # three characters or more: every row, through the trigram index, no notice
    r = client.get("/api/v1/followups/?q=北方老", **auth(org.admin))
    assert [row["id"] for row in r.json()["results"]] == [old.pk] and "X-Kehu-Search-Window" not in r


def test_common_short_term_walks_the_list_in_order(client, org, followups, monkeypatch):
    monkeypatch.setattr(search, "PROBE", 2)  # "回" is in every row of the window: common
    r = client.get("/api/v1/followups/?q=回", **auth(org.admin))
    expected = list(FollowUp.objects.filter(topic__contains="回").order_by("-occurred_at", "-id")
                    .values_list("pk", flat=True))
    assert [row["id"] for row in r.json()["results"]] == expected and "X-Kehu-Search-Window" not in r


def test_small_list_searches_every_row(client, org, followups, monkeypatch):
    monkeypatch.setattr(search, "SHORT_WINDOW", 1000)
    old, _made, newest = followups
    r = client.get("/api/v1/followups/?q=北", **auth(org.admin))
    assert {row["id"] for row in r.json()["results"]} == {old.pk, newest.pk}
    assert "X-Kehu-Search-Window" not in r


def test_a_short_term_is_never_matched_through_a_trigram_index(org):
    """No trigram serves a term under three characters: PostgreSQL's pg_trgm then reads its whole
    GIN index (every row) while estimating a few hundred, and beside a rep's own tasks it chose
    that read (380 ms at 1M tasks, 9 ms through the rep's own). The short term's condition is
    written so that no trigram index applies; the rows found are the same."""
    from django.db import connection

    from kehu.activities.models import Task
    from kehu.activities.testing import make_task
    from kehu.core.registry import registry

    customer = make_customer(org.manager)
    found = make_task(org.manager, title="联系公司采购", customer=customer)
    make_task(org.manager, title="回访", customer=customer)
    rt = registry.get("task")
    for user in (org.manager, org.admin):
        qs = rt.filterset({"q": "公司"}, queryset=rt.visible(user), user=user).qs
        assert list(qs.values_list("pk", flat=True)) == [found.pk]
    mine = Task.objects.filter(owner=org.manager).filter(search._plain(["title", "description"], "公司"))
    assert list(mine.values_list("pk", flat=True)) == [found.pk]
    sql = str(mine.query)
    if connection.vendor == "postgresql":
        # a term with no case is matched as written: the same rows, no UPPER of every row (search._plain)
        assert '("activities_task"."title"::text || \'\') LIKE %公司%' in sql, sql
        with connection.cursor() as cursor:  # not chosen even when nothing else is allowed
            for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
                cursor.execute(f"SET LOCAL {setting} = off")
            cursor.execute("EXPLAIN " + mine.query.sql_with_params()[0], mine.query.sql_with_params()[1])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "_trgm" not in plan, plan
    else:
        assert "LIKE" in sql and "|| ''" not in sql, sql


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's parallel plans")
def test_the_newest_rows_are_probed_by_one_process(client, org, followups):
    """PostgreSQL planned the window's probe in parallel, and each of its processes tested the whole
    window: a rep's follow-ups for "zh", none among the newest 30,000, took 70-76 ms on two cores
    (32-42 ms in one process). The probe's statement runs with parallel workers off."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        r = client.get("/api/v1/followups/?q=北", **auth(org.manager))
    assert r.status_code == 200 and r["X-Kehu-Search-Window"] == "3"
    sqls = [q["sql"] for q in ctx.captured_queries]
    window = next(i for i, sql in enumerate(sqls) if "activities_followup" in sql and "LIKE" in sql and "LIMIT 5000" in sql)
    assert "SET LOCAL max_parallel_workers_per_gather = 0" in sqls[window - 1], sqls[window - 1]
