"""PostgreSQL: timestamps read by psycopg's C loader (issue 17).

Django's psycopg backend registers its own text loader of `timestamptz` on every connection, a
Python subclass of psycopg's pure-Python loader: ~3.2 µs a value, where psycopg's C loader
(psycopg[binary]) takes ~0.2 µs. A list page of 50 rows reads 100-200 timestamps; the mixed
load's requests read ~60 each. With the connection's time zone UTC (Django's with USE_TZ), the C
loader returns exactly what Django's does: an aware datetime whose tzinfo is `timezone.utc`.

The loader given to each new connection hands out the C loader's `load` and carries the
`timezone` attribute Django compares before registering its own on a cursor (base.py:
`if self.timezone != tzloader.timezone`), so Django keeps it. Without psycopg's C
implementation, or with another connection time zone, nothing changes."""

from __future__ import annotations

from datetime import UTC
from functools import cache

from django.db.backends.signals import connection_created
from django.dispatch import receiver


@cache
def c_timestamptz_loader():
    """A subclass of psycopg's C text loader of timestamptz, or None where there is none."""
    try:
        import psycopg
        from psycopg.postgres import types
        from psycopg.pq import Format
    except ImportError:
        return None
    from psycopg.adapt import Loader

    fast = psycopg.adapters.get_loader(types["timestamptz"].oid, Format.TEXT)
    if fast is None or not fast.__module__.startswith("psycopg_"):  # psycopg_binary / psycopg_c
        return None

    class UtcTimestamptzLoader(Loader):
        """psycopg's C loader (a final type: wrapped, its `load` handed out as this one's)."""

        timezone = UTC  # what Django's loader for a UTC connection carries

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self.load = fast(oid, context).load

        def load(self, data):  # replaced per instance by the C loader's
            raise NotImplementedError

    return UtcTimestamptzLoader


@receiver(connection_created, dispatch_uid="kehu-c-timestamp-loader")
def _use_c_loader(sender, connection, **kwargs):
    if connection.vendor != "postgresql" or connection.timezone != UTC:
        return
    loader = c_timestamptz_loader()
    if loader is not None:
        connection.connection.adapters.register_loader("timestamptz", loader)
