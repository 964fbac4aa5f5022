"""The iCalendar feed: a secret URL per user (`/calendar/<token>.ics`) with their open tasks
(VTODO with DUE, plus a VEVENT so calendars that ignore to-dos show them) and their next
follow-up actions (VEVENT). Revoking the token makes the URL 404."""

import datetime
import hashlib
import re
import secrets
import threading
import zoneinfo
from collections import OrderedDict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from icalendar import Calendar, Event

from kehu.accounts.models import User

from .models import FollowUp, Task

# The feed's window (docs/benchmarks.md, "Calendar feed"): what a calendar app shows around today.
# Older or later items are left out, so the feed stays small whatever a user's history holds.
WINDOW_PAST = datetime.timedelta(days=30)
WINDOW_AHEAD = datetime.timedelta(days=180)
MAX_ITEMS = 1000  # per kind (tasks, follow-up actions), nearest first
DEFAULT_DURATION = datetime.timedelta(minutes=30)
NOT_CANCELLED = [Task.Status.TODO, Task.Status.DOING, Task.Status.DONE]
TODO_STATUS = {Task.Status.DONE: "COMPLETED", Task.Status.DOING: "IN-PROCESS", Task.Status.TODO: "NEEDS-ACTION"}
PRIORITY = {"urgent": 1, "high": 3, "normal": 5, "low": 9}


def _uid(kind: str, pk: int) -> str:
    host = settings.KEHU_BASE_URL.split("//", 1)[-1].split("/", 1)[0].split(":")[0] or "kehu"
    return f"kehu-{kind}-{pk}@{host}"


def window(now=None):
    now = now or timezone.now()
    return now - WINDOW_PAST, now + WINDOW_AHEAD


def _tasks(user, start, end):
    # task_owner_status_idx (owner, status, due_at): one range per status
    return Task.objects.filter(owner=user, status__in=NOT_CANCELLED, due_at__gte=start, due_at__lt=end)


def _followups(user, start, end):
    return FollowUp.objects.filter(next_action_by=user, next_action_at__gte=start, next_action_at__lt=end)


_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(value) -> str:
    """An RFC 5545 TEXT value: backslash, semicolon, comma and line breaks escaped, other control
    characters (not allowed in TEXT) dropped."""
    return (_CONTROLS.sub("", str(value)).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines longer than 75 octets folded with CRLF + space, never inside a UTF-8 character."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts, chunk, size, limit = [], [], 0, 75
    for ch in line:
        n = len(ch.encode())
        if size + n > limit:
            parts.append("".join(chunk))
            chunk, size, limit = [], 0, 74  # continuation lines start with the space
        chunk.append(ch)
        size += n
    parts.append("".join(chunk))
    return "\r\n ".join(parts)


def _utc(dt) -> str:
    return dt.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(dt, tz) -> str:
    return dt.astimezone(tz).strftime("%Y%m%dT%H%M%S")


_VTIMEZONES: dict[str, str] = {}


def _vtimezone(tz, near) -> str:
    """The VTIMEZONE block of a zone (built once per process by the icalendar library)."""
    key = str(tz)
    if key not in _VTIMEZONES:
        cal = Calendar()
        event = Event()
        event.add("dtstart", near.astimezone(tz))
        cal.add_component(event)
        cal.add_missing_timezones()
        _VTIMEZONES[key] = "".join(c.to_ical().decode() for c in cal.walk("VTIMEZONE"))
    return _VTIMEZONES[key]


def build_calendar(user, now=None) -> str:
    """The user's calendar as RFC 5545 text, written directly (the icalendar object model cost
    ~0.6 ms per item: 840 ms for 1,339 tasks): their tasks (VTODO with DUE, plus a VEVENT so that
    calendars that ignore to-dos show them) and their next follow-up actions (VEVENT) within the
    window, local times with the zone's VTIMEZONE."""
    tz = zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
    now = now or timezone.now()
    start, end = window(now)
    base = settings.KEHU_BASE_URL.rstrip("/")
    stamp = _utc(now)
    tzid = str(tz)
    task_url = base + reverse("activities:task_detail", args=[0])[:-2]
    followup_url = base + reverse("activities:followup_detail", args=[0])[:-2]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kehu CRM//kehu//ZH", "CALSCALE:GREGORIAN",
             "X-WR-CALNAME:" + _text(_("Kehu: %(user)s") % {"user": user}), "X-WR-TIMEZONE:" + tzid]
    body = []
    tasks = (_tasks(user, start, end).select_related("customer")
             .only("pk", "title", "due_at", "status", "priority", "description", "updated_at", "customer__name")
             .order_by("due_at", "id")[:MAX_ITEMS])
    for t in tasks:
        due = _local(t.due_at, tz)
        due_end = _local(t.due_at + DEFAULT_DURATION, tz)
        url = f"{task_url}{t.pk}/"
        summary = _text(t.title + (f" · {t.customer.name}" if t.customer_id else ""))
        body += ["BEGIN:VTODO", "UID:" + _uid("task", t.pk), "DTSTAMP:" + stamp,
                 "LAST-MODIFIED:" + _utc(t.updated_at), "SUMMARY:" + summary, f"DUE;TZID={tzid}:{due}",
                 "STATUS:" + TODO_STATUS[t.status], f"PRIORITY:{PRIORITY[t.priority]}"]
        if t.description:
            body.append("DESCRIPTION:" + _text(t.description))
        body += ["URL:" + url, "END:VTODO",
                 # Google Calendar does not show VTODOs
                 "BEGIN:VEVENT", "UID:" + _uid("task-due", t.pk), "DTSTAMP:" + stamp,
                 "SUMMARY:" + ("☐ " if t.is_open else "☑ ") + summary,
                 f"DTSTART;TZID={tzid}:{due}", f"DTEND;TZID={tzid}:{due_end}", "URL:" + url, "END:VEVENT"]
    followups = (_followups(user, start, end).select_related("customer")
                 .only("pk", "next_action", "next_action_at", "topic", "updated_at", "customer__name")
                 .order_by("next_action_at", "id")[:MAX_ITEMS])
    after = _("After the follow-up “%(topic)s”.")
    for f in followups:
        body += ["BEGIN:VEVENT", "UID:" + _uid("followup", f.pk), "DTSTAMP:" + stamp,
                 "LAST-MODIFIED:" + _utc(f.updated_at), "SUMMARY:" + _text(f"{f.next_action} · {f.customer.name}"),
                 "DESCRIPTION:" + _text(after % {"topic": f.topic}),
                 f"DTSTART;TZID={tzid}:{_local(f.next_action_at, tz)}",
                 f"DTEND;TZID={tzid}:{_local(f.next_action_at + DEFAULT_DURATION, tz)}",
                 f"URL:{followup_url}{f.pk}/", "END:VEVENT"]
    text = "\r\n".join(_fold(line) for line in lines + body) + "\r\n"
    if body:
        text += _vtimezone(tz, now)
    return text + "END:VCALENDAR\r\n"


def _validators(user, now):
    """(ETag, Last-Modified) of the user's feed from two small aggregates (the newest change and the
    number of items in the window): a changed, added or removed task or follow-up action, another
    day (the window moves), language or time zone gives another ETag."""
    start, end = window(now)
    tasks = _tasks(user, start, end).aggregate(n=Count("id"), last=Max("updated_at"))
    followups = _followups(user, start, end).aggregate(n=Count("id"), last=Max("updated_at"))
    last = max(d for d in (tasks["last"], followups["last"], user.date_joined) if d is not None)
    key = (f"{user.pk}:{timezone.localdate(now)}:{user.time_zone}:{get_language()}:{tasks['n']}:{followups['n']}:"
           f"{last.isoformat()}")
    return f'"{hashlib.sha256(key.encode()).hexdigest()[:32]}"', last


def feed(request, token):
    if len(token) < 20:
        raise Http404
    user = User.objects.filter(calendar_token=token, is_active=True).first()
    if user is None or not secrets.compare_digest(user.calendar_token, token):
        raise Http404
    now = timezone.now()
    etag, last_modified = _validators(user, now)
    headers = {"ETag": etag, "Last-Modified": http_date(last_modified.timestamp()),
               "Cache-Control": "private, max-age=300"}
    if request.method in ("GET", "HEAD"):
        match = request.headers.get("If-None-Match")
        since = parse_http_date_safe(request.headers.get("If-Modified-Since") or "")
        if (match and etag in [m.strip() for m in match.split(",")]) or (
                not match and since is not None and int(last_modified.timestamp()) <= since):
            response = HttpResponseNotModified()
            for name, value in headers.items():
                response[name] = value
            return response
    response = HttpResponse(_built(user, now, etag), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="kehu.ics"'
    for name, value in headers.items():
        response[name] = value
    return response


# Feeds built recently, by ETag: a calendar app polls the same URL every few minutes and most polls
# find nothing changed. Many apps send no If-None-Match, so they would get the whole feed built again
# (1,000 tasks and 1,000 follow-up actions: ~100-170 ms at 1M customers); the ETag already names
# everything the text depends on, so a body cached under it is never stale. Bounded per process.
_BUILT: OrderedDict[str, bytes] = OrderedDict()
_BUILT_MAX = 64
_BUILT_LOCK = threading.Lock()


def _built(user, now, etag: str) -> bytes:
    with _BUILT_LOCK:
        body = _BUILT.get(etag)
        if body is not None:
            _BUILT.move_to_end(etag)
            return body
    body = build_calendar(user, now).encode()
    with _BUILT_LOCK:
        _BUILT[etag] = body
        while len(_BUILT) > _BUILT_MAX:
            _BUILT.popitem(last=False)
    return body


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
