"""An opportunity search for a customer's number reads the customers' number index
(CustomerFilterSet.probe_ids), not every opportunity joined to its customer; the opportunities of
the customers found become one id list, which the page reads in its own order."""

import pytest
from django.db import connection

from kehu.core.registry import registry
from kehu.core.testing.factories import auth
from kehu.core.testing.plans import id_list_sql
from kehu.customers.testing import make_customer
from kehu.sales.testing import make_opportunity


@pytest.mark.django_db
def test_opportunity_search_by_customer_number(client, org):
    a, b = make_customer(org.manager), make_customer(org.manager)
    wanted, other = make_opportunity(org.manager, customer=a), make_opportunity(org.manager, customer=b)
    rt = registry.get("opportunity")
    assert rt.filterset.probe_ids  # the opportunity filter set's own; the customers' is used for customer__name
    assert registry.get("customer").filterset.probe_ids(a.number) == [a.pk]
    fs = rt.filterset({"q": a.number}, queryset=rt.visible(org.admin), user=org.admin)
    sql = str(fs.qs.query)
    assert id_list_sql('"sales_opportunity"."id"', [wanted.pk]) in sql and "LIKE" not in sql.upper(), sql  # no walk
    rows = client.get(f"/api/v1/opportunities/?q={a.number}", **auth(org.admin)).json()["results"]
    assert [r["id"] for r in rows] == [wanted.pk]
    assert other.pk not in [r["id"] for r in rows]


@pytest.mark.django_db
def test_customers_with_many_opportunities_keep_the_customer_condition(client, org, monkeypatch):
    """The opportunities of the customers found are listed by id up to PROBE; past it the term is
    common among opportunities and the page keeps the customer condition in its own order (for a
    customer number, the range of its customer's id)."""
    from kehu.core import search

    monkeypatch.setattr(search, "PROBE", 3)
    a = make_customer(org.manager)
    many = [make_opportunity(org.manager, customer=a) for _i in range(3)]
    make_opportunity(org.manager, customer=make_customer(org.manager))
    rt = registry.get("opportunity")
    sql = str(rt.filterset({"q": a.number, "sort": "-amount"}, queryset=rt.visible(org.admin), user=org.admin).qs.query)
    assert f'"sales_opportunity"."customer_id" >= {a.pk} AND "sales_opportunity"."customer_id" <= {a.pk}' in sql, sql
    # read newest first, the range is tested on the rows the page reads (SQLite: not from the
    # foreign key's index, which read a month of customers' rows and sorted them)
    sql = str(rt.filterset({"q": a.number}, queryset=rt.visible(org.admin), user=org.admin).qs.query)
    column = '"sales_opportunity"."customer_id"'
    if connection.vendor == "sqlite":
        column = f"COALESCE({column}, NULL)"
    assert f"{column} >= {a.pk} AND {column} <= {a.pk}" in sql, sql
    rows = client.get(f"/api/v1/opportunities/?q={a.number}", **auth(org.admin)).json()["results"]
    assert sorted(r["id"] for r in rows) == sorted(o.pk for o in many)


@pytest.mark.django_db
def test_short_term_through_the_customer_asks_the_customers_index_and_windows_the_own_text(client, org, monkeypatch):
    """"zh" has no trigram of its own, but the customers' index holds it as the start of a word
    (" zh", normalize.search_terms): every opportunity of the customers it lists is found, old or
    new. The opportunities' own titles are read in the newest rows only (RELATED_WINDOW, as beside
    the join before), and the response says so, instead of walking every opportunity (3.5 s at 1M
    when joined to its customer). A term the customers' index cannot list (common, as at 1M) is
    matched against the newest opportunities' customers, in the same window."""
    from kehu.core import search

    monkeypatch.setattr(search, "RELATED_WINDOW", 3)
    old = make_opportunity(org.manager, customer=make_customer(org.manager, name="Zhongshan Trading"))
    old_title = make_opportunity(org.manager, title="zh 老项目")
    for i in range(3):
        make_opportunity(org.manager, title=f"项目{i}")
    by_name = make_opportunity(org.manager, customer=make_customer(org.manager, name="ZHUHAI Tech"))
    by_title = make_opportunity(org.manager, title="zh 区项目")
    r = client.get("/api/v1/opportunities/?q=zh", **auth(org.admin))
    assert r.status_code == 200 and r["X-Kehu-Search-Window"] == "3"
    assert {row["id"] for row in r.json()["results"]} == {old.pk, by_name.pk, by_title.pk}  # not old_title
    monkeypatch.setattr(search, "RELATED_WINDOW", 1000)  # a small table: every row, no notice
    r = client.get("/api/v1/opportunities/?q=zh", **auth(org.admin))
    assert {row["id"] for row in r.json()["results"]} == {old.pk, old_title.pk, by_name.pk, by_title.pk}
    assert "X-Kehu-Search-Window" not in r
    monkeypatch.setattr(registry.get("customer").filterset, "probe_ids", classmethod(lambda cls, value: None))
    monkeypatch.setattr(search, "RELATED_WINDOW", 3)  # the customers cannot be listed: the joined window
    r = client.get("/api/v1/opportunities/?q=zh", **auth(org.admin))
    assert r["X-Kehu-Search-Window"] == "3"
    assert {row["id"] for row in r.json()["results"]} == {by_name.pk, by_title.pk}


@pytest.mark.django_db
def test_term_common_among_customers_is_windowed_through_the_join(client, org, monkeypatch):
    """A term the customers' index finds too often to list (PROBE or more) is matched against the
    newest opportunities' customers, not by walking every opportunity."""
    from kehu.core import search

    monkeypatch.setattr(search, "RELATED_WINDOW", 2)
    monkeypatch.setattr(search, "PROBE", 2)
    monkeypatch.setattr("kehu.customers.forms.SEARCH_PROBE", 2)
    old = make_opportunity(org.manager, customer=make_customer(org.manager, name="宏达贸易一"))
    make_customer(org.manager, name="宏达贸易二")  # the customers' probe finds >= PROBE
    make_opportunity(org.manager, title="其他")
    new = make_opportunity(org.manager, customer=make_customer(org.manager, name="宏达贸易三"))
    assert registry.get("customer").filterset.probe_ids("宏达贸") is None
    r = client.get("/api/v1/opportunities/?q=宏达贸", **auth(org.admin))
    assert [row["id"] for row in r.json()["results"]] == [new.pk] and old.pk not in {row["id"] for row in r.json()["results"]}
    assert r["X-Kehu-Search-Window"] == "2"


@pytest.mark.django_db
def test_a_reps_own_list_is_searched_whole(client, org, monkeypatch):
    """A rep's opportunities are a small share of the table: a short term searches all of them
    (no window, no notice), where the table's newest rows would hold few of theirs."""
    from kehu.core import search

    monkeypatch.setattr(search, "RELATED_WINDOW", 2)
    mine_old = make_opportunity(org.manager, title="zh 老项目")
    for i in range(3):
        make_opportunity(org.manager2, title=f"别人的项目{i}")
    r = client.get("/api/v1/opportunities/?q=zh", **auth(org.manager))
    assert [row["id"] for row in r.json()["results"]] == [mine_old.pk] and "X-Kehu-Search-Window" not in r
    r = client.get("/api/v1/opportunities/?q=zh", **auth(org.admin))  # every opportunity: the window
    assert r["X-Kehu-Search-Window"] == "2" and mine_old.pk not in {row["id"] for row in r.json()["results"]}
    # read by id, one owner's rows through an (owner, id) index: on PostgreSQL the page walks them
    # newest first and stops at a page of matches (a rep's payments for 南宁 at 1M: 63.6 → 30.1 ms)
    from django.test.utils import CaptureQueriesContext

    mine_new = make_opportunity(org.manager, customer=make_customer(org.manager, name="Zhuhai Port"))
    rt = registry.get("opportunity")
    assert rt.filterset({"q": "zh"}, queryset=rt.visible(org.manager), user=org.manager).reading(rt.model).walks_own
    assert not rt.filterset({"q": "zh", "sort": "-created_at"}, queryset=rt.visible(org.manager),
                            user=org.manager).reading(rt.model).walks_own
    assert not rt.filterset({"q": "zh"}, queryset=rt.visible(org.admin), user=org.admin).reading(rt.model).walks_own
    with CaptureQueriesContext(connection) as ctx:
        r = client.get("/api/v1/opportunities/?q=zh", **auth(org.manager))
    assert [row["id"] for row in r.json()["results"]] == [mine_new.pk, mine_old.pk] and "X-Kehu-Search-Window" not in r
    page = [q["sql"] for q in ctx.captured_queries if 'FROM "sales_opportunity"' in q["sql"] and " DESC LIMIT " in q["sql"]][-1]
    # (the id list beside it holds the rows of the customers the customers' index found for zh)
    assert ("CASE WHEN" in page) == (connection.vendor == "postgresql"), page


@pytest.mark.django_db
def test_a_number_prefix_of_many_customers_finds_their_rows_by_the_customer_id_range(client, org, monkeypatch):
    """A customer-number prefix that covers more customers than the probe lists ("KH202312", a
    month of customers) is the range of their ids: every opportunity of those customers is found,
    for an administrator and for a rep, without a window. Before, the fallback tested the
    customer's name for the number, which matched nothing: a rep's list came back empty."""
    from kehu.core import search
    from kehu.customers.models import Customer

    monkeypatch.setattr(search, "PROBE", 2)
    mine = [make_customer(org.manager) for _i in range(3)]
    theirs = make_opportunity(org.manager2, customer=make_customer(org.manager2))
    later = make_customer(org.manager)
    Customer.all_objects.filter(pk=later.pk).update(number="KH209912310001")  # another month, after the range
    prefix = mine[0].number[:8]
    assert all(c.number.startswith(prefix) for c in mine)
    wanted = [make_opportunity(org.manager, customer=c) for c in mine]
    make_opportunity(org.manager, customer=later)
    for user, expected in ((org.admin, {*[o.pk for o in wanted], theirs.pk}), (org.manager, {o.pk for o in wanted})):
        r = client.get(f"/api/v1/opportunities/?q={prefix}", **auth(user))
        assert r.status_code == 200 and "X-Kehu-Search-Window" not in r
        assert {row["id"] for row in r.json()["results"]} == expected, user
    rt = registry.get("opportunity")
    where = str(rt.filterset({"q": prefix}, queryset=rt.visible(org.admin), user=org.admin).qs.query).split(" WHERE ")[1]
    assert '"sales_opportunity"."customer_id", NULL) >=' in where if connection.vendor == "sqlite" else \
        '"sales_opportunity"."customer_id" >=' in where
    assert "customers_customer" not in where, where


@pytest.mark.django_db
def test_a_number_range_with_other_numbers_inside_keeps_the_number_test(client, org, monkeypatch):
    """A customer imported with its own number inside the prefix's id range: the range alone would
    find its rows too, so the customer's number is tested as well."""
    from kehu.core import search
    from kehu.customers.models import Customer

    monkeypatch.setattr(search, "PROBE", 2)
    first, imported, last = (make_customer(org.manager) for _i in range(3))
    Customer.all_objects.filter(pk=imported.pk).update(number="CRM-000042")
    prefix = first.number[:8]
    wanted = [make_opportunity(org.manager, customer=c) for c in (first, last)]
    make_opportunity(org.manager, customer=imported)
    rows = client.get(f"/api/v1/opportunities/?q={prefix}", **auth(org.admin)).json()["results"]
    assert {row["id"] for row in rows} == {o.pk for o in wanted}


@pytest.mark.django_db
def test_an_administrators_window_is_walked_from_its_top_when_its_matches_are_dense(client, org, monkeypatch):
    """A short or common term through the customer is searched in the newest rows (the window).
    For a list read by id newest first by someone who sees every row, PostgreSQL walks the window
    down from its top and stops at a page of matches, where listing every match first read the
    whole window (an administrator's invoices for 南宁 at 1M: 27 → 7 ms). The rows are the
    listing's: the same matches of the same window, and the same notice. A term that fills the
    window is common (the whole table), a term the sample does not meet and a department's list
    keep the listing; SQLite always lists."""
    from django.test.utils import CaptureQueriesContext

    from kehu.core import search

    monkeypatch.setattr(search, "RELATED_WINDOW", 8)
    monkeypatch.setattr(search, "SAMPLE_ROWS", 4)
    monkeypatch.setattr(search, "WALKED_PAGE", 1)
    # the customers' index finds the term too often to list them: matched through the join
    monkeypatch.setattr(registry.get("customer").filterset, "probe_ids", classmethod(lambda cls, value: None))
    old = make_opportunity(org.manager, customer=make_customer(org.manager, name="宏达贸易老店"))
    made = [make_opportunity(org.manager if i % 2 else org.manager2,
                             customer=make_customer(org.manager, name="宏达贸易" if i % 4 == 0 else "其他公司"))
            for i in range(8)]
    in_window = [made[4].pk, made[0].pk]  # newest first

    def search_page(user, **params):
        with CaptureQueriesContext(connection) as ctx:
            r = client.get("/api/v1/opportunities/", {"q": "宏达贸", **params}, **auth(user))
        page = [q["sql"] for q in ctx.captured_queries
                if 'FROM "sales_opportunity"' in q["sql"] and " DESC LIMIT " in q["sql"]]
        return r, page[-1]

    r, page = search_page(org.admin)
    assert [row["id"] for row in r.json()["results"]] == in_window and r["X-Kehu-Search-Window"] == "8"
    # (the id list beside it holds the rows of the customers the customers' index found for zh)
    assert ("CASE WHEN" in page) == (connection.vendor == "postgresql"), page
    # the next page continues the walk below the cursor, inside the window
    r2 = client.get("/api/v1/opportunities/", {"q": "宏达贸", "limit": 1}, **auth(org.admin))
    assert [row["id"] for row in r2.json()["results"]] == in_window[:1]
    r2 = client.get("/api/v1/opportunities/", {"q": "宏达贸", "limit": 1, "cursor": r2.json()["next_cursor"]},
                    **auth(org.admin))
    assert [row["id"] for row in r2.json()["results"]] == in_window[1:]
    # sorted otherwise, the window is listed
    with CaptureQueriesContext(connection) as ctx:
        r = client.get("/api/v1/opportunities/", {"q": "宏达贸", "sort": "-created_at"}, **auth(org.admin))
    assert [row["id"] for row in r.json()["results"]] == in_window and r["X-Kehu-Search-Window"] == "8"
    assert not [q for q in ctx.captured_queries if "CASE WHEN" in q["sql"]]
    # only for someone who sees every row, read by id: a department's list keeps the listing
    rt = registry.get("opportunity")
    assert rt.filterset({"q": "宏达贸"}, queryset=rt.visible(org.admin), user=org.admin).reading(rt.model).walks_window
    assert not rt.filterset({"q": "宏达贸", "sort": "-created_at"}, queryset=rt.visible(org.admin),
                            user=org.admin).reading(rt.model).walks_window
    assert not rt.filterset({"q": "宏达贸"}, queryset=rt.visible(org.supervisor), user=org.supervisor).reading(rt.model).walks_window
    # every row of the window matches: common, the whole table, no notice
    monkeypatch.setattr(search, "PROBE", 4)
    for opportunity in made:
        opportunity.customer.name = "宏达贸易"
        opportunity.customer.save()
    r, _page = search_page(org.admin)
    assert [row["id"] for row in r.json()["results"]] == [o.pk for o in reversed(made)] + [old.pk]
    assert "X-Kehu-Search-Window" not in r
    # a term the sample does not meet: listed
    monkeypatch.setattr(search, "PROBE", 5000)
    r = client.get("/api/v1/opportunities/", {"q": "老店"}, **auth(org.admin))
    assert r["X-Kehu-Search-Window"] == "8" and r.json()["results"] == []


@pytest.mark.django_db
def test_a_search_asks_how_its_list_is_read_only_when_its_plan_needs_it(client, org, monkeypatch):
    """ListReading's answers (the sort the page is read in, the user's owners) are worked out only
    when the search's plan reaches them: a customer number, answered by the customers' index,
    asks none; a short term of a rep asks whether the rep's rows are walked, once."""
    from kehu.core.filters import ListReading

    asked = []
    original = ListReading.by_id.func

    def by_id(reading):
        asked.append(reading.model)
        return original(reading)

    by_id_property = ListReading.by_id.__class__(by_id)
    by_id_property.__set_name__(ListReading, "by_id")
    monkeypatch.setattr(ListReading, "by_id", by_id_property)
    a = make_customer(org.manager)
    wanted = make_opportunity(org.manager, customer=a)
    rows = client.get(f"/api/v1/opportunities/?q={a.number}", **auth(org.admin)).json()["results"]
    assert [r["id"] for r in rows] == [wanted.pk]
    assert asked == []
    client.get("/api/v1/opportunities/?q=zh", **auth(org.manager))
    assert len(asked) == (1 if connection.vendor == "postgresql" else 0)


@pytest.mark.django_db
def test_the_rows_of_the_customers_found_are_walked_when_they_are_met_near_the_top(client, org, monkeypatch):
    """A term the customers' index answers (a phone fragment in 3,161 customers at 1M) finds
    opportunities through their customers. When the tables' sizes say those rows are a share a
    page read newest first meets soon, and the table's newest rows confirm it, PostgreSQL walks the
    primary key testing each row's customer against the ids, as a common condition, instead of
    listing every row of those customers first (3,181 opportunities at 1M: 10 ms listed, 3.4 ms to
    the newest 51). The rows are the same; a department's list, a sort by another field, SQLite and
    customers whose rows are all old keep the listing."""
    from django.test.utils import CaptureQueriesContext

    from kehu.core import search

    monkeypatch.setattr(search, "THROUGH_SAMPLE", 6)
    monkeypatch.setattr(search, "WALKED_PAGE", 2)
    monkeypatch.setattr(search, "WALKED_ROWS", 6)
    monkeypatch.setattr(search, "_rows_per_related", lambda model, fk: 1.0)
    monkeypatch.setattr(search, "table_rows", lambda table: 10.0)
    old_found = make_opportunity(org.manager, customer=make_customer(org.manager, phone="13900005957"))
    made = [make_opportunity(org.manager if i % 2 else org.manager2,
                             customer=make_customer(org.manager, phone="13900005957" if i % 3 == 0 else "13800001111"))
            for i in range(9)]
    found = [o.pk for o in reversed(made) if o.customer.phone.endswith("5957")] + [old_found.pk]

    def search_page(user, **params):
        with CaptureQueriesContext(connection) as ctx:
            r = client.get("/api/v1/opportunities/", {"q": "5957", **params}, **auth(user))
        assert r.status_code == 200, r.content
        pages = [q["sql"] for q in ctx.captured_queries
                 if 'FROM "sales_opportunity"' in q["sql"] and " DESC LIMIT " in q["sql"]]
        return [row["id"] for row in r.json()["results"]], r.json().get("next_cursor"), pages[-1]

    rows, _cursor, page = search_page(org.admin)
    assert rows == found
    walked = connection.vendor == "postgresql"
    assert ("CASE WHEN" in page) == walked, page
    # the next page continues the walk below the cursor
    first, cursor, _page = search_page(org.admin, limit=2)
    rest, _cursor, _page = search_page(org.admin, limit=2, cursor=cursor)
    assert first + rest == found
    # another order, and a department's list: listed
    rows, _cursor, page = search_page(org.admin, sort="-created_at")
    assert sorted(rows) == sorted(found) and "CASE WHEN" not in page
    rows, _cursor, page = search_page(org.supervisor)
    assert "CASE WHEN" not in page
    # the customers found have no rows among the table's newest: listed, not walked through the table
    for _i in range(6):
        make_opportunity(org.manager, customer=make_customer(org.manager, phone="13800002222"))
    rows, _cursor, page = search_page(org.admin)
    assert rows == found and "CASE WHEN" not in page


@pytest.mark.django_db
def test_a_number_ranges_exactness_is_counted_once_until_its_ends_move(client, org, monkeypatch):
    """Whether a prefix's id range holds only its customers takes two counts (5-13 ms for a month of
    customers at 1M), on every page of every list searched through the customer's number. It is
    kept a minute with the range's ends: a new customer of the prefix moves an end and is counted."""
    from django.test.utils import CaptureQueriesContext

    from kehu.core import search

    monkeypatch.setattr(search, "PROBE", 2)
    made = [make_customer(org.manager) for _i in range(3)]
    wanted = {make_opportunity(org.manager, customer=c).pk for c in made}
    prefix = made[0].number[:8]

    def search_counts():
        with CaptureQueriesContext(connection) as queries:
            rows = client.get(f"/api/v1/opportunities/?q={prefix}", **auth(org.admin)).json()["results"]
        counts = [q["sql"] for q in queries.captured_queries
                  if "COUNT(*)" in q["sql"] and '"customers_customer"' in q["sql"]]
        return {row["id"] for row in rows}, counts

    found, counts = search_counts()
    assert found == wanted and counts
    found, counts = search_counts()
    assert found == wanted and counts == []
    newer = make_opportunity(org.manager, customer=make_customer(org.manager))
    found, counts = search_counts()
    assert found == wanted | {newer.pk} and counts


@pytest.mark.django_db
def test_a_reps_number_prefix_reads_the_reps_rows_of_the_range_once(client, org):
    """A rep's rows of a customer-number range are listed in one query: they are usually fewer than
    the probe, so the rep's list is not asked first whether it has PROBE of them (`OFFSET`), which
    built the rep's scope twice (SQLite, a rep's tickets for KH202312: 11 + 3 ms). An
    administrator's list, where a month's customers usually have more, still asks first."""
    from django.test.utils import CaptureQueriesContext

    mine = [make_customer(org.manager) for _i in range(2)]
    wanted = [make_opportunity(org.manager, customer=c) for c in mine]
    make_opportunity(org.manager2, customer=make_customer(org.manager2))
    prefix = mine[0].number[:8]
    for user, expected, asked in ((org.manager, {o.pk for o in wanted}, False), (org.admin, None, True)):
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(f"/api/v1/opportunities/?q={prefix}", **auth(user))
        assert r.status_code == 200
        if expected is not None:
            assert {row["id"] for row in r.json()["results"]} == expected
        offsets = [q["sql"] for q in ctx.captured_queries if "sales_opportunity" in q["sql"] and " OFFSET " in q["sql"]]
        assert bool(offsets) == asked, (user, offsets)
