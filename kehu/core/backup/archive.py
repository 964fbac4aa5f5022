"""The backup archive: one uncompressed tar whose last member is a manifest describing the others.

    kehu-backup-20261204-020000Z.tar
      database.sqlite3.gz | database.pgdump   the database (SQLite file gzipped; pg_dump custom format)
      media/<path>                            every file under MEDIA_ROOT (attachments, imports, exports)
      manifest.json                           versions, migration state, per table rows + checksum,
                                              per member size + SHA-256, and its own SHA-256

The tar itself is not compressed: the PostgreSQL dump is compressed already, most attachments are
(PDF, JPEG, XLSX), and a plain tar can be listed and read member by member (`tar tf`). A member that
does not match its size and SHA-256, a member that is missing or not listed, a member name outside
the archive's own tree, a manifest whose own checksum is wrong, or an archive cut short are refused
before anything is restored (`read_archive`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

FORMAT = "kehu-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
CHUNK = 1024 * 1024


class ArchiveError(Exception):
    """The archive cannot be trusted: truncated, tampered with, or not a Kehu backup."""


def canonical(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def seal(manifest: dict) -> dict:
    """The manifest with `manifest_sha256`: the SHA-256 of its canonical JSON without that key."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return {**body, "manifest_sha256": hashlib.sha256(canonical(body)).hexdigest()}


class _HashingReader(io.RawIOBase):
    """Reads through a file object, hashing and counting what passes."""

    def __init__(self, raw):
        self.raw, self.sha, self.size = raw, hashlib.sha256(), 0

    def readable(self):
        return True

    def read(self, n=-1):
        data = self.raw.read(n)
        self.sha.update(data)
        self.size += len(data)
        return data


class ArchiveWriter:
    """Writes `<path>.part`, renamed to `path` by `close()` once the manifest is in and synced."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.part = self.path.with_name(self.path.name + ".part")
        self.tar = tarfile.open(self.part, "w", format=tarfile.PAX_FORMAT)
        self.members: dict[str, dict] = {}
        self.media_files = 0
        self.media_bytes = 0

    def _info(self, name: str, size: int, mtime: float | None = None) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, int(mtime or time.time())
        return info

    def add_file(self, name: str, path: Path) -> None:
        """A file that does not change while it is added (the database snapshot)."""
        size = path.stat().st_size
        with open(path, "rb") as fh:
            reader = _HashingReader(fh)
            self.tar.addfile(self._info(name, size), reader)
        self.members[name] = {"size": size, "sha256": reader.sha.hexdigest()}

    def add_media(self, root: Path, skip: list[Path]) -> None:
        """Every regular file under `root` (symlinks are not followed). A file is first copied while
        hashed, so one that grows or changes meanwhile is stored as it was read, consistently."""
        root = Path(root)
        if not root.is_dir():
            return
        skip_resolved = [p.resolve() for p in skip]
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if (here / d).resolve() not in skip_resolved
                                 and not (here / d).is_symlink())
            for filename in sorted(filenames):
                path = here / filename
                if path.is_symlink() or not path.is_file():
                    continue
                name = MEDIA_PREFIX + path.relative_to(root).as_posix()
                sha = hashlib.sha256()
                try:
                    with open(path, "rb") as src, tempfile.SpooledTemporaryFile(16 * CHUNK) as copy:
                        while chunk := src.read(CHUNK):
                            sha.update(chunk)
                            copy.write(chunk)
                        size = copy.tell()
                        copy.seek(0)
                        self.tar.addfile(self._info(name, size, path.stat().st_mtime), copy)
                except FileNotFoundError:  # removed while the backup ran (an expired export)
                    continue
                self.members[name] = {"size": size, "sha256": sha.hexdigest()}
                self.media_files += 1
                self.media_bytes += size

    def close(self, manifest: dict) -> dict:
        manifest = seal({**manifest, "members": self.members,
                         "media": {"files": self.media_files, "bytes": self.media_bytes}})
        data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
        self.tar.addfile(self._info(MANIFEST, len(data)), io.BytesIO(data))
        self.tar.close()
        with open(self.part, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(self.part, self.path)
        return manifest

    def abort(self) -> None:
        try:
            self.tar.close()
        except Exception:  # noqa: BLE001 - the archive is being thrown away
            pass
        self.part.unlink(missing_ok=True)


def _safe_name(name: str) -> bool:
    norm = posixpath.normpath(name)
    return (name == norm and not name.startswith("/") and not name.startswith("..")
            and "\\" not in name and "\x00" not in name and norm != ".")


def _damaged(path, exc) -> ArchiveError:
    return ArchiveError(_("The archive %(path)s is damaged or incomplete (was it cut short?): %(error)s")
                        % {"path": path, "error": exc})


def read_manifest(path: Path) -> dict:
    """The archive's manifest, after checking its own SHA-256 and its format."""
    path = Path(path)
    if not path.is_file():
        raise ArchiveError(_("There is no archive at %(path)s.") % {"path": path})
    try:
        with tarfile.open(path, "r:") as tar:
            try:
                info = tar.getmember(MANIFEST)
            except KeyError:
                raise ArchiveError(_("The archive %(path)s has no manifest: it is incomplete (cut short) "
                                     "or not a Kehu backup.") % {"path": path})
            raw = tar.extractfile(info).read()
            if len(raw) != info.size:
                raise _damaged(path, "manifest.json")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise _damaged(path, exc)
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise ArchiveError(_("The manifest of %(path)s is not valid JSON: %(error)s") % {"path": path, "error": exc})
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(_("%(path)s is not a Kehu backup.") % {"path": path})
    if seal(manifest).get("manifest_sha256") != manifest.get("manifest_sha256"):
        raise ArchiveError(_("The manifest of %(path)s was changed after the backup was made (its checksum "
                             "does not match): the archive is refused.") % {"path": path})
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise ArchiveError(_("%(path)s was written by a newer Kehu (backup format %(version)s).")
                           % {"path": path, "version": manifest.get("format_version")})
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(_safe_name(n) and n != MANIFEST for n in members):
        raise ArchiveError(_("The manifest of %(path)s lists invalid member names.") % {"path": path})
    return manifest


@dataclass
class CheckedArchive:
    manifest: dict
    database: Path | None  # the extracted database member
    media: Path | None  # the extracted media tree (root of the files), None if not extracted


def read_archive(path: Path, workdir: Path | None = None, *, extract_media: bool = False) -> CheckedArchive:
    """Check every member against the manifest (size, SHA-256, no member missing or added) and
    extract the database (and the media files) into `workdir`. Nothing is returned before all
    members were checked; a bad archive raises ArchiveError."""
    path = Path(path)
    manifest = read_manifest(path)
    expected = manifest["members"]
    db_member = manifest.get("database", {}).get("member")
    if db_member not in expected:
        raise ArchiveError(_("The manifest of %(path)s names no database member.") % {"path": path})
    seen: set[str] = set()
    database = media = None
    try:
        with tarfile.open(path, "r:") as tar:
            for info in tar:
                name = info.name
                if name == MANIFEST:
                    continue
                if name not in expected or not info.isfile():
                    raise ArchiveError(_("The archive %(path)s holds %(member)s, which its manifest does not list: "
                                         "it was changed after the backup was made.") % {"path": path, "member": name})
                if name in seen:
                    raise ArchiveError(_("The archive %(path)s holds %(member)s twice.") % {"path": path, "member": name})
                seen.add(name)
                target = None
                if workdir is not None and name == db_member:
                    target = database = Path(workdir) / Path(name).name
                elif workdir is not None and extract_media and name.startswith(MEDIA_PREFIX):
                    media = Path(workdir) / "media"
                    target = media / name[len(MEDIA_PREFIX):]
                    target.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(info)
                sha, size = hashlib.sha256(), 0
                out = open(target, "wb") if target else None
                try:
                    while chunk := src.read(CHUNK):
                        sha.update(chunk)
                        size += len(chunk)
                        if out:
                            out.write(chunk)
                finally:
                    if out:
                        out.close()
                want = expected[name]
                if size != want.get("size"):
                    raise _damaged(path, f"{name}: {size} bytes, expected {want.get('size')}")
                if sha.hexdigest() != want.get("sha256"):
                    raise ArchiveError(_("%(member)s in %(path)s does not match its checksum: the archive is damaged "
                                         "or was changed after the backup was made.") % {"path": path, "member": name})
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise _damaged(path, exc)
    missing = sorted(set(expected) - seen)
    if missing:
        raise ArchiveError(_("The archive %(path)s lacks %(members)s, which its manifest lists: it is incomplete.")
                           % {"path": path, "members": ", ".join(missing[:5])})
    if extract_media and media is None and workdir is not None:
        media = Path(workdir) / "media"
        media.mkdir(exist_ok=True)
    return CheckedArchive(manifest, database, media)


def remove_tree(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
