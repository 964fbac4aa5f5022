"""The database triggers that keep derived data (search indexes, pipeline totals) exist after every
migration. On SQLite, Django's schema editor rebuilds a table for many column changes and the
rebuild drops its triggers silently: search then stops finding new text (it happened once, with the
columns of migration customers 0013, until they were added in place)."""

import re

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_every_search_index_and_total_keeps_its_triggers():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%fts5%'")
            fts_tables = [row[0] for row in cursor.fetchall()]
            cursor.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
            triggers = dict(cursor.fetchall())
            assert len(fts_tables) >= 4, fts_tables  # customers, contacts, follow-ups, products…
            for fts in fts_tables:
                for suffix in ("ai", "ad", "au"):
                    assert f"{fts}_{suffix}" in triggers, f"{fts}_{suffix} is missing: its table was rebuilt"
            expected = {"sales_pipeline_total_ai", "sales_pipeline_total_ad", "sales_pipeline_total_au"}
        else:
            cursor.execute("SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal")
            triggers = dict(cursor.fetchall())
            expected = {"sales_pipeline_total_ins", "sales_pipeline_total_del", "sales_pipeline_total_upd"}
        assert expected <= set(triggers), expected - set(triggers)
        assert all(re.match(r"^[a-z_]+$", t) for t in triggers)


def test_a_new_order_is_found_through_the_search_index(org):
    """orders/0005 added a column by rebuilding orders_order on SQLite until it was added in place:
    new orders were then missing from the search index."""
    from kehu.core import search
    from kehu.orders.testing import make_order

    order = make_order(org.manager, title="检索触发器订单")
    assert order.pk in search.probe("orders_order", ["number", "title"], "触发器")
