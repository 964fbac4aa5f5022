"""The daily job of the surveys app (django-tasks), declared in registrations.py."""

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tasks import task


@task
def follow_up_surveys(now: str | None = None) -> dict:
    """Once a day: a follow-up task for each survey unanswered for KEHU_SURVEY_FOLLOW_UP_DAYS
    (once per survey), then the surveys past their date marked expired."""
    from . import services

    moment = parse_datetime(now) if now else timezone.now()
    return {"followed_up": services.follow_up_unanswered(moment), "expired": services.expire_surveys(moment)}
