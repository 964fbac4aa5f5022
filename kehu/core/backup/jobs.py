"""The scheduled backup (in the worker, declared in kehu/core/registrations.py), its record and the
notice to administrators when it fails.

Settings (Django setting or environment variable of the same name):
KEHU_BACKUP_SCHEDULE  "daily" (default) or "off"
KEHU_BACKUP_HOUR      the local hour from which the daily backup runs (default 2)
KEHU_BACKUP_DIR       where archives are written (default VAR_DIR/backups)
KEHU_BACKUP_KEEP_DAILY / _WEEKLY / _MONTHLY   retention (7 / 4 / 12)
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from . import retention
from .engines import setting
from .models import BackupRun
from .service import backup_dir, create_backup

log = logging.getLogger(__name__)


def schedule() -> str:
    value = str(setting("KEHU_BACKUP_SCHEDULE", "daily")).strip().lower()
    return "off" if value in ("off", "0", "false", "no", "none") else "daily"


def backup_hour() -> int:
    return int(setting("KEHU_BACKUP_HOUR", 2))


def administrators():
    """Active users who hold the backup right (the admin role's "*", superusers)."""
    from kehu.accounts.models import Role, User

    roles = [r.pk for r in Role.objects.all() if {"*", "backup.*", "backup.view"} & set(r.rights or [])]
    return list(User.objects.filter(Q(roles__in=roles) | Q(is_superuser=True), is_active=True)
                .distinct().order_by("id"))


def notify_failure(run: BackupRun) -> int:
    """Each administrator is told in the app and by e-mail, in their language."""
    from kehu.core.services import notify

    url = reverse("core:backups")
    users = administrators()
    for user in users:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            notify(user, _("The backup failed"),
                   _("The backup started at %(time)s failed: %(error)s")
                   % {"time": timezone.localtime(run.started_at).strftime("%Y-%m-%d %H:%M"), "error": run.message},
                   url=url, email=True)
    return len(users)


def _record(**fields) -> BackupRun:
    """Saved when the database can take it (a backup of a database that is down, or not migrated
    yet, still reports its result to the caller)."""
    run = BackupRun(**fields)
    try:
        run.save()
    except DatabaseError:
        log.exception("the backup run could not be recorded")
    return run


def run_backup(*, output_dir=None, trigger: str = BackupRun.Trigger.MANUAL, prune: bool = False,
               notify: bool = False, **kwargs) -> tuple[BackupRun, object]:
    """create_backup, recorded as a BackupRun (and pruned, notified as asked). Returns (run, result or
    the exception)."""
    started = timezone.now()
    directory = output_dir or backup_dir()
    try:
        result = create_backup(directory, now=started, **kwargs)
    except Exception as exc:  # any failure is recorded and reported, never lost in a worker's log
        log.exception("backup failed")
        with translation.override(settings.LANGUAGE_CODE):
            message = str(exc) or type(exc).__name__
        run = _record(started_at=started, finished_at=timezone.now(), trigger=trigger,
                      status=BackupRun.Status.FAILED, message=message[:4000])
        if notify:
            try:
                notify_failure(run)
            except Exception:  # the database that failed the backup may fail this too: the log has it
                log.exception("the administrators could not be notified of the failed backup")
        return run, exc
    removed = retention.prune(directory) if prune else []
    run = _record(
        started_at=started, finished_at=timezone.now(), trigger=trigger, status=BackupRun.Status.SUCCEEDED,
        file=str(result.path), size=result.size, tables=result.tables, rows=result.rows,
        media_files=result.manifest["media"]["files"], backup_seconds=round(result.backup_seconds, 2),
        verify_seconds=round(result.verify_seconds, 2) if result.verify_seconds is not None else None,
        pruned=len(removed))
    return run, result


@task
def scheduled_backup(now: str | None = None) -> dict:
    """Once a day from KEHU_BACKUP_HOUR (kehu/core/registrations.py): back up, verify, prune."""
    if schedule() == "off":
        return {"skipped": "KEHU_BACKUP_SCHEDULE=off"}
    run, _result = run_backup(trigger=BackupRun.Trigger.SCHEDULED, prune=True, notify=True)
    return {"status": run.status, "file": run.file, "pruned": run.pruned, "message": run.message[:200]}
