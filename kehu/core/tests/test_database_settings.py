"""DATABASE_URL and the planner settings every PostgreSQL connection starts with (kehu/settings.py):
`random_page_cost = 1.1` (SSDs) and `jit = off` (JIT compiled for 39-78 ms before probes of a few
milliseconds whose estimate was inflated; docs/decisions.md)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from kehu.settings import database_from_url

URL = "postgres://kehu:secret@db.example:5433/crm"


def test_postgresql_connections_start_with_ssd_costs_and_without_jit(monkeypatch):
    monkeypatch.delenv("KEHU_PG_RANDOM_PAGE_COST", raising=False)
    monkeypatch.delenv("KEHU_PG_JIT", raising=False)
    db = database_from_url(URL)
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == ("crm", "kehu", "secret",
                                                                               "db.example", "5433")
    assert db["OPTIONS"]["options"] == "-c random_page_cost=1.1 -c jit=off"


def test_the_url_options_are_kept_and_empty_settings_leave_the_servers(monkeypatch):
    monkeypatch.setenv("KEHU_PG_RANDOM_PAGE_COST", "")
    monkeypatch.setenv("KEHU_PG_JIT", "")
    db = database_from_url(URL + "?sslmode=require&options=-c%20work_mem%3D64MB")
    assert db["OPTIONS"] == {"sslmode": "require", "options": "-c work_mem=64MB"}
    monkeypatch.setenv("KEHU_PG_JIT", "On")
    assert database_from_url(URL)["OPTIONS"]["options"] == "-c jit=on"


def test_a_wrong_jit_setting_is_named(monkeypatch):
    monkeypatch.setenv("KEHU_PG_JIT", "maybe")
    with pytest.raises(ImproperlyConfigured, match="KEHU_PG_JIT"):
        database_from_url(URL)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's settings (the suite's PostgreSQL run)")
@pytest.mark.django_db
def test_the_suites_own_connection_has_them():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "1.1"
