"""The restore drill (issue 15): a backup taken while another connection keeps writing, restored into an
empty database: 100 % of the tables equal to the manifest by count and checksum, and the restored data
is one consistent moment (each writer transaction is there whole or not at all).

SQLite: the test database is in memory, so the committed test data is copied into a WAL database file
that both the writer thread and the backup open, as Kehu runs (kehu/settings.py). PostgreSQL: the
test database itself; the restore goes into a scratch database on the same server."""

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from kehu.core.backup import checksums
from kehu.core.backup.engines import SqliteDatabase, database_for
from kehu.core.backup.service import create_backup, restore_archive
from kehu.core.testing.backup import english, query  # noqa: F401 - english: autouse
from kehu.core.testing.backup import table_stats as stats
from kehu.core.testing.factories import make_user
from kehu.customers.testing import make_customer

PAIR = ("INSERT INTO core_jobrun (name, last_run_at) VALUES ({p}, {p})",
        "INSERT INTO core_notification (user_id, title, body, url, created_at) VALUES ({p}, {p}, '', '', {p})")

class Writer(threading.Thread):
    """Writes a job run and a notification in one transaction, again and again, until stopped."""

    def __init__(self, source, user_id):
        super().__init__(daemon=True)
        self.source, self.user_id = source, user_id
        self.written, self.error = 0, None
        self.stop = threading.Event()

    def run(self):
        try:
            if self.source.vendor == "sqlite":
                conn = sqlite3.connect(self.source.path, timeout=30, isolation_level=None)
                p, begin, commit = "?", lambda: conn.execute("BEGIN IMMEDIATE"), lambda: conn.execute("COMMIT")
                execute = conn.execute
            else:
                conn = self.source.connect(autocommit=True)
                p, begin, commit = "%s", lambda: conn.execute("BEGIN"), lambda: conn.execute("COMMIT")
                execute = conn.execute
            while not self.stop.is_set():
                now = timezone.now().isoformat() if self.source.vendor == "sqlite" else timezone.now()
                name = f"drill-{self.written}"
                begin()
                execute(PAIR[0].format(p=p), (name, now))
                execute(PAIR[1].format(p=p), (self.user_id, name, now))
                commit()
                self.written += 1
                time.sleep(0.002)
            conn.close()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def wait_for(self, n, timeout=60):
        deadline = time.monotonic() + timeout
        while self.written < n and self.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.error is None, self.error
        assert self.written >= n, f"the writer wrote only {self.written}"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_restore_drill_under_concurrent_writes(tmp_path):
    owner = make_user("drill_owner", "account_manager")
    for i in range(120):
        make_customer(owner, name=f"演练客户{i}号有限公司", phone=f"+86139{i:08d}")
    media = tmp_path / "media"
    (media / "attachments").mkdir(parents=True)
    for i in range(5):
        (media / "attachments" / f"file{i}.bin").write_bytes(bytes([i]) * (1000 * (i + 1)))

    if connection.vendor == "sqlite":
        path = tmp_path / "kehu.sqlite3"
        connection.ensure_connection()
        file = sqlite3.connect(path)
        connection.connection.backup(file)  # the committed test data into a file, as Kehu runs
        file.execute("PRAGMA journal_mode=WAL")
        file.close()
        source = SqliteDatabase(path)
        target = SqliteDatabase(tmp_path / "restored.sqlite3")
    else:
        source = database_for()
        target = source.scratch(tmp_path)

    writer = Writer(source, owner.pk)
    writer.start()
    try:
        writer.wait_for(20)
        result = create_backup(tmp_path / "out", database=source, media_root=media)  # verified inside
        at_backup_end = writer.written
        writer.wait_for(at_backup_end + 20)  # and writing goes on after it
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None, writer.error

    try:
        summary = restore_archive(result.path, database=target, media_root=tmp_path / "restored-media")
        manifest = result.manifest
        restored = stats(target)
        # 100 % of the tables: every table of the source is in the manifest, and each restored table
        # equals the manifest by row count and checksum
        assert set(manifest["tables"]) == set(stats(source)) == set(restored)
        assert checksums.compare(manifest["tables"], restored) == []
        assert summary["tables"] == len(manifest["tables"]) and summary["media"] == 5
        assert manifest["tables"]["customers_customer"]["rows"] == 120
        # one consistent moment: each pair is whole; some writes came before the snapshot, some after
        runs = query(target, "SELECT count(*) FROM core_jobrun WHERE name LIKE 'drill-%'")
        notes = query(target, "SELECT count(*) FROM core_notification WHERE title LIKE 'drill-%'")
        assert runs == notes == manifest["tables"]["core_jobrun"]["rows"]
        assert 20 <= runs < writer.written
        assert query(source, "SELECT count(*) FROM core_jobrun WHERE name LIKE 'drill-%'") == writer.written
        for i in range(5):
            assert (tmp_path / "restored-media" / "attachments" / f"file{i}.bin").read_bytes() == bytes([i]) * (1000 * (i + 1))
    finally:
        target.destroy()
    assert Path(result.path).exists()
