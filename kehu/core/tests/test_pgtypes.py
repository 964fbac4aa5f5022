"""PostgreSQL reads timestamps through psycopg's C loader (kehu/core/pgtypes.py), with the values
Django's own loader gives."""

import datetime as dt

import pytest
from django.db import connection

from kehu.core.pgtypes import c_timestamptz_loader

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's loaders: PostgreSQL")


@pytest.mark.django_db
def test_timestamps_are_read_by_the_c_loader_and_equal_djangos():
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.postgres import types
    from psycopg.pq import Format

    loader = c_timestamptz_loader()
    assert loader is not None
    assert type(loader(types["timestamptz"].oid, None).load.__self__).__module__.startswith("psycopg_")  # C
    sql = ("SELECT v FROM (VALUES (%s::timestamptz), ('2024-02-29 23:59:59.000001+08'), "
           "('1999-12-31 16:00:00-08'), ('2026-12-06 01:02:03+00'), ('0001-01-01 00:00:00+00'), (NULL)) AS t(v)")
    given = dt.datetime(2026, 3, 8, 2, 30, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    with connection.cursor() as cursor:
        assert cursor.cursor.adapters.get_loader(types["timestamptz"].oid, Format.TEXT) is loader
        cursor.execute(sql, [given])
        fast = [row[0] for row in cursor.fetchall()]
    with connection.cursor() as cursor:
        register_tzloader(connection.timezone, cursor.cursor)  # Django's own, on this cursor only
        cursor.execute(sql, [given])
        slow = [row[0] for row in cursor.fetchall()]
    assert fast == slow and fast[0] == given and fast[-1] is None
    assert all(v.tzinfo is dt.UTC for v in fast[:-1])
    assert [v.isoformat() for v in fast[:-1]] == [v.isoformat() for v in slow[:-1]]
