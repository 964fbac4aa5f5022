"""The list API reuses the page query it compiled for a filtered list (kehu.core.filters.prepare_reuse):
plain comparisons by their shape with the values as parameters, other pure filters by their
values, and filters that depend on the rows or the clock never. Every reused answer must be the
answer the filters would give applied afresh."""

import datetime
import zoneinfo

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.accounts.models import Role
from kehu.core.filters import filter_is_pure, list_queryset, slot_conditions
from kehu.core.registry import registry
from kehu.core.testing.factories import auth
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer

API = "/api/v1/customers/"


def compiled_keys() -> set:
    return set(connections[DEFAULT_DB_ALIAS].__dict__.get("_kehu_page_queries", {}))


def api_ids(client, query: str) -> list[int]:
    response = client.get(f"{API}?{query}")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def fresh_ids(user, query: str) -> list[int]:
    """The same list with the filters applied afresh (no compiled query), newest first."""
    _fs, qs = list_queryset(registry.get("customer"), user, QueryDict(query))
    return list(qs.order_by("-id").values_list("id", flat=True)[:50])


@pytest.fixture
def customers(org):
    made = []
    for i, (grade, status) in enumerate([("A", "active"), ("B", "active"), ("A", "dormant"), ("C", "active"),
                                          ("B", "dormant"), ("A", "active"), ("C", "dormant")]):
        c = make_customer(org.manager if i % 2 else org.manager2, grade=grade, status=status,
                          city="大连" if i < 4 else "青岛")
        made.append(c)
    return made


def test_a_filter_compiled_once_serves_every_value_of_its_shape(org, customers):
    client = Client(**auth(org.admin))
    first = api_ids(client, "grade=A")
    assert first == fresh_ids(org.admin, "grade=A") and len(first) == 3
    before = compiled_keys()
    for query in ("grade=B", "grade=C", "grade=A&status=dormant", "grade=B&status=dormant", "grade=C&status=dormant",
                  "city=青岛", "city=大连", f"owner={org.manager.pk}", f"owner={org.manager2.pk}"):
        with CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as ctx:
            ids = api_ids(client, query)
        assert ids == fresh_ids(org.admin, query), query
        assert ids, query
        assert sum("customers_customer" in q["sql"] for q in ctx.captured_queries) == 1, query
    # grade=B and C ran grade=A's query; grade+status, city and owner one query each for all their values
    assert len(compiled_keys() - before) == 3


def test_local_date_bounds_follow_the_time_zone_of_the_request(org):
    """`created_after` is the user's local day: the same date in another time zone is another
    bound, so a query compiled in Shanghai is not answered with Shanghai's bounds in UTC."""
    c = make_customer(org.manager)
    # 01:00 on 1 March in Shanghai is 17:00 on 28 February in UTC
    Customer.objects.filter(pk=c.pk).update(
        created_at=datetime.datetime(2026, 3, 1, 1, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")))
    client = Client(**auth(org.admin))
    assert c.pk in api_ids(client, "created_after=2026-03-01")
    assert c.pk not in api_ids(client, "created_after=2026-03-02")  # the same query, another bound
    org.admin.time_zone = "UTC"
    org.admin.save()
    assert c.pk not in api_ids(client, "created_after=2026-03-01")
    assert c.pk in api_ids(client, "created_after=2026-02-28")
    with timezone.override(zoneinfo.ZoneInfo("UTC")):
        assert fresh_ids(org.admin, "created_after=2026-03-01") == api_ids(client, "created_after=2026-03-01")


def test_filters_of_the_rows_or_the_clock_are_applied_afresh_every_time(org, customers):
    """A search lists the ids its index found and "not followed up for N days" counts from now:
    neither is kept compiled, and each request sees the rows as they are."""
    client = Client(**auth(org.admin))
    before = compiled_keys()
    assert api_ids(client, "q=鲲鹏") == fresh_ids(org.admin, "q=鲲鹏") == []
    assert api_ids(client, "q=商贸") == fresh_ids(org.admin, "q=商贸") != []
    assert api_ids(client, "idle_days=30") == fresh_ids(org.admin, "idle_days=30")
    assert compiled_keys() == before
    late = make_customer(org.manager, "鲲鹏联合科技有限公司")
    assert api_ids(client, "q=鲲鹏") == [late.pk]


def test_the_users_own_filters_are_kept_apart(org, customers):
    """`mine` is the user's id: two users with the same scope and filter get their own rows."""
    admin, manager = Client(**auth(org.admin)), Client(**auth(org.manager))
    make_customer(org.admin)
    assert api_ids(admin, "mine=true") == fresh_ids(org.admin, "mine=true")
    assert api_ids(manager, "mine=true") == fresh_ids(org.manager, "mine=true")
    assert set(api_ids(admin, "mine=true")).isdisjoint(api_ids(manager, "mine=true"))


def test_rights_are_checked_when_a_compiled_list_is_reused(org):
    """The public pool's list needs the pool right: a compiled `pool=true` list is refused once
    the right is taken away, though its query is no longer built."""
    make_customer(None)
    client = Client(**auth(org.manager))
    assert client.get(f"{API}?pool=true").status_code == 200
    role = Role.objects.get(code="account_manager")
    role.rights = [r for r in role.rights if not r.startswith("pool.")]
    role.save()
    assert client.get(f"{API}?pool=true").status_code == 403


def test_what_takes_part_as_a_slot():
    """Plain comparisons of a column take slots; a NULL test, a pattern, a model instance or a
    method filter do not."""
    fs = registry.get("customer").filterset
    filters = fs.base_filters
    assert slot_conditions(filters["grade"], "A") == {"grade__exact": "A"}
    assert slot_conditions(filters["owner"], "3") == {"owner_id__exact": "3"}
    assert list(slot_conditions(filters["created_after"], datetime.date(2026, 3, 1))) == ["created_at__gte"]
    assert slot_conditions(filters["pool"], True) is None  # IS NULL / IS NOT NULL
    assert slot_conditions(filters["tag"], "x") is None
    assert slot_conditions(filters["created_before"], datetime.date.max) is None  # `IS NOT NULL`
    assert filter_is_pure(filters["tag"], "x") and filter_is_pure(filters["mine"], True)
    assert not filter_is_pure(filters["q"], "x") and not filter_is_pure(filters["idle_days"], 30)
    assert filter_is_pure(filters["missing"], "email") and not filter_is_pure(filters["missing"], "cf_x")
