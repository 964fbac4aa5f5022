"""The iCalendar feed: a secret URL per user (`/calendar/<token>.ics`) with their open tasks
(VTODO with DUE, plus a VEVENT so calendars that ignore to-dos show them) and their next
follow-up actions (VEVENT). Revoking the token makes the URL 404."""

import datetime
import secrets
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from icalendar import Calendar, Event, Todo

from kehu.accounts.models import User

from .models import FollowUp, Task

HORIZON_PAST = datetime.timedelta(days=60)
DEFAULT_DURATION = datetime.timedelta(minutes=30)


def _uid(kind: str, pk: int) -> str:
    host = settings.KEHU_BASE_URL.split("//", 1)[-1].split("/", 1)[0].split(":")[0] or "kehu"
    return f"kehu-{kind}-{pk}@{host}"


def build_calendar(user) -> Calendar:
    tz = zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
    now = timezone.now()
    base = settings.KEHU_BASE_URL.rstrip("/")
    cal = Calendar()
    cal.add("prodid", "-//Kehu CRM//kehu//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _("Kehu: %(user)s") % {"user": user})
    cal.add("x-wr-timezone", str(tz))
    tasks = (Task.objects.filter(owner=user, due_at__isnull=False, due_at__gte=now - HORIZON_PAST)
             .exclude(status=Task.Status.CANCELLED).select_related("customer").order_by("due_at")[:1000])
    for t in tasks:
        due = t.due_at.astimezone(tz)
        url = base + reverse("activities:task_detail", args=[t.pk])
        summary = t.title + (f" · {t.customer}" if t.customer_id else "")
        todo = Todo()
        todo.add("uid", _uid("task", t.pk))
        todo.add("dtstamp", now)
        todo.add("last-modified", t.updated_at)
        todo.add("summary", summary)
        todo.add("due", due)
        todo.add("status", "COMPLETED" if t.status == Task.Status.DONE else
                 "IN-PROCESS" if t.status == Task.Status.DOING else "NEEDS-ACTION")
        todo.add("priority", {"urgent": 1, "high": 3, "normal": 5, "low": 9}[t.priority])
        if t.description:
            todo.add("description", t.description)
        todo.add("url", url)
        cal.add_component(todo)
        event = Event()  # Google Calendar does not show VTODOs
        event.add("uid", _uid("task-due", t.pk))
        event.add("dtstamp", now)
        event.add("summary", "☐ " + summary if t.is_open else "☑ " + summary)
        event.add("dtstart", due)
        event.add("dtend", due + DEFAULT_DURATION)
        event.add("url", url)
        cal.add_component(event)
    followups = (FollowUp.objects.filter(next_action_by=user, next_action_at__isnull=False,
                                         next_action_at__gte=now - HORIZON_PAST)
                 .select_related("customer").order_by("next_action_at")[:1000])
    for f in followups:
        start = f.next_action_at.astimezone(tz)
        event = Event()
        event.add("uid", _uid("followup", f.pk))
        event.add("dtstamp", now)
        event.add("last-modified", f.updated_at)
        event.add("summary", f"{f.next_action} · {f.customer}")
        event.add("description", _("After the follow-up “%(topic)s”.") % {"topic": f.topic})
        event.add("dtstart", start)
        event.add("dtend", start + DEFAULT_DURATION)
        event.add("url", base + reverse("activities:followup_detail", args=[f.pk]))
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal


def feed(request, token):
    if len(token) < 20:
        raise Http404
    user = User.objects.filter(calendar_token=token, is_active=True).first()
    if user is None or not secrets.compare_digest(user.calendar_token, token):
        raise Http404
    response = HttpResponse(build_calendar(user).to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="kehu.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def feed_url(request, user) -> str:
    if not user.calendar_token:
        return ""
    return request.build_absolute_uri(reverse("activities:calendar_feed", args=[user.calendar_token]))


@login_required
@require_POST
def token_create(request):
    User.objects.filter(pk=request.user.pk).update(calendar_token=secrets.token_urlsafe(32))
    messages.success(request, _("Your calendar link is ready. Anyone with the link can read your tasks "
                                "and next actions; revoke it if it leaks."))
    return redirect(reverse("accounts:profile") + "#calendar")


@login_required
@require_POST
def token_revoke(request):
    User.objects.filter(pk=request.user.pk).update(calendar_token="")
    messages.success(request, _("The calendar link was revoked."))
    return redirect(reverse("accounts:profile") + "#calendar")
