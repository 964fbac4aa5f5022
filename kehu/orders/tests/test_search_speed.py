"""A rep's search of their orders and payments (issue 17): read from the owner index that holds
what the search tests, and the rows of the customers found counted among the rep's own."""

import json
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.core import statistics
from kehu.core.registry import registry
from kehu.core.testing.factories import auth
from kehu.core.testing.plans import id_list_sql
from kehu.customers.testing import make_customer
from kehu.orders.testing import make_order


@pytest.mark.django_db
def test_a_reps_search_through_the_customer_counts_only_the_reps_rows(client, org, monkeypatch):
    """The customers a term finds (here one, by its name) have many orders, few of them the rep's:
    the rep's are listed by id. Counting every owner's orders of those customers reached PROBE, and
    the page kept `customer_id IN (3,130 customers)` beside its order (a rep's orders searched for
    a 4-digit phone fragment at 2M orders: 26 ms, 12 ms so)."""
    from kehu.core import search

    monkeypatch.setattr(search, "PROBE", 3)
    shared = make_customer(org.manager2, name="Zhongshan Trading")
    mine = make_order(org.manager, customer=shared)
    for _i in range(3):
        make_order(org.manager2, customer=shared)
    rt = registry.get("order")
    sql = str(rt.filterset({"q": "Zhongshan"}, queryset=rt.visible(org.manager), user=org.manager).qs.query)
    assert id_list_sql('"orders_order"."id"', [mine.pk]) in sql, sql
    assert '"orders_order"."customer_id" IN' not in sql and '"orders_order"."customer_id" = ANY' not in sql, sql
    rows = client.get("/api/v1/orders/?q=Zhongshan", **auth(org.manager)).json()["results"]
    assert [r["id"] for r in rows] == [mine.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("key, index", [("order", "order_owner_cover_idx"), ("payment", "payment_owner_cover_idx")])
def test_a_reps_short_term_search_reads_the_covering_owner_index(org, key, index):
    """A term under three characters has no trigram: the rep's rows are all tested. They are read
    from the owner index that holds the number, title or reference and the customer (SQLite plans
    it as covering only with the recycle-bin column in it), not from the table: a rep's 10,000
    orders searched for 北 at 2M orders: 66 → 34 ms (HTML), 重庆 40 → 15 ms (API)."""
    rt = registry.get(key)
    make_order(org.manager)
    fs = rt.filterset({"q": "北"}, queryset=rt.visible(org.manager), user=org.manager)
    with CaptureQueriesContext(connection) as queries:
        list(fs.qs[:50])
    from kehu.core.search import PROBE

    # the read of the rep's rows (after the sample that finds the term rare, _common_in_sample)
    probe = [q["sql"] for q in queries.captured_queries if "LIKE" in q["sql"].upper() and f"LIMIT {PROBE}" in q["sql"]]
    assert probe, [q["sql"] for q in queries.captured_queries]
    if connection.vendor != "sqlite":
        return  # PostgreSQL plans its own index-only scans from the visibility map
    figures = json.loads((Path(statistics.__file__).parent / "tests" / "planner_figures.json").read_text())
    table = rt.model._meta.db_table
    statistics.load_figures({table: figures["figures"][table]})
    try:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + probe[0].split(" LIMIT ")[0])
            text = "\n".join(str(row[-1]) for row in cursor.fetchall())
    finally:
        statistics.forget_figures()
    assert f"USING COVERING INDEX {index}" in text, text


def _common_among_customers(monkeypatch):
    """The customers' index finds the term too often to list their ids (公司 at 1M customers), so the
    orders test it on their customer's name: what these tests are about."""
    monkeypatch.setattr(registry.get("customer").filterset, "probe_ids", classmethod(lambda cls, value: None))


@pytest.mark.django_db
def test_a_term_common_among_the_reps_rows_is_searched_as_common(client, org, monkeypatch):
    """A short term that PROBE or more of the rep's rows match is written as a common one
    (KnownCommon). On PostgreSQL that is `CASE WHEN … LIKE … THEN TRUE ELSE FALSE END`, which the
    planner takes for true in half the rows: it walks the rep's newest payments to the first page of
    matches. As a plain LIKE (estimated 0.5 %) it sorted all 15,800 of a rep's payments joined to
    their customers for "公司", which three in four match: 59 → 2 ms of SQL. The rows are the same."""
    from kehu.core import search

    monkeypatch.setattr(search, "PROBE", 3)
    _common_among_customers(monkeypatch)
    company = make_customer(org.manager, name="南宁贸易有限公司")
    mine = [make_order(org.manager, customer=company) for _i in range(4)]
    make_order(org.manager, customer=make_customer(org.manager, name="Nanning Trading"))
    make_order(org.manager2, customer=make_customer(org.manager2, name="别人的有限公司"))
    rt = registry.get("order")
    # read by creation: the rep's rows are judged by PROBE and the sample (read by id, one owner's
    # rows are walked down their (owner, id) index instead: test_search_by_customer.py)
    fs = rt.filterset({"q": "公司", "sort": "-created_at"}, queryset=rt.visible(org.manager), user=org.manager)
    sql = str(fs.qs.query)
    if connection.vendor == "postgresql":
        assert "CASE WHEN" in sql and "THEN TRUE ELSE FALSE END" in sql, sql
    else:  # SQLite's SQL is the plain LIKE; the lookup tells the scope the term is common
        assert "CASE WHEN" not in sql and "LIKE" in sql, sql
    assert sorted(fs.qs.values_list("pk", flat=True)) == sorted(o.pk for o in mine)
    rows = client.get("/api/v1/orders/?q=公司", **auth(org.manager)).json()["results"]
    assert sorted(r["id"] for r in rows) == sorted(o.pk for o in mine)
    monkeypatch.setattr(search, "PROBE", 5000)  # rare among them: listed by id, no LIKE in the page
    sql = str(rt.filterset({"q": "公司", "sort": "-created_at"}, queryset=rt.visible(org.manager),
                           user=org.manager).qs.query)
    assert "CASE WHEN" not in sql and "LIKE" not in sql.split(" WHERE ")[1], sql


@pytest.mark.django_db
def test_a_short_term_common_in_a_sample_of_the_reps_rows_is_not_read_whole(client, org, monkeypatch):
    """A short term that COMMON_IN_SAMPLE of SAMPLE_ROWS of the rep's rows match is common: the page
    walks to its matches, and the rep's rows are not read whole first (公司 in a rep's 15,800
    payments: 6,700 rows joined to their customers; a rep's opportunities at 1M, PostgreSQL: 52 →
    8 ms). A term rarer in the sample is still read whole and listed by id. The rows are the same."""
    from kehu.core import search

    monkeypatch.setattr(search, "SAMPLE_ROWS", 5)
    monkeypatch.setattr(search, "COMMON_IN_SAMPLE", 2)
    _common_among_customers(monkeypatch)
    common = make_customer(org.manager, name="南宁贸易有限公司")
    rare = make_customer(org.manager, name="柳州机械厂")
    mine = [make_order(org.manager, customer=common) for _i in range(3)]
    other = make_order(org.manager, customer=rare)
    make_order(org.manager, customer=make_customer(org.manager, name="Nanning Trading"))
    make_order(org.manager2, customer=make_customer(org.manager2, name="别人的有限公司"))
    rt = registry.get("order")

    def search_for(term):
        with CaptureQueriesContext(connection) as ctx:
            # by creation (read by id, one owner's rows are walked: test_search_by_customer.py)
            fs = rt.filterset({"q": term, "sort": "-created_at"}, queryset=rt.visible(org.manager), user=org.manager)
            sql = str(fs.qs.query)
            found = sorted(fs.qs.values_list("pk", flat=True))
        whole = [q["sql"] for q in ctx.captured_queries if f"LIMIT {search.PROBE}" in q["sql"]]
        return found, sql, whole

    found, sql, whole = search_for("公司")
    assert found == sorted(o.pk for o in mine)
    assert not whole, whole  # decided by the sample of the 5 orders (3 match)
    assert ("CASE WHEN" in sql) == (connection.vendor == "postgresql"), sql
    found, sql, whole = search_for("柳州")
    assert found == [other.pk]
    assert whole and "LIKE" not in sql.split(" WHERE ")[1], sql  # read whole, listed by id
    rows = client.get("/api/v1/orders/?q=公司", **auth(org.manager)).json()["results"]
    assert sorted(r["id"] for r in rows) == sorted(o.pk for o in mine)


@pytest.mark.django_db
def test_the_rows_of_found_customers_that_the_tables_sizes_tell_are_many_are_not_listed_first(client, org, monkeypatch):
    """The customers a term finds are listed by id; their orders are listed too when few, but when
    the tables' sizes say they have PROBE orders or more between them (PostgreSQL's row counts, or
    SQLite's from its last ANALYZE), the page keeps `customer_id IN (…)` without reading them first
    (a phone fragment in 3,161 of 1M customers, ~9,800 payments: 8 ms of listing wasted). The rows
    are the same either way; without counts (SQLite never analyzed) they are listed first."""
    from kehu.core import search

    monkeypatch.setattr(search, "PROBE", 5)
    found = [make_customer(org.manager, name=f"Qingdao Harbour {i}") for i in range(2)]
    theirs = [make_order(org.manager, customer=c).pk for c in found for _i in range(4)]
    make_order(org.manager, customer=make_customer(org.manager, name="Other Works"))
    rt = registry.get("order")

    def listed_first() -> bool:
        with CaptureQueriesContext(connection) as ctx:
            fs = rt.filterset({"q": "Qingdao Harbour"}, queryset=rt.visible(org.admin), user=org.admin)
            assert sorted(fs.qs.values_list("pk", flat=True)) == sorted(theirs)
        # the tables' row counts are read once a minute per process (read before), not on every search
        assert not [q for q in ctx.captured_queries if "pg_class" in q["sql"] or "sqlite_stat1" in q["sql"]]
        return bool([q["sql"] for q in ctx.captured_queries
                     if q["sql"].startswith('SELECT "orders_order"."id"') and "LIMIT 5" in q["sql"]])

    if connection.vendor == "sqlite":
        assert search._rows_per_related(rt.model, "customer") == 0.0  # not analyzed: unknown
        assert listed_first()
        search._table_rows.clear()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
        cursor.execute("ANALYZE customers_customer")
    assert search._rows_per_related(rt.model, "customer") >= 2.5
    assert not listed_first()
    assert not listed_first()
    rows = client.get("/api/v1/orders/?q=Qingdao Harbour", **auth(org.admin)).json()["results"]
    assert sorted(r["id"] for r in rows) == sorted(theirs)


@pytest.mark.django_db
def test_a_departments_search_reads_its_own_and_its_customers_rows_as_one_id_list(client, org, monkeypatch):
    """SQLite: a supervisor's orders searched for a term in their own text and in many customers'
    (PROBE or more rows by the tables' sizes) are one `id IN (… UNION ALL …)` of the two lists,
    not their OR, which SQLite read through both indexes, fetching and sorting every row (a
    supervisor's orders for the phone fragment "4002" at 1M customers: 13.7 -> 6.1 ms). The rows are
    the same: the supervisor's live ones, by either path, and not another department's."""
    from kehu.core import search

    monkeypatch.setattr(search, "PROBE", 5)
    found = [make_customer(org.manager, name=f"Yantai Ferry {i}") for i in range(2)]
    theirs = [make_order(org.manager, customer=c).pk for c in found for _i in range(3)]
    other = make_customer(org.manager, name="Weihai Mills")
    own = make_order(org.manager, customer=other, title="Yantai Ferry spare parts").pk  # its own text
    make_order(org.manager2, customer=found[0])  # another department's: not the supervisor's
    gone = make_order(org.manager, customer=found[1])  # in the recycle bin: not listed
    type(gone).objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    make_order(org.manager, customer=other)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
        cursor.execute("ANALYZE customers_customer")
    search._table_rows.clear()
    rt = registry.get("order")
    fs = rt.filterset({"q": "Yantai Ferry"}, queryset=rt.visible(org.supervisor), user=org.supervisor)
    sql = str(fs.qs.query)
    if connection.vendor == "sqlite":
        assert "UNION ALL" in sql, sql
        assert 'OR "orders_order"."customer_id" IN' not in sql, sql
    expected = sorted([*theirs, own])
    assert sorted(fs.qs.values_list("pk", flat=True)) == expected
    rows = client.get("/api/v1/orders/?q=Yantai Ferry", **auth(org.supervisor)).json()["results"]
    assert sorted(r["id"] for r in rows) == expected
    # an administrator's too: the orders' foreign key has its own index, which the union reads
    # without the table (an administrator's orders for "4002": 10.9 -> 6.1 ms)
    every = rt.filterset({"q": "Yantai Ferry"}, queryset=rt.visible(org.admin), user=org.admin).qs
    if connection.vendor == "sqlite":
        assert "UNION ALL" in str(every.query)
    assert org.manager2.pk in set(every.values_list("owner_id", flat=True))
    client.force_login(org.supervisor)
    page = client.get("/orders/?q=Yantai Ferry").content.decode()
    numbers = dict(rt.model.objects.values_list("pk", "number"))
    assert all(numbers[pk] in page for pk in expected)
    assert not [n for pk, n in numbers.items() if pk not in expected and n in page]


@pytest.mark.django_db
@pytest.mark.parametrize("model_name", ["order", "payment", "invoice"])
def test_the_id_union_reads_each_foreign_key_through_an_index(model_name):
    """The union's subqueries read each list by an index of the table: the foreign key's own index
    where it has one (orders, read without the table), else its partial index of live rows, which
    only a query that asks for live rows may use (payments, invoices): without that condition
    SQLite scanned all 3M payments (650 ms)."""
    if connection.vendor != "sqlite":
        pytest.skip("the union is SQLite's (search._ids_union)")
    from kehu.core.filters import IdList
    from kehu.core.search import _ids_union
    from kehu.core.testing.plans import plan

    model = registry.get(model_name).model
    text = plan(model._default_manager.filter(_ids_union(model, [1, 2], [("customer", IdList([3, 4]))])))
    table = model._meta.db_table
    assert f"SCAN {table}\n" not in text + "\n" and "SCAN U0\n" not in text + "\n", text
    assert "UNION ALL" in text and "customer" in text, text
