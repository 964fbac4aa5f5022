"""Background jobs (django-tasks), declared in registrations.py: core's scheduler enqueues them; they can also be
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
