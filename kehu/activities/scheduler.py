"""The periodic scheduler that runs inside `kehu worker`, beside django-tasks' database worker.

Each tick (every minute) it enqueues the reminder job; once a day (from KEHU_POOL_SWEEP_HOUR,
local time) the public-pool job. When a daily job last ran is stored (`JobRun`), so a restart
does not run it twice; reminders themselves are idempotent (see services.py).
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from .models import JobRun

log = logging.getLogger(__name__)

POOL_SWEEP_HOUR = getattr(settings, "KEHU_POOL_SWEEP_HOUR", 1)


def _claim_daily(name: str, now, hour: int) -> bool:
    """True (and recorded) if the daily job `name` has not run today and it is past `hour`."""
    local = timezone.localtime(now)
    if local.hour < hour:
        return False
    with transaction.atomic():
        run, created = JobRun.objects.select_for_update().get_or_create(name=name, defaults={"last_run_at": now})
        if created:
            return True
        if timezone.localtime(run.last_run_at).date() >= local.date():
            return False
        run.last_run_at = now
        run.save(update_fields=["last_run_at"])
        return True


def _pending(job) -> bool:
    """A run of `job` is still waiting in the database queue (do not pile up copies)."""
    try:
        from django_tasks_db.models import DBTaskResult

        return DBTaskResult.objects.ready().filter(task_path=job.module_path).exists()
    except Exception:
        return False


def run_due_jobs(now=None, *, execute: bool = False) -> dict:
    """Run (execute=True) or enqueue the jobs that are due now. Returns {job: result or "enqueued"}."""
    from . import tasks

    now = now or timezone.now()
    from kehu.core.exports_jobs import cleanup_exports

    due = [tasks.send_reminders, cleanup_exports]  # every minute: dead export jobs, expired export files
    if _claim_daily("pool_sweep", now, POOL_SWEEP_HOUR):
        due.append(tasks.pool_sweep)
    out = {}
    for job in due:
        if execute:
            out[job.name] = job.call(now.isoformat())
        elif _pending(job):
            out[job.name] = "already queued"
        else:
            result = job.enqueue()
            out[job.name] = getattr(result, "return_value", None) if result.is_finished else "enqueued"
    return out


class Scheduler(threading.Thread):
    """Ticks at the start of every minute until stopped."""

    def __init__(self, interval: float = 60.0):
        super().__init__(name="kehu-scheduler", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                close_old_connections()
                log.info("scheduler: %s", run_due_jobs())
            except Exception:
                log.exception("scheduler tick failed")
            finally:
                connection.close()
            wait = self.interval - (timezone.now().timestamp() % self.interval) if self.interval >= 60 \
                else self.interval
            self.stopped.wait(wait)

    def stop(self):
        self.stopped.set()
