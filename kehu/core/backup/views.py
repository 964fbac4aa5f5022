"""The Backups page (Administration menu) and the My day card, for holders of backup.view."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone

from . import jobs, retention
from .models import BackupRun
from .service import archive_time, backup_dir

STALE_AFTER = datetime.timedelta(hours=26)  # a daily backup older than this is late


def status(now=None) -> dict:
    """What the card shows: the last run, the last successful one, and whether backups are late."""
    now = now or timezone.now()
    last = BackupRun.objects.first()
    last_ok = last if last and last.succeeded else BackupRun.objects.filter(
        status=BackupRun.Status.SUCCEEDED).first()
    scheduled = jobs.schedule() != "off"
    late = scheduled and (last_ok is None or now - last_ok.finished_at > STALE_AFTER)
    level = "none" if last is None else ("failed" if not last.succeeded else ("late" if late else "ok"))
    return {"last": last, "last_ok": last_ok, "late": late, "level": level, "scheduled": scheduled,
            "hour": jobs.backup_hour(), "days_since": (now - last_ok.finished_at).days if last_ok else None}


def card_panel(request, ctx):
    """The My day card (kehu/core/registrations.py)."""
    ctx["backup"] = status()
    return "core/backup/home_card.html"


@login_required
def backups(request):
    if not request.user.has_right("backup", "view"):
        raise PermissionDenied
    directory = backup_dir()
    archives = []
    if directory.is_dir():
        for path in directory.iterdir():
            t = archive_time(path.name)
            if t is not None and path.is_file():
                archives.append({"name": path.name, "time": t, "size": path.stat().st_size})
    archives.sort(key=lambda a: a["time"], reverse=True)
    return render(request, "core/backup/backups.html", {
        "backup": status(), "runs": BackupRun.objects.all()[:30], "archives": archives,
        "directory": directory, "policy": retention.policy()})
