"""Tests on real concurrent connections (stock shipped, payments recorded at once).

PostgreSQL: the threads use the test database (each thread its own connection). SQLite: the test
database is in memory (shared cache, where a second writer fails instead of waiting), so the
committed test data is copied into a database file and the threads' connections open that file:
WAL, busy timeout and `BEGIN IMMEDIATE`, as the application runs (kehu/settings.py)."""

import sqlite3
import threading

import pytest
from django.db import connection, connections

THREADS = 8


@pytest.fixture
def shared_database(tmp_path):
    """share(): after the test's data is committed, a function that points the calling thread's
    default connection at the database the threads share."""

    def share():
        if connection.vendor != "sqlite":
            return lambda: None
        path = str(tmp_path / "concurrency.sqlite3")
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)  # the committed test data, schema and the migrations' rows
        # WAL before the threads open it: each connection's init_command asks for WAL, and a switch
        # of journal mode taken by eight connections at once can fail with "database is locked"
        target.execute("PRAGMA journal_mode=WAL")
        target.close()
        settings = {**connection.settings_dict, "NAME": path,
                    "TEST": {**connection.settings_dict["TEST"], "NAME": path}}
        backend = type(connections["default"])  # the database wrapper class (`connection` is a proxy)

        def use_file():
            connections["default"] = backend(settings, "default")

        return use_file

    return share


def run_threads(work, threads: int = THREADS):
    """Run work(i) in `threads` threads started together; fail with every exception raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def wrapped(i):
        try:
            start.wait()
            work(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=wrapped, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors
