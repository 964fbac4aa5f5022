"""Where uploaded import files and error files live: MEDIA_ROOT/imports (KEHU_IMPORT_DIR)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings

MAX_UPLOAD_MB = 200


def imports_dir() -> Path:
    path = Path(getattr(settings, "KEHU_IMPORT_DIR", "") or Path(settings.MEDIA_ROOT) / "imports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_upload(upload, fmt: str) -> str:
    """Store an uploaded file under a random name; returns the name (relative to imports_dir)."""
    name = f"{secrets.token_hex(12)}.{fmt}"
    with open(imports_dir() / name, "wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return name


def save_bytes(data: bytes, fmt: str) -> str:
    name = f"{secrets.token_hex(12)}.{fmt}"
    (imports_dir() / name).write_bytes(data)
    return name


def path_of(job) -> Path:
    return imports_dir() / job.file_path


def remove(name: str) -> None:
    if not name:
        return
    try:
        os.unlink(imports_dir() / name)
    except FileNotFoundError:
        pass
