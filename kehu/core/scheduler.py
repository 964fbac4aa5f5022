"""The periodic scheduler that runs inside `kehu worker`, beside django-tasks' database worker.

Apps declare their jobs (`kehu.core.registries.job(task)` every minute, `job(task, daily_at=1)`
once a day from that hour, local time); each tick (every minute) enqueues the jobs that are due.
When a daily job last ran is stored (`JobRun`), so a restart does not run it twice.
"""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections, connection, models, transaction
from django.utils import timezone

from . import registries

log = logging.getLogger(__name__)


class JobRun(models.Model):
    """When a periodic job last ran, so a daily job runs once a day across restarts."""

    name = models.CharField(max_length=60, unique=True)
    last_run_at = models.DateTimeField()

    class Meta:
        app_label = "core"

    def __str__(self):
        return f"{self.name} @ {self.last_run_at}"


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


def _pending(task) -> bool:
    """A run of `task` is still waiting in the database queue (do not pile up copies)."""
    try:
        from django_tasks_db.models import DBTaskResult

        return DBTaskResult.objects.ready().filter(task_path=task.module_path).exists()
    except Exception:
        return False


def due_jobs(now) -> list[registries.Job]:
    """The declared jobs due now: every-minute jobs always, a daily job once a day from its hour."""
    due = []
    for job in registries.jobs.values():
        hour = job.hour()
        if hour is None or _claim_daily(job.name, now, hour):
            due.append(job)
    return due


def run_due_jobs(now=None, *, execute: bool = False) -> dict:
    """Run (execute=True) or enqueue the jobs that are due now. Returns {job: result or "enqueued"}."""
    now = now or timezone.now()
    out = {}
    for job in due_jobs(now):
        task = job.task
        if execute:
            out[job.name] = task.call(now.isoformat())
        elif _pending(task):
            out[job.name] = "already queued"
        else:
            result = task.enqueue()
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
