"""Where uploaded import files and error files live: MEDIA_ROOT/imports (KEHU_IMPORT_DIR)."""

from __future__ import annotations

import os
import secrets
import shutil
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
    shutil.rmtree(imports_dir() / f"{name}.photos", ignore_errors=True)  # a vCard's photos (vcard.py)


# --- the running job's side files: progress (the heartbeat) and a cancel request -----------------

def progress_path(job) -> Path:
    return imports_dir() / f"{job.pk}.progress"


def write_progress(job, data: dict) -> None:
    import json

    path = progress_path(job)
    tmp = path.with_suffix(".progress.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def read_progress(job) -> dict | None:
    import json

    try:
        return json.loads(progress_path(job).read_text())
    except (FileNotFoundError, ValueError):
        return None


def progress_mtime(job) -> float | None:
    try:
        return progress_path(job).stat().st_mtime
    except FileNotFoundError:
        return None


def cancel_path(job) -> Path:
    return imports_dir() / f"{job.pk}.cancel"


def request_cancel(job) -> None:
    cancel_path(job).touch()


def cancel_requested(job) -> bool:
    return cancel_path(job).exists()


def clear_run_files(job) -> None:
    for path in (progress_path(job), cancel_path(job)):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
