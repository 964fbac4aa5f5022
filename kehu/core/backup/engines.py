"""The two databases Kehu runs on, as a backup sees them: a consistent snapshot with its counts and
checksums, a restore into an empty database, and a scratch database to verify an archive in.

- SQLite: `sqlite3.Connection.backup` in one step (one read transaction: a consistent copy while
  Kehu keeps writing, WAL lets writers go on), counted and checksummed on the copy, gzipped.
- PostgreSQL: a REPEATABLE READ transaction exports its snapshot; `pg_dump --snapshot` dumps exactly
  that snapshot (custom format) while the same transaction computes the checksums. `pg_dump` /
  `pg_restore` of the server's major version are used (`/usr/lib/postgresql/<major>/bin`, or
  KEHU_PG_BIN): an older pg_dump refuses a newer server, a newer one writes dumps an older
  pg_restore cannot read.
"""

from __future__ import annotations

import gzip
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

from . import checksums


class BackupError(Exception):
    """A backup, verification or restore that did not succeed; the message says why."""


class NotEmpty(BackupError):
    pass


@dataclass
class Snapshot:
    member: str  # the archive member's name
    path: Path  # the file to store as that member
    tables: dict[str, dict]
    migrations: dict[str, list[str]]
    info: dict = field(default_factory=dict)  # vendor, server version, the tool that wrote it


def _migrations(rows) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for app, name in rows:
        out.setdefault(app, []).append(name)
    return out


def setting(name: str, default):
    from django.conf import settings

    value = getattr(settings, name, None)
    if value in (None, ""):
        value = os.environ.get(name)
    return default if value in (None, "") else value


# --- SQLite ----------------------------------------------------------------------------------------


class SqliteDatabase:
    vendor = "sqlite"
    member = "database.sqlite3.gz"

    def __init__(self, path: str | Path, *, source=None):
        """`path`: the database file. `source`: an open sqlite3 connection to copy from instead of
        opening the file (an in-memory test database)."""
        self.path = Path(path)
        self.source = source

    def __repr__(self):
        return f"SQLite {self.path}"

    def _open(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def snapshot(self, workdir: Path) -> Snapshot:
        copy = Path(workdir) / "snapshot.sqlite3"
        dst = sqlite3.connect(copy)
        if self.source is not None:
            # an in-memory database (the test suite's) read through its own connection, which may
            # be inside a transaction: the backup API would wait for that transaction forever
            memory = sqlite3.connect(":memory:")
            memory.deserialize(self.source.serialize())
            memory.backup(dst)
            memory.close()
        else:
            src = self._open()
            try:
                # pages=-1: the whole database in one step, i.e. in one read transaction of the source
                src.backup(dst)
            finally:
                src.close()
        dst.close()
        packed = Path(workdir) / self.member
        level = int(setting("KEHU_BACKUP_GZIP_LEVEL", 1))
        failed: list[BaseException] = []

        def pack():  # zlib lets go of the GIL: compressed on one core while the other checksums
            try:
                with open(copy, "rb") as src_fh, gzip.open(packed, "wb", compresslevel=level) as out:
                    shutil.copyfileobj(src_fh, out, 1024 * 1024)
            except BaseException as exc:  # noqa: BLE001 - raised below
                failed.append(exc)

        packer = threading.Thread(target=pack, name="kehu-backup-gzip")
        packer.start()
        reader = sqlite3.connect(copy)
        try:
            tables = checksums.sqlite_stats(reader)
            migrations = _migrations(reader.execute("SELECT app, name FROM django_migrations ORDER BY app, id"))
        finally:
            reader.close()
            packer.join()
        if failed:
            raise failed[0]
        size = copy.stat().st_size
        copy.unlink()
        return Snapshot(self.member, packed, tables, migrations,
                        {"vendor": self.vendor, "server_version": sqlite3.sqlite_version, "bytes": size,
                         "checksum": checksums.ALGORITHM[self.vendor],
                         "tool": f"sqlite3.Connection.backup (SQLite {sqlite3.sqlite_version}), gzip -{level}"})

    def table_count(self) -> int:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return 0
        conn = self._open()
        try:
            return conn.execute("SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view')"
                                " AND name NOT LIKE 'sqlite_%'").fetchone()[0]
        finally:
            conn.close()

    def load(self, member_path: Path, workdir: Path, *, throwaway: bool = False) -> LoadedSqlite:
        """The archive's database as a file next to the target, not yet in its place."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staged = self.path.with_name(f".{self.path.name}.restore-{secrets.token_hex(4)}")
        try:
            with gzip.open(member_path, "rb") as src, open(staged, "wb") as out:
                shutil.copyfileobj(src, out, 1024 * 1024)
            conn = sqlite3.connect(staged)
            try:
                result = conn.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                conn.close()
        except (OSError, EOFError, sqlite3.DatabaseError) as exc:
            staged.unlink(missing_ok=True)
            raise BackupError(_("The database in the archive cannot be read: %(error)s") % {"error": exc})
        if result != "ok":
            staged.unlink(missing_ok=True)
            raise BackupError(_("The database in the archive is damaged: %(error)s") % {"error": result})
        return LoadedSqlite(self, staged)

    def drop(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(self.path) + suffix).unlink(missing_ok=True)

    def clear_for_restore(self) -> None:
        """Nothing yet: the restored file replaces the old one only once it was checked (commit)."""

    def scratch(self, workdir: Path) -> SqliteDatabase:
        return SqliteDatabase(Path(workdir) / "scratch.sqlite3")

    def destroy(self) -> None:
        self.drop()


class LoadedSqlite:
    def __init__(self, target: SqliteDatabase, staged: Path):
        self.target, self.staged = target, staged

    def stats(self) -> dict[str, dict]:
        conn = sqlite3.connect(self.staged)
        try:
            return checksums.sqlite_stats(conn)
        finally:
            conn.close()

    def commit(self) -> None:
        self.target.drop()
        os.replace(self.staged, self.target.path)

    def discard(self) -> None:
        self.staged.unlink(missing_ok=True)


# --- PostgreSQL ------------------------------------------------------------------------------------


def _major(version_num: int) -> int:
    return version_num // 10000 if version_num >= 100000 else version_num // 100


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"(\d+)(?:\.(\d+))?", out)
    return int(m.group(1)) if m else None


def restore_jobs() -> int:
    """pg_restore's parallel jobs into a scratch database: KEHU_BACKUP_JOBS, else one per CPU this
    process may use (at most 8: the index builds that dominate a restore stop gaining there)."""
    value = setting("KEHU_BACKUP_JOBS", None)
    if value is not None:
        try:
            return max(1, int(value))
        except (TypeError, ValueError):
            raise BackupError(_("KEHU_BACKUP_JOBS must be a whole number, not “%(value)s”.") % {"value": value})
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def pg_tool(name: str, server_major: int) -> str:
    """pg_dump / pg_restore of the server's major version (else the nearest newer one)."""
    candidates = []
    override = setting("KEHU_PG_BIN", "")
    if override:
        candidates.append(str(Path(override) / name))
    candidates += [f"/usr/lib/postgresql/{server_major}/bin/{name}", f"/usr/pgsql-{server_major}/bin/{name}"]
    newer = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    candidates += [str(p) for p in newer]
    if shutil.which(name):
        candidates.append(shutil.which(name))
    for path in candidates:
        if os.access(path, os.X_OK):
            major = _tool_major(path)
            if major == server_major or (major and major > server_major and not override):
                return path
    raise BackupError(_("No %(tool)s for PostgreSQL %(major)s was found: install postgresql-client-%(major)s "
                        "or set KEHU_PG_BIN to the directory that holds it.") % {"tool": name, "major": server_major})


class PostgresDatabase:
    vendor = "postgresql"
    member = "database.pgdump"

    def __init__(self, params: dict):
        """params: dbname, user, password, host, port (psycopg's names)."""
        self.params = {k: v for k, v in params.items() if v not in (None, "")}

    @classmethod
    def from_settings(cls, s: dict) -> PostgresDatabase:
        return cls({"dbname": s.get("NAME"), "user": s.get("USER"), "password": s.get("PASSWORD"),
                    "host": s.get("HOST"), "port": s.get("PORT")})

    def __repr__(self):
        return f"PostgreSQL {self.params.get('dbname')} on {self.params.get('host', 'localhost')}"

    @property
    def dbname(self) -> str:
        return self.params["dbname"]

    def connect(self, *, autocommit=True, dbname: str | None = None):
        import psycopg

        params = {**self.params, **({"dbname": dbname} if dbname else {})}
        try:
            return psycopg.connect(**params, autocommit=autocommit, connect_timeout=20)
        except psycopg.Error as exc:
            raise BackupError(_("Cannot connect to the database %(db)s: %(error)s") % {"db": params.get("dbname"),
                                                                                        "error": exc})

    def env(self) -> dict:
        names = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD", "dbname": "PGDATABASE"}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update({names[k]: str(v) for k, v in self.params.items() if k in names})
        return env

    def server_major(self) -> int:
        with self.connect() as conn:
            return _major(int(conn.execute("SHOW server_version_num").fetchone()[0]))

    def snapshot(self, workdir: Path) -> Snapshot:
        import psycopg

        out = Path(workdir) / self.member
        conn = self.connect(autocommit=False)
        try:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            cur = conn.cursor()
            version = cur.execute("SHOW server_version").fetchone()[0]
            major = _major(int(cur.execute("SHOW server_version_num").fetchone()[0]))
            pg_dump = pg_tool("pg_dump", major)
            snapshot_id = cur.execute("SELECT pg_export_snapshot()").fetchone()[0]
            level = str(setting("KEHU_BACKUP_PG_COMPRESS", 1))
            proc = subprocess.Popen([pg_dump, "--format=custom", f"--compress={level}", f"--snapshot={snapshot_id}",
                                     "--file", str(out), "--dbname", self.dbname],
                                    env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                # while pg_dump writes, the same snapshot is counted and checksummed (the second core)
                tables = checksums.pg_stats(cur)
                migrations = _migrations(cur.execute("SELECT app, name FROM django_migrations ORDER BY app, id"))
            finally:
                _, err = proc.communicate()
            if proc.returncode:
                raise BackupError(_("pg_dump failed: %(error)s") % {"error": err.decode(errors="replace").strip()})
            conn.rollback()
        finally:
            conn.close()
        tool = subprocess.run([pg_dump, "--version"], capture_output=True, text=True).stdout.strip()
        return Snapshot(self.member, out, tables, migrations,
                        {"vendor": self.vendor, "server_version": version, "checksum": checksums.ALGORITHM[self.vendor],
                         "tool": f"{tool}, custom format -Z{level}"})

    def table_count(self) -> int:
        with self.connect() as conn:
            return conn.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')").fetchone()[0]

    def clear_for_restore(self) -> None:
        """Everything in the database's schema goes (restore --force). Other sessions holding locks
        (a running Kehu) make this fail after 10 s instead of waiting."""
        from psycopg import sql

        with self.connect() as conn:
            schema = conn.execute("SELECT current_schema()").fetchone()[0] or "public"
            try:
                conn.execute("SET lock_timeout = '10s'")
                with conn.transaction():
                    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
                    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            except Exception as exc:
                raise BackupError(_("Could not empty the database %(db)s (stop Kehu's web server and worker first): "
                                    "%(error)s") % {"db": self.dbname, "error": exc})

    def load(self, member_path: Path, workdir: Path, *, throwaway: bool = False) -> LoadedPostgres:
        """pg_restore the dump into this database. Into a `throwaway` database (the scratch database of
        a verification, dropped whatever happens) with parallel jobs: nothing needs undoing there.
        Anywhere else in one transaction, so that a failure leaves no half-restored database; one
        transaction rules out --jobs."""
        pg_restore = pg_tool("pg_restore", self.server_major())
        jobs = restore_jobs() if throwaway else 1
        mode = [f"--jobs={jobs}"] if jobs > 1 else ["--single-transaction"]
        proc = subprocess.run([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", *mode,
                               "--dbname", self.dbname, str(member_path)],
                              env=self.env(), capture_output=True)
        if proc.returncode:
            raise BackupError(_("pg_restore failed: %(error)s") % {"error": proc.stderr.decode(errors="replace").strip()})
        return LoadedPostgres(self, throwaway=throwaway)

    def scratch(self, workdir: Path) -> PostgresDatabase:
        from psycopg import sql

        name = f"kehu_verify_{secrets.token_hex(5)}"
        with self.connect() as conn:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name)))
            except Exception as exc:
                raise BackupError(_("Could not create a scratch database to verify the backup in (the database user "
                                    "needs the CREATEDB right): %(error)s") % {"error": exc})
        scratch = PostgresDatabase({**self.params, "dbname": name})
        scratch.maintenance_db = self.dbname
        return scratch

    maintenance_db = "postgres"  # where DROP DATABASE of a scratch database is sent from

    def destroy(self) -> None:
        """Drop this (scratch) database."""
        from psycopg import sql

        with self.connect(dbname=self.maintenance_db) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.dbname)))


class LoadedPostgres:
    def __init__(self, target: PostgresDatabase, *, throwaway: bool = False):
        self.target, self.throwaway = target, throwaway

    def stats(self) -> dict[str, dict]:
        with self.target.connect() as conn:
            return checksums.pg_stats(conn.cursor())

    def commit(self) -> None:
        pass  # pg_restore committed (its single transaction, or each job's own into a scratch database)

    def discard(self) -> None:
        """A restored database that differs from the manifest is emptied again (as SQLite's file is never
        put in place): a restore leaves the archive's database or none. A scratch database is dropped."""
        if not self.throwaway:
            self.target.clear_for_restore()


def database_for(alias: str = "default"):
    """The Django database `alias` as a backup source or restore target."""
    from django.db import connections

    conn = connections[alias]
    s = conn.settings_dict
    if conn.vendor == "sqlite":
        name = str(s["NAME"])
        if conn.is_in_memory_db():
            conn.ensure_connection()
            return SqliteDatabase(":memory:", source=conn.connection)
        return SqliteDatabase(name)
    if conn.vendor == "postgresql":
        return PostgresDatabase.from_settings(s)
    raise BackupError(_("Backups support SQLite and PostgreSQL, not %(vendor)s.") % {"vendor": conn.vendor})
