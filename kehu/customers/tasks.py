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


@task
def quality_scan(scan_id: int | None = None) -> dict:
    """A data-quality scan asked for on the page (quality.start_scan)."""
    from .models import QualityScan
    from .quality import run_scan

    scan = QualityScan.objects.filter(pk=scan_id).first() if scan_id else None
    scan = run_scan(scan)
    return {"scan": scan.pk, "status": scan.status, "seconds": scan.counts.get("seconds")}


@task
def quality_daily(now: str | None = None) -> dict:
    """Once a day: the data-quality scan, and on the weekly day its counts by e-mail to
    administrators and supervisors (quality.daily)."""
    from .quality import daily

    return daily(parse_datetime(now) if now else timezone.now())
