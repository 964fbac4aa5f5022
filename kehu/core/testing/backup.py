"""What the backup tests share (kehu/core/tests/test_backup*.py): the per-table figures and a one-value
query of a backup engine's database, whichever its kind, and English messages."""

import sqlite3

import pytest
from django.utils import translation

from kehu.core.backup import checksums


@pytest.fixture(autouse=True)
def english():
    """The messages are read in English (the site's language is Chinese). Autouse in a test module
    that imports it."""
    with translation.override("en"):
        yield


def table_stats(db) -> dict:
    """Row count and checksum of every table of `db` (a `kehu.core.backup.engines` database)."""
    if db.vendor == "sqlite":
        conn = sqlite3.connect(db.path)
        try:
            return checksums.sqlite_stats(conn)
        finally:
            conn.close()
    with db.connect() as conn:
        return checksums.pg_stats(conn.cursor())


def query(db, sql: str):
    """The first value of `sql` run on `db`."""
    if db.vendor == "sqlite":
        conn = sqlite3.connect(db.path)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    with db.connect() as conn:
        return conn.execute(sql).fetchone()[0]
