"""Back up, verify and restore (the `kehu backup` / `kehu restore` commands and the scheduled job).

    from kehu.core.backup.service import create_backup, verify_archive, restore_archive
    result = create_backup()                 # VAR_DIR/backups/kehu-backup-20261204-020000Z.tar, verified
    verify_archive(result.path)              # again, later: restored into a scratch database, compared
    restore_archive(path, force=False)       # into the (empty) configured database and MEDIA_ROOT
"""

from __future__ import annotations

import datetime
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import django
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

import kehu

from . import checksums
from .archive import (
    FORMAT,
    FORMAT_VERSION,
    ArchiveError,
    ArchiveWriter,
    read_archive,
    read_manifest,
    remove_tree,
)
from .engines import BackupError, NotEmpty, database_for, setting

PREFIX = "kehu-backup-"
SUFFIX = ".tar"


def backup_dir() -> Path:
    """Where backups are written: KEHU_BACKUP_DIR, default VAR_DIR/backups."""
    return Path(setting("KEHU_BACKUP_DIR", Path(settings.VAR_DIR) / "backups"))


def archive_name(now: datetime.datetime) -> str:
    return f"{PREFIX}{now.astimezone(datetime.UTC):%Y%m%d-%H%M%S}Z{SUFFIX}"


def archive_time(name: str) -> datetime.datetime | None:
    """The UTC time in a backup's file name (None: not a backup's name)."""
    if not (name.startswith(PREFIX) and name.endswith(SUFFIX)):
        return None
    stamp = name[len(PREFIX):-len(SUFFIX)].split("Z")[0]
    try:
        return datetime.datetime.strptime(stamp, "%Y%m%d-%H%M%S").replace(tzinfo=datetime.UTC)
    except ValueError:
        return None


@dataclass
class BackupResult:
    path: Path
    size: int
    manifest: dict
    backup_seconds: float
    verify_seconds: float | None

    @property
    def tables(self) -> int:
        return len(self.manifest["tables"])

    @property
    def rows(self) -> int:
        return sum(t["rows"] for t in self.manifest["tables"].values())


def create_backup(output_dir=None, *, database=None, media_root=None, verify: bool = True,
                  now: datetime.datetime | None = None) -> BackupResult:
    """Write one archive (database snapshot, media files, manifest) and verify it by restoring it into
    a scratch database. A failed verification removes the archive and raises BackupError."""
    db = database or database_for()
    output = Path(output_dir or backup_dir())
    output.mkdir(parents=True, exist_ok=True)
    media = Path(media_root or settings.MEDIA_ROOT)
    now = now or timezone.now()
    path = output / archive_name(now)
    n = 1
    while path.exists() or path.with_name(path.name + ".part").exists():
        path = output / archive_name(now).replace(SUFFIX, f"-{n}{SUFFIX}")
        n += 1
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix=".kehu-backup-", dir=output))
    try:
        snap = db.snapshot(workdir)
        writer = ArchiveWriter(path)
        try:
            writer.add_file(snap.member, snap.path)
            snap.path.unlink()
            writer.add_media(media, skip=[output])
            manifest = writer.close({
                "format": FORMAT, "format_version": FORMAT_VERSION,
                "created_at": now.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
                "kehu_version": kehu.__version__, "django_version": django.get_version(),
                "python_version": sys.version.split()[0],
                "database": {**snap.info, "member": snap.member},
                "migrations": snap.migrations, "tables": snap.tables,
            })
        except BaseException:
            writer.abort()
            raise
    finally:
        remove_tree(workdir)
    backup_seconds = time.monotonic() - started
    verify_seconds = None
    if verify:
        started = time.monotonic()
        try:
            verify_archive(path, database=db)
        except (BackupError, ArchiveError) as exc:
            path.unlink(missing_ok=True)
            raise BackupError(_("The backup was written but its verification failed, so it was removed: %(error)s")
                              % {"error": exc})
        verify_seconds = time.monotonic() - started
    return BackupResult(path, path.stat().st_size, manifest, backup_seconds, verify_seconds)


def _check_vendor(manifest: dict, db) -> None:
    vendor = manifest.get("database", {}).get("vendor")
    if vendor != db.vendor:
        raise BackupError(_("The archive holds a %(archive)s database; this Kehu uses %(target)s. Restore it into "
                            "a Kehu configured for %(archive)s.") % {"archive": vendor, "target": db.vendor})


def _same_algorithm(manifest: dict, db) -> bool:
    return manifest.get("database", {}).get("checksum") == checksums.ALGORITHM[db.vendor]


def verify_archive(path, *, database=None) -> dict:
    """Check the archive's members, restore its database into a scratch database (a temporary SQLite
    file; a new PostgreSQL database on the same server, dropped after) and compare every table's
    count and checksum with the manifest. Raises ArchiveError / BackupError; returns a summary."""
    db = database or database_for()
    path = Path(path)
    try:  # beside the archive (room for its size), else the system's temporary directory
        workdir = Path(tempfile.mkdtemp(prefix=".kehu-verify-", dir=path.parent))
    except OSError:
        workdir = Path(tempfile.mkdtemp(prefix="kehu-verify-"))
    try:
        checked = read_archive(path, workdir)
        _check_vendor(checked.manifest, db)
        scratch = db.scratch(workdir)
        try:
            loaded = scratch.load(checked.database, workdir, throwaway=True)  # dropped after: parallel
            try:
                actual = loaded.stats()
            finally:
                loaded.discard()
        finally:
            scratch.destroy()
        problems = checksums.compare(checked.manifest["tables"], actual, checksums=_same_algorithm(checked.manifest, db))
        if problems:
            raise BackupError(_("The restored database differs from the manifest: %(problems)s")
                              % {"problems": "; ".join(problems[:10])})
        return {"tables": len(actual), "rows": sum(t["rows"] for t in actual.values()),
                "members": len(checked.manifest["members"])}
    finally:
        remove_tree(workdir)


def migration_differences(manifest: dict) -> tuple[list[str], list[str]]:
    """(migrations in the archive this Kehu does not have, migrations this Kehu has that the archive lacks)."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    on_disk = set(loader.disk_migrations)
    apps = {app for app, _name in on_disk}
    archived = {(app, name) for app, names in manifest.get("migrations", {}).items() for name in names}
    # a squashed migration's replaced ones may be recorded without being on disk any more
    replaced = {r for m in loader.disk_migrations.values() for r in (m.replaces or [])}
    newer = sorted(f"{a}.{n}" for a, n in archived if a in apps and (a, n) not in on_disk and (a, n) not in replaced)
    pending = sorted(f"{a}.{n}" for (a, n), m in loader.disk_migrations.items() if (a, n) not in archived
                     and not (m.replaces and all(tuple(r) in archived for r in m.replaces)))
    return newer, pending


def _media_files(root: Path) -> int:
    if not root.is_dir():
        return 0
    return sum(len(files) for _d, _s, files in os.walk(root))


def restore_archive(path, *, database=None, media_root=None, force: bool = False) -> dict:
    """Restore the archive into the configured database and MEDIA_ROOT. Both must be empty unless
    `force` (then the database is replaced and the archive's files overwrite those of the same name).
    The archive is checked member by member before anything is touched; the restored database is
    compared with the manifest after. Returns a summary ({tables, rows, media, pending_migrations})."""
    db = database or database_for()
    media = Path(media_root or settings.MEDIA_ROOT)
    path = Path(path)
    manifest = read_manifest(path)
    _check_vendor(manifest, db)
    newer, pending = migration_differences(manifest)
    if newer:
        raise BackupError(_("The archive was made by a newer Kehu: this version lacks the migrations %(names)s. "
                            "Install that version (or a newer one) first.") % {"names": ", ".join(newer[:5])})
    tables = db.table_count()
    files = _media_files(media)
    if (tables or files) and not force:
        raise NotEmpty(_("The target is not empty (%(db)s: %(tables)s tables; %(media)s: %(files)s files). Restore "
                         "into an empty database and media folder, or pass --force to replace them.")
                       % {"db": db, "tables": tables, "media": media, "files": files})
    media.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=".kehu-restore-", dir=media.parent))
    try:
        checked = read_archive(path, workdir, extract_media=True)
        if tables:
            db.clear_for_restore()
        loaded = db.load(checked.database, workdir)
        actual = loaded.stats()
        problems = checksums.compare(manifest["tables"], actual, checksums=_same_algorithm(manifest, db))
        if problems:
            loaded.discard()
            raise BackupError(_("The restored database differs from the manifest: %(problems)s")
                              % {"problems": "; ".join(problems[:10])})
        loaded.commit()
        restored_files = 0
        for dirpath, _dirs, names in os.walk(checked.media):
            for name in names:
                src = Path(dirpath) / name
                dst = media / src.relative_to(checked.media)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(src, dst)
                restored_files += 1
    finally:
        remove_tree(workdir)
    return {"tables": len(actual), "rows": sum(t["rows"] for t in actual.values()), "media": restored_files,
            "pending_migrations": pending, "created_at": manifest.get("created_at"),
            "kehu_version": manifest.get("kehu_version")}
