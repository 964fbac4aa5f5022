"""Every search index survives the migrations: on SQLite each FTS5 table (kehu/core/search.py,
customers' and contacts' own) keeps the three triggers that feed it. Django's SQLite schema editor
rebuilds a table to add a NOT NULL column with a default, and a rebuilt table has lost its triggers:
search then finds nothing new (orders/0005 did this before it added its column in place)."""

import pytest
from django.db import connection

from kehu.core.registry import registry

pytestmark = pytest.mark.django_db


def test_every_search_index_is_fed_after_the_migrations():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%fts5%'")
            tables = [row[0] for row in cursor.fetchall()]
            cursor.execute("SELECT name FROM sqlite_schema WHERE type = 'trigger'")
            triggers = {row[0] for row in cursor.fetchall()}
            missing = [f"{t}_{kind}" for t in tables for kind in ("ai", "ad", "au") if f"{t}_{kind}" not in triggers]
            assert tables and not missing, missing
        else:
            cursor.execute("SELECT tablename FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%'")
            tables = {row[0] for row in cursor.fetchall()}
            indexed = {rt.model._meta.db_table for rt in registry.all()
                       if rt.filterset is not None and getattr(rt.filterset, "search_indexed", False)}
            assert indexed and indexed <= tables, indexed - tables


def test_a_new_order_is_found_through_the_search_index(org):
    from kehu.core import search
    from kehu.orders.testing import make_order

    order = make_order(org.manager, title="检索触发器订单")
    assert order.pk in search.probe("orders_order", ["number", "title"], "触发器")
