"""Background jobs of the customers app (declared in registrations.py)."""

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tasks import task


@task
def pool_sweep(now: str | None = None) -> dict:
    """Once a day: the public-pool rules (services.pool_sweep)."""
    from . import services

    result = services.pool_sweep(parse_datetime(now) if now else timezone.now())
    return result if isinstance(result, dict) else {"result": str(result)}
