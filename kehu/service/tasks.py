"""Background jobs of the service app (django-tasks), declared in registrations.py."""

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tasks import task


@task
def mark_breaches(now: str | None = None) -> int:
    """Every minute: open tickets past a due time get their breach flags (the lists' badge and the
    queue's order). Only the flag columns are written. Returns how many tickets changed."""
    from django.db.models import Q

    from . import sla
    from .models import OPEN_STATES, Ticket

    moment = parse_datetime(now) if now else timezone.now()
    late = (Q(responded_at__isnull=True, response_due__lte=moment, response_breached=False)
            | Q(resolution_due__lte=moment, resolution_breached=False))
    changed = 0
    for t in Ticket.objects.filter(late, status__in=OPEN_STATES).order_by("pk")[:5000]:
        if sla.evaluate(t, moment):
            Ticket.all_objects.filter(pk=t.pk).update(response_breached=t.response_breached,
                                                      resolution_breached=t.resolution_breached, breached=t.breached)
            changed += 1
    return changed
