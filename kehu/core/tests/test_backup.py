"""Backups: the archive round trip, and every way an archive or a target is refused (issue 15).

Each test runs on the suite's database (SQLite, and PostgreSQL in `make test`): the backup is taken
from the test database, restored into a scratch target (a temporary SQLite file; a new PostgreSQL
database on the same server, dropped after). The tests commit their data (transactional tests)."""

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kehu.core.backup import checksums
from kehu.core.backup.archive import MANIFEST, ArchiveError, read_archive, read_manifest, seal
from kehu.core.backup.engines import BackupError, NotEmpty, SqliteDatabase, database_for
from kehu.core.backup.service import create_backup, restore_archive, verify_archive
from kehu.core.testing.backup import english  # noqa: F401 - autouse
from kehu.core.testing.backup import table_stats as stats_of
from kehu.core.testing.factories import make_user
from kehu.customers.testing import make_customer

# committed data: on PostgreSQL pg_dump reads from its own connection, which cannot see a test's
# open transaction
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

@pytest.fixture
def data(settings):
    owner = make_user("backup_owner", "account_manager")
    for i in range(30):
        make_customer(owner, name=f"北京备份测试{i}号有限公司", phone=f"+86138000{i:05d}", notes="多行\n备注 'quoted' \"x\"")
    media = Path(settings.MEDIA_ROOT)
    (media / "attachments" / "2026").mkdir(parents=True)
    (media / "attachments" / "2026" / "合同.pdf").write_bytes(b"%PDF-1.4 " + bytes(range(256)) * 40)
    (media / "attachments" / "2026" / "note.txt").write_text("附件 attachment")
    return owner


@pytest.fixture
def target(tmp_path):
    """An empty database of the suite's kind to restore into, removed after."""
    made = []

    def make():
        source = database_for()
        db = source.scratch(tmp_path) if source.vendor == "postgresql" else SqliteDatabase(tmp_path / f"t{len(made)}.sqlite3")
        made.append(db)
        return db

    yield make
    for db in made:
        db.destroy()


def backup(tmp_path, **kw):
    return create_backup(tmp_path / "out", **kw)


def test_round_trip_restores_every_table_and_file(data, tmp_path, target, settings):
    result = backup(tmp_path)
    manifest = result.manifest
    assert result.path.name.startswith("kehu-backup-") and result.path.suffix == ".tar"
    assert result.verify_seconds is not None  # verified in a scratch database
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["tables"]["customers_customer"]["rows"] == 30
    assert manifest["media"] == {"files": 2, "bytes": 10249 + len("附件 attachment".encode())}
    assert "0010_backuprun" in manifest["migrations"]["core"]
    assert manifest["kehu_version"]
    with tarfile.open(result.path) as tar:
        names = tar.getnames()
    assert names[-1] == MANIFEST and "media/attachments/2026/合同.pdf" in names

    db = target()
    media = tmp_path / "restored-media"
    summary = restore_archive(result.path, database=db, media_root=media)
    assert summary["tables"] == len(manifest["tables"]) and summary["media"] == 2
    restored = stats_of(db)
    assert checksums.compare(manifest["tables"], restored) == []  # 100 % of the tables, by count and checksum
    for name in ("合同.pdf", "note.txt"):
        original = Path(settings.MEDIA_ROOT) / "attachments" / "2026" / name
        assert (media / "attachments" / "2026" / name).read_bytes() == original.read_bytes()


def test_the_checksum_sees_a_changed_value(data, tmp_path, target):
    result = backup(tmp_path)
    db = target()
    restore_archive(result.path, database=db, media_root=tmp_path / "m")
    if db.vendor == "sqlite":
        import sqlite3

        conn = sqlite3.connect(db.path)
        conn.execute("UPDATE customers_customer SET notes = notes || '.' WHERE id = (SELECT min(id) FROM customers_customer)")
        conn.commit()
        conn.close()
    else:
        with db.connect() as conn:
            conn.execute("UPDATE customers_customer SET notes = notes || '.' WHERE id = (SELECT min(id) FROM customers_customer)")
    problems = checksums.compare(result.manifest["tables"], stats_of(db))
    assert len(problems) == 1 and problems[0].startswith("customers_customer: checksum")


def _rewrite(path: Path, out: Path, change):
    """Copy the tar member by member; change(name, data) returns new bytes, None to drop the member."""
    with tarfile.open(path) as src, tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as dst:
        for info in src:
            data = src.extractfile(info).read()
            new = change(info.name, data)
            if new is None:
                continue
            info.size = len(new)
            dst.addfile(info, io.BytesIO(new))
    return out


@pytest.mark.parametrize("where", ["database", "media", "before manifest", "manifest"])
def test_a_truncated_archive_is_refused(data, tmp_path, target, where):
    result = backup(tmp_path)
    with tarfile.open(result.path) as tar:
        members = {info.name: info for info in tar}
    db_member = members[result.manifest["database"]["member"]]
    manifest = members[MANIFEST]
    cut_at = {"database": db_member.offset_data + db_member.size // 2,
              "media": members["media/attachments/2026/合同.pdf"].offset_data + 100,
              "before manifest": manifest.offset,  # every other member complete
              "manifest": manifest.offset_data + manifest.size // 2}[where]
    cut = tmp_path / "cut.tar"
    cut.write_bytes(result.path.read_bytes()[:cut_at])
    db = target()
    with pytest.raises(ArchiveError, match="incomplete|cut short"):
        restore_archive(cut, database=db, media_root=tmp_path / "m")
    assert db.table_count() == 0  # nothing was touched
    with pytest.raises(CommandError, match="incomplete|cut short"):
        call_command("restore", str(cut), "--check")


def test_a_changed_member_is_refused(data, tmp_path, target):
    result = backup(tmp_path)
    bad = _rewrite(result.path, tmp_path / "bad.tar",
                   lambda name, data: data.replace("附件".encode(), "附伴".encode()) if name.endswith("note.txt") else data)
    db = target()
    with pytest.raises(ArchiveError, match="note.txt .*does not match its checksum"):
        restore_archive(bad, database=db, media_root=tmp_path / "m")
    assert db.table_count() == 0 and not (tmp_path / "m").exists()


def test_a_changed_database_member_is_refused(data, tmp_path):
    result = backup(tmp_path)
    member = result.manifest["database"]["member"]

    def flip(name, data):
        if name != member:
            return data
        data = bytearray(data)
        data[len(data) // 2] ^= 0xFF
        return bytes(data)

    bad = _rewrite(result.path, tmp_path / "bad.tar", flip)
    with pytest.raises(ArchiveError, match="does not match its checksum"):
        verify_archive(bad)


def test_a_changed_manifest_is_refused(data, tmp_path):
    result = backup(tmp_path)

    def lie(name, data):
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["tables"]["customers_customer"]["rows"] = 31
        return json.dumps(manifest).encode()

    bad = _rewrite(result.path, tmp_path / "bad.tar", lie)
    with pytest.raises(ArchiveError, match="manifest .*changed"):
        read_manifest(bad)


def test_a_resealed_manifest_that_lies_fails_the_comparison(data, tmp_path, target):
    """Someone who edits the manifest and seals it again: the counts no longer match the database."""
    result = backup(tmp_path)

    def lie(name, data):
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["tables"]["customers_customer"]["rows"] = 31
        return json.dumps(seal(manifest)).encode()

    bad = _rewrite(result.path, tmp_path / "bad.tar", lie)
    with pytest.raises(BackupError, match="customers_customer: 30 rows, expected 31"):
        verify_archive(bad)
    db = target()
    with pytest.raises(BackupError, match="customers_customer: 30 rows, expected 31"):
        restore_archive(bad, database=db, media_root=tmp_path / "m")
    assert db.table_count() == 0  # what differs from the manifest is not left behind


def test_verification_restores_with_parallel_jobs_and_a_restore_in_one_transaction(data, tmp_path, target,
                                                                                      monkeypatch, settings):
    """pg_restore into the scratch database of a verification runs KEHU_BACKUP_JOBS jobs (it is dropped
    whatever happens); the restore into Kehu's own database stays one transaction (a failure leaves no
    half-restored database)."""
    import subprocess

    from kehu.core.backup import engines

    settings.KEHU_BACKUP_JOBS = "3"
    assert engines.restore_jobs() == 3
    settings.KEHU_BACKUP_JOBS = "many"
    with pytest.raises(BackupError, match="KEHU_BACKUP_JOBS must be a whole number"):
        engines.restore_jobs()
    settings.KEHU_BACKUP_JOBS = None
    monkeypatch.delenv("KEHU_BACKUP_JOBS", raising=False)
    assert 1 <= engines.restore_jobs() <= 8
    settings.KEHU_BACKUP_JOBS = 2
    restores = []
    real = subprocess.run

    def run(args, *a, **kw):
        if "pg_restore" in str(args[0]) and "--version" not in args:
            restores.append([arg for arg in args if arg.startswith(("--jobs", "--single"))])
        return real(args, *a, **kw)

    monkeypatch.setattr(engines.subprocess, "run", run)
    result = backup(tmp_path)  # verified in a scratch database
    restore_archive(result.path, database=target(), media_root=tmp_path / "m")
    if connection.vendor == "postgresql":
        assert restores == [["--jobs=2"], ["--single-transaction"]]
    else:
        assert restores == []  # SQLite: a file copy, no pg_restore


def test_an_added_or_missing_member_is_refused(data, tmp_path):
    result = backup(tmp_path)
    added = tmp_path / "added.tar"
    with tarfile.open(result.path) as src, tarfile.open(added, "w") as dst:
        for info in src:
            if info.name == MANIFEST:
                extra = tarfile.TarInfo("media/evil.txt")
                extra.size = 4
                dst.addfile(extra, io.BytesIO(b"evil"))
            dst.addfile(info, src.extractfile(info))
    with pytest.raises(ArchiveError, match="media/evil.txt, which its manifest does not list"):
        read_archive(added)
    dropped = _rewrite(result.path, tmp_path / "dropped.tar",
                       lambda name, data: None if name.endswith("note.txt") else data)
    with pytest.raises(ArchiveError, match="lacks media/attachments/2026/note.txt"):
        read_archive(dropped)


def test_a_member_name_outside_the_archive_is_refused(data, tmp_path):
    result = backup(tmp_path)

    def escape(name, data):
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["members"]["../../etc/cron.d/x"] = {"size": 1, "sha256": hashlib.sha256(b"x").hexdigest()}
        return json.dumps(seal(manifest)).encode()

    with pytest.raises(ArchiveError, match="invalid member names"):
        read_manifest(_rewrite(result.path, tmp_path / "bad.tar", escape))


def test_not_an_archive(tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(ArchiveError):
        read_manifest(junk)
    with pytest.raises(ArchiveError, match="no archive"):
        read_manifest(tmp_path / "missing.tar")


def test_a_non_empty_target_is_refused_unless_forced(data, tmp_path, target):
    result = backup(tmp_path)
    db = target()
    media = tmp_path / "m"
    restore_archive(result.path, database=db, media_root=media)
    before = stats_of(db)
    with pytest.raises(NotEmpty, match="not empty.*--force"):
        restore_archive(result.path, database=db, media_root=media)
    assert stats_of(db) == before
    # forced: replaced, and equal to the manifest again
    summary = restore_archive(result.path, database=db, media_root=media, force=True)
    assert summary["tables"] == len(result.manifest["tables"])
    assert checksums.compare(result.manifest["tables"], stats_of(db)) == []


def test_a_non_empty_media_folder_is_refused(data, tmp_path, target):
    result = backup(tmp_path)
    media = tmp_path / "m"
    media.mkdir()
    (media / "keep.txt").write_text("x")
    with pytest.raises(NotEmpty, match="1 files"):
        restore_archive(result.path, database=target(), media_root=media)


def test_an_archive_of_the_other_database_is_refused(data, tmp_path, target):
    result = backup(tmp_path)

    def other(name, data):
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["database"]["vendor"] = "postgresql" if connection.vendor == "sqlite" else "sqlite"
        return json.dumps(seal(manifest)).encode()

    with pytest.raises(BackupError, match="holds a .* database; this Kehu uses"):
        restore_archive(_rewrite(result.path, tmp_path / "o.tar", other), database=target(), media_root=tmp_path / "m")


def test_an_archive_of_a_newer_kehu_is_refused(data, tmp_path, target):
    result = backup(tmp_path)

    def newer(name, data):
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        manifest["migrations"]["core"].append("9999_from_the_future")
        return json.dumps(seal(manifest)).encode()

    with pytest.raises(BackupError, match="newer Kehu.*core.9999_from_the_future"):
        restore_archive(_rewrite(result.path, tmp_path / "n.tar", newer), database=target(), media_root=tmp_path / "m")


def test_a_failed_verification_is_an_error_and_leaves_no_archive(data, tmp_path, monkeypatch):
    from kehu.core.backup import service

    real = checksums.compare
    monkeypatch.setattr(service.checksums, "compare",
                        lambda expected, actual, **kw: real(expected, {**actual, "customers_customer": {"rows": 0, "checksum": "0"}},
                                                            **kw))
    with pytest.raises(BackupError, match="verification failed.*customers_customer: 0 rows, expected 30"):
        backup(tmp_path)
    assert not [p for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")]


def test_the_commands(data, tmp_path, capsys):
    out = tmp_path / "cmd"
    call_command("backup", "--output", str(out))
    printed = capsys.readouterr().out
    archive = next(out.glob("kehu-backup-*.tar"))
    assert str(archive) in printed and "verified in" in printed
    call_command("backup", "--verify", str(archive))
    assert "OK" in capsys.readouterr().out
    call_command("restore", str(archive), "--check")
    assert "OK" in capsys.readouterr().out
    with pytest.raises(CommandError, match="not empty.*--force"):  # the test database itself is not empty
        call_command("restore", str(archive))


def test_an_archive_with_another_checksum_algorithm_is_compared_by_counts(data, tmp_path):
    """A later Kehu that changes the checksum still restores older archives (their counts checked)."""
    result = backup(tmp_path)
    assert result.manifest["database"]["checksum"] == checksums.ALGORITHM[connection.vendor]

    def older(rows=None):
        def change(name, data):
            if name != MANIFEST:
                return data
            manifest = json.loads(data)
            manifest["database"]["checksum"] = "an older algorithm"
            for table in manifest["tables"].values():
                table["checksum"] = "0" * 32
            if rows:
                manifest["tables"]["customers_customer"]["rows"] = rows
            return json.dumps(seal(manifest)).encode()
        return change

    assert verify_archive(_rewrite(result.path, tmp_path / "old.tar", older()))["tables"] == len(result.manifest["tables"])
    with pytest.raises(BackupError, match="customers_customer: 30 rows, expected 29"):
        verify_archive(_rewrite(result.path, tmp_path / "old2.tar", older(rows=29)))
