"""A record read by id through the data scope, compiled once per connection and scope (kehu/core/reads.py)."""

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kehu.core import reads
from kehu.core.api import tags_in_rows
from kehu.core.registry import registry
from kehu.core.testing.factories import auth
from kehu.customers.testing import make_contact, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def compiles(monkeypatch):
    made = []
    real = reads._compile

    def counting(qs, conn):
        made.append(qs.model)
        return real(qs, conn)

    monkeypatch.setattr(reads, "_compile", counting)
    connection.__dict__.pop("_kehu_page_queries", None)
    return made


def _fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_a_read_is_the_records_own_row_and_is_compiled_once_per_scope(org, compiles):
    rt = registry.get("customer")
    first = make_customer(org.manager, "远航科技有限公司", phone="13812345678")
    second = make_customer(org.manager, "星河贸易有限公司")
    first.set_tags(["重点", "华东"])
    with_tags = tags_in_rows(rt)  # the tag names in the row: PostgreSQL
    got = reads.read_one(rt, org.manager, first.pk, tags=with_tags)
    assert _fields(got) == _fields(rt.model._default_manager.get(pk=first.pk))
    assert not got._state.adding and got._state.db == "default"
    if with_tags:
        assert sorted(got.tag_names) == ["华东", "重点"]
    with CaptureQueriesContext(connection) as queries:
        again = reads.read_one(rt, org.manager, second.pk, tags=with_tags)
    assert again.pk == second.pk and again.name == "星河贸易有限公司"
    assert len(queries.captured_queries) == 1
    assert compiles == [rt.model]  # the second read ran the first one's SQL with another id
    # the supervisor above the manager's team has another scope: its own SQL, the same rows
    assert reads.read_one(rt, org.supervisor, first.pk, tags=with_tags).pk == first.pk
    assert len(compiles) == 2


def test_a_compiled_read_never_shows_a_record_outside_the_readers_scope(org, compiles):
    rt = registry.get("customer")
    mine = make_customer(org.manager, "一组的客户")
    theirs = make_customer(org.manager2, "二部的客户")
    assert reads.read_one(rt, org.supervisor, mine.pk).pk == mine.pk
    assert reads.read_one(rt, org.supervisor, theirs.pk) is None  # the same compiled SQL, another id
    assert reads.read_one(rt, org.manager2, mine.pk) is None
    assert reads.read_one(rt, org.manager2, theirs.pk).pk == theirs.pk
    assert reads.read_one(rt, org.nobody, mine.pk) is None  # a scope that sees nothing
    # manager2 moves into the supervisor's department: the scope's key changes with it
    org.manager2.department = org.sales1
    org.manager2.save()
    supervisor = type(org.supervisor).objects.get(pk=org.supervisor.pk)  # as the next request loads it
    assert reads.read_one(rt, supervisor, theirs.pk).pk == theirs.pk


def test_a_related_record_is_read_with_what_its_type_joins(org, compiles):
    rt = registry.get("contact")
    customer = make_customer(org.manager, "远航科技有限公司")
    contact = make_contact(customer, "王芳", mobile="13900001111")
    got = reads.read_one(rt, org.manager, contact.pk)
    plain = rt.visible(org.manager).get(pk=contact.pk)
    assert _fields(got) == _fields(plain)
    for name in rt.model._meta.fields:  # the joined relations are filled as Django's own read fills them
        if name.is_relation and name.is_cached(plain):
            assert name.is_cached(got) and getattr(got, name.name).pk == getattr(plain, name.name).pk


def test_a_locked_read_and_an_impossible_id(org, compiles):
    rt = registry.get("customer")
    customer = make_customer(org.manager, "远航科技有限公司")
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert reads.read_one(rt, org.manager, customer.pk, lock=True).pk == customer.pk
    if connection.vendor == "postgresql":
        assert "FOR UPDATE OF" in queries.captured_queries[-1]["sql"]
    assert reads.read_one(rt, org.manager, 2**63) is None
    assert reads.read_one(rt, org.manager, -(2**63) - 1) is None
    client = Client(**auth(org.manager))
    assert client.get(f"/api/v1/customers/{2**64}").status_code == 404


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_locked_read_outside_a_transaction_is_refused_as_django_refuses_it(org, compiles):
    rt = registry.get("customer")
    customer = make_customer(org.manager, "远航科技有限公司")
    with transaction.atomic():
        assert reads.read_one(rt, org.manager, customer.pk, lock=True).pk == customer.pk  # compiled
    with pytest.raises(TransactionManagementError):
        reads.read_one(rt, org.manager, customer.pk, lock=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_on_postgresql_the_read_is_a_prepared_statement_planned_once_for_all_ids(org, compiles, settings):
    rt = registry.get("customer")
    made = [make_customer(org.manager, f"预备客户{i}") for i in range(12)]
    for customer in made:
        assert reads.read_one(rt, org.manager, customer.pk).pk == customer.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                       "WHERE statement LIKE 'SELECT %%customers_customer%%'")
        plans = cursor.fetchall()
    assert len(plans) == 1, plans
    generic, custom = plans[0]
    assert generic + custom == len(made) and generic >= len(made) - 5  # the server stopped planning it
    with connection.cursor() as cursor:  # every other query stays unprepared
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement NOT LIKE '%%customers_customer%%'")
        assert cursor.fetchone() == (0,)
    settings.KEHU_PREPARED_READS = False  # behind a pooler in transaction mode
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection.connection._prepared.clear()  # (psycopg's own list of what it prepared)
    assert reads.read_one(rt, org.manager, made[0].pk).pk == made[0].pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone() == (0,)


def test_a_forms_chosen_record_is_read_through_the_scope(org, compiles):
    """A follow-up's customer (and a contact, an opportunity...) is chosen among the records the
    user sees and read with the compiled read: another department's customer is refused on the
    field, one's own is read once per scope, not compiled per form."""
    import json

    own, other = make_customer(org.manager, "自家客户有限公司"), make_customer(org.manager2, "别家客户有限公司")
    client = Client(**auth(org.manager))

    def post(customer):
        return client.post("/api/v1/followups/", json.dumps({"customer": customer, "topic": "回访",
                                                              "occurred_at": "2026-12-01T10:00:00+08:00"}),
                           content_type="application/json")

    refused = post(other.pk)
    assert refused.status_code == 422 and "customer" in refused.content.decode()
    for bad in ("abc", 2**70, -1, True):
        response = post(bad)
        assert response.status_code == 422 and "customer" in response.content.decode(), bad
    compiles.clear()
    with CaptureQueriesContext(connection) as ctx:
        assert post(own.pk).status_code == 201
        assert post(own.pk).status_code == 201
    customer_reads = [q["sql"] for q in ctx.captured_queries
                      if q["sql"].startswith("SELECT") and 'FROM "customers_customer"' in q["sql"]]
    assert len(customer_reads) == 2 and all("LIMIT 21" not in sql for sql in customer_reads)  # not QuerySet.get()
    assert compiles.count(own.__class__) <= 1  # the customer's read was compiled already, or once


def test_a_chosen_record_narrowed_further_is_decided_by_the_narrowed_queryset(org):
    from django import forms

    from kehu.activities.forms import FollowUpForm

    own, second = make_customer(org.manager), make_customer(org.manager)
    form = FollowUpForm(user=org.manager)
    field = form.fields["customer"]
    assert field.to_python(str(own.pk)) == own
    field.queryset = field.queryset.filter(pk=second.pk)
    with pytest.raises(forms.ValidationError):
        field.to_python(str(own.pk))
    assert field.to_python(str(second.pk)) == second


def test_a_new_records_own_owner_is_not_read_again(org):
    """A user creating a record owns it by default; the form answers that owner with the user
    itself instead of reading the user's row, and any other owner still goes through the rule."""
    import json

    def user_reads(client, body):
        with CaptureQueriesContext(connection) as ctx:
            response = client.post("/api/v1/customers/", json.dumps(body), content_type="application/json")
        return response, [q for q in ctx.captured_queries if 'FROM "accounts_user"' in q["sql"]]

    manager = Client(**auth(org.manager))
    response, reads_ = user_reads(manager, {"name": "自己的客户有限公司"})
    assert response.status_code == 201 and response.json()["owner"] == org.manager.pk and not reads_
    response, _ = user_reads(manager, {"name": "别人的客户有限公司", "owner": org.manager2.pk})
    assert response.status_code in (403, 422)  # an account manager may not give it away
    admin = Client(**auth(org.admin))
    response, reads_ = user_reads(admin, {"name": "分给经理的客户有限公司", "owner": org.manager2.pk})
    assert response.status_code == 201 and response.json()["owner"] == org.manager2.pk and reads_
