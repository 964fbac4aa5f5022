"""The data scope's SQL (kehu.accounts.scope.scope_filter, PageOwner): on SQLite a page query
(ORDER BY ... LIMIT) of a scope with the public pool reads the owner as `+owner_id` (the list's own
column) or through a correlated subquery (a contact's or follow-up's customer), so that SQLite walks
the index of the list's order instead of sorting the scope and the pool. Every other query (counts,
totals, lookups, a substring search), every scope without the pool and every PostgreSQL query keeps
the plain column. The plans themselves: kehu/core/tests/test_list_plans.py."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.activities.models import FollowUp
from kehu.customers.models import Contact, Customer
from kehu.sales.models import Opportunity, PlanStep

WALK = re.compile(r'\+"\w+"\."owner_id"|\(SELECT "kehu_scope"\."owner_id" FROM "customers_customer" "kehu_scope" '
                  r'WHERE "kehu_scope"\."id" = "\w+"\."customer_id"\)')


def _sql(qs) -> str:
    with CaptureQueriesContext(connection) as ctx:
        list(qs)
    return ctx.captured_queries[-1]["sql"]


def _count_sql(qs) -> str:
    with CaptureQueriesContext(connection) as ctx:
        qs.count()
    return ctx.captured_queries[-1]["sql"]


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Customer, Contact, FollowUp])
@pytest.mark.parametrize("role", ["supervisor", "manager"])
def test_a_page_of_a_scope_with_the_pool_walks_the_order_on_sqlite(org, model, role):
    user = getattr(org, role)
    page = model.objects.visible_to(user).order_by("-id")[:50]
    assert bool(WALK.search(_sql(page))) is (connection.vendor == "sqlite")
    # not a page: counts and unordered reads keep the owner index
    assert not WALK.search(_count_sql(model.objects.visible_to(user)))
    assert not WALK.search(_sql(model.objects.visible_to(user).order_by()))
    # a substring match keeps it too: a rare term would walk the whole table
    search = model.objects.visible_to(user).filter(id__isnull=False, created_by__username__icontains="x")
    assert not WALK.search(_sql(search.order_by("-id")[:50]))
    # ...unless the term is known to be common (kehu.core.search.CommonIContains): the page meets
    # its matches within a few rows of its order, as a list without a search does
    common = model.objects.visible_to(user).filter(id__isnull=False, created_by__username__common_icontains="x")
    assert bool(WALK.search(_sql(common.order_by("-id")[:50]))) is (connection.vendor == "sqlite")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["supervisor", "manager"])
def test_a_short_terms_window_is_walked_in_id_order_with_the_scope_per_row(org, role, monkeypatch):
    """short_window_probe marks its query `walk_in_order`: its id range bounds the walk, so the scope
    is tested per row (planned from the scope, SQLite read a department's customers and the pool
    first: 520-690 ms for a supervisor's one-character follow-up search at 5M follow-ups)."""
    from kehu.activities.testing import make_followup
    from kehu.core import search
    from kehu.customers.testing import make_customer

    mine = make_customer(org.manager, "我的北京公司")
    pool = make_customer(None, "公海里的北京公司")
    theirs = make_customer(org.manager2, "他的北京公司")
    made = {c.pk: [make_followup(c, org.admin, topic=f"北{i}") for i in range(3)] for c in (mine, pool, theirs)}
    monkeypatch.setattr(search, "SHORT_WINDOW", 4)
    user = getattr(org, role)
    with CaptureQueriesContext(connection) as ctx:
        found = search.short_window_probe(FollowUp.objects.visible_to(user), ["topic"], "北")
    sql = next(q["sql"] for q in ctx.captured_queries if '"topic"' in q["sql"] and "LIKE" in q["sql"])
    assert bool(WALK.search(sql)) is (connection.vendor == "sqlite"), sql
    # the window is the newest four: the pool's last follow-up (in scope) and theirs (outside it)
    newest = sorted(f.pk for fs in made.values() for f in fs)[-4:]
    expected = {f.pk for f in made[pool.pk] + made[mine.pk]} & set(newest)
    assert set(found[0]) == expected and found[1] == 4


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["supervisor", "manager"])
def test_scopes_without_the_pool_keep_the_owner_column(org, role):
    user = getattr(org, role)
    for qs in (Opportunity.objects.visible_to(user), PlanStep.objects.visible_to(user),
               Customer.objects.visible_to(user, owned=True)):
        assert not WALK.search(_sql(qs.order_by("-id")[:50]))


@pytest.mark.django_db
def test_scope_results_are_the_same(org):
    """The walked form finds exactly the scope's rows."""
    from kehu.customers.testing import make_customer

    mine = make_customer(org.manager, "我的北京公司")
    theirs = make_customer(org.manager2, "他的北京公司")  # sales2: outside the supervisor's department
    pool = make_customer(None, "公海里的北京公司")
    other = make_customer(org.admin, "总部的公司")
    for customer in (mine, theirs, pool, other):
        Contact.objects.create(customer=customer, name=f"联系人{customer.pk}", owner=customer.owner)
    for user, expected in ((org.supervisor, {mine.pk, pool.pk}), (org.manager, {mine.pk, pool.pk})):
        visible = set(Customer.objects.visible_to(user).order_by("-id").values_list("pk", flat=True)[:50])
        assert visible & {mine.pk, theirs.pk, pool.pk, other.pk} == expected
        seen = set(Contact.objects.visible_to(user).order_by("-id").values_list("customer_id", flat=True)[:50])
        assert seen & {mine.pk, theirs.pk, pool.pk, other.pk} == expected
