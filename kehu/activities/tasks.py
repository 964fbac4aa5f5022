"""Background jobs (django-tasks): the worker's scheduler enqueues them; they can also be
enqueued by hand (`send_reminders.enqueue()`) or run in-process (`send_reminders.call()`)."""

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tasks import task


def _now(value):
    return parse_datetime(value) if value else timezone.now()


@task
def send_reminders(now: str | None = None) -> dict:
    """Every minute: due / overdue tasks, next follow-up actions and overdue plan steps."""
    from .services import run_reminders

    return run_reminders(_now(now))


@task
def pool_sweep(now: str | None = None) -> dict:
    """Once a day: the public-pool rules (kehu.customers.services.pool_sweep, when it exists)."""
    try:
        from kehu.customers.services import pool_sweep as sweep
    except ImportError:
        return {"skipped": "no pool_sweep"}
    result = sweep(_now(now))
    return result if isinstance(result, dict) else {"result": str(result)}
