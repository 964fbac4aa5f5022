"""No request holds a server worker for long: a time limit on each web request's database work.

`ErrorMiddleware` opens a deadline for every request (`KEHU_STATEMENT_TIMEOUT_MS`, default 15 s,
0 = off). Past it the running statement is stopped by the database itself:

- PostgreSQL: `statement_timeout`, set once on each connection opened while a request runs (a
  server worker's connections; the background worker's connections have no limit: exports and
  sweeps may take long);
- SQLite: a progress handler, called every few thousand virtual-machine steps, interrupts the
  statement once the request's deadline has passed (SQLite has no statement timeout of its own).

The middleware answers 503 (JSON under /api/) with a clear message, and the slow statement is
logged with its SQL. Jobs, the shell and management commands run without a deadline.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time

from django.conf import settings
from django.db import connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver

log = logging.getLogger("kehu.slow")

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("kehu_deadline", default=None)
PROGRESS_STEPS = 10_000  # SQLite VM instructions between two looks at the clock (~0.1-1 ms)


def limit_ms() -> int:
    return int(getattr(settings, "KEHU_STATEMENT_TIMEOUT_MS", 0) or 0)


@contextlib.contextmanager
def request_deadline():
    """The time limit of one request; inside it the statements that run are watched."""
    ms = limit_ms()
    if not ms:
        yield
        return
    token = _deadline.set(time.monotonic() + ms / 1000)
    try:
        with contextlib.ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(_log_slow))
            yield
    finally:
        _deadline.reset(token)


def _past_deadline() -> int:
    deadline = _deadline.get()
    return 1 if deadline is not None and time.monotonic() > deadline else 0


@receiver(connection_created, dispatch_uid="kehu-statement-deadline")
def _watch(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.set_progress_handler(_past_deadline, PROGRESS_STEPS)
    elif connection.vendor == "postgresql" and _deadline.get() is not None and limit_ms():
        with connection.connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {limit_ms():d}")


def is_timeout(exc) -> bool:
    """A statement stopped by the limit (SQLite: "interrupted"; PostgreSQL: QueryCanceled)."""
    cause = exc.__cause__ or exc
    return type(cause).__name__ == "QueryCanceled" or "interrupted" in str(exc) or \
        "statement timeout" in str(exc)


def _log_slow(execute, sql, params, many, context):
    started = time.monotonic()
    try:
        return execute(sql, params, many, context)
    except Exception as exc:
        if is_timeout(exc):
            log.warning("statement stopped after %.1f s (KEHU_STATEMENT_TIMEOUT_MS=%d): %s",
                        time.monotonic() - started, limit_ms(), " ".join(str(sql).split())[:2000])
        raise
