"""Background jobs of the orders app (django-tasks), declared in registrations.py."""

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tasks import task


@task
def expire_quotations(now: str | None = None) -> int:
    """Once a day: sent quotations whose validity date has passed (in the company's time zone)
    become expired, through the workflow (logged, by the system). Returns how many."""
    from kehu.core.registry import registry

    from .models import Quotation

    moment = parse_datetime(now) if now else timezone.now()
    today = timezone.localdate(moment)
    workflow = registry.get("quotation").workflow
    done = 0
    for quotation in Quotation.objects.filter(status="sent", valid_until__lt=today).order_by("pk").iterator():
        workflow.take(quotation, "expire", None)
        done += 1
    return done
