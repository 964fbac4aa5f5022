"""Service levels: due times in business time (docs/architecture.md, "Service").

Business time runs in the company's time zone (settings.TIME_ZONE, Asia/Shanghai by default)
during the working hours of each weekday (`WorkingHours`, default Monday to Friday 9:00–18:00)
less their break (a lunch break 午休, optional), except on the company's holidays; a make-up working day 调休 (`Holiday` of kind workday) works
its own hours even on a weekend. A ticket's first-response and resolution due times are its
creation time plus the minutes of its SLA policy (`SlaPolicy`: the most specific of type ×
priority, type only, priority only, any), counted in business time only."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

DEFAULT_HOURS = {d: (datetime.time(9), datetime.time(18), None, None) for d in range(5)}  # Mon–Fri 9:00–18:00
# used when no policy matches (the migration creates these as "any type" policies)
DEFAULT_MINUTES = {"urgent": (30, 240), "high": (60, 540), "normal": (240, 1620), "low": (480, 2700)}
DEFAULT_REMIND = 30
MAX_DAYS = 3 * 366  # never search further for working time


def company_tz():
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


Hours = tuple[datetime.time, datetime.time, datetime.time | None, datetime.time | None]  # start, end, break


def _hours(row) -> Hours:
    return row.starts, row.ends, row.break_starts, row.break_ends


@dataclass
class Calendar:
    """Working hours (with their break) by weekday and the exceptions by date, read once."""

    hours: dict[int, Hours]
    exceptions: dict[datetime.date, Hours | None] = field(default_factory=dict)
    tz: datetime.tzinfo = field(default_factory=company_tz)

    @classmethod
    def load(cls) -> Calendar:
        from .models import Holiday, WorkingHours

        rows = list(WorkingHours.objects.all())
        hours = ({r.weekday: _hours(r) for r in rows if r.working} if rows else dict(DEFAULT_HOURS))
        exceptions = {h.date: (_hours(h) if h.kind == Holiday.Kind.WORKDAY else None)
                      for h in Holiday.objects.all()}
        return cls(hours, exceptions)

    def windows(self, day: datetime.date) -> list[tuple[datetime.datetime, datetime.datetime]]:
        """The day's working time as aware (start, end) pairs in order: one, two around a break,
        none on a day off."""
        hours = self.exceptions[day] if day in self.exceptions else self.hours.get(day.weekday())
        if not hours or hours[1] <= hours[0]:
            return []
        starts, ends, pause, resume = (*hours, None, None)[:4]
        spans = [(starts, ends)]
        if pause is not None and resume is not None and starts < pause < resume < ends:
            spans = [(starts, pause), (resume, ends)]
        return [(datetime.datetime.combine(day, a, tzinfo=self.tz), datetime.datetime.combine(day, b, tzinfo=self.tz))
                for a, b in spans]

    def add(self, start: datetime.datetime, minutes: int) -> datetime.datetime:
        """`start` plus `minutes` of business time (returned in UTC). Zero minutes outside working
        hours is the next moment of working time."""
        t = start.astimezone(self.tz)
        left = datetime.timedelta(minutes=max(int(minutes), 0))
        day = t.date()
        for _ in range(MAX_DAYS):
            for w in self.windows(day):
                if t < w[1]:
                    t = max(t, w[0])
                    room = w[1] - t
                    if left <= room:
                        return (t + left).astimezone(datetime.UTC)
                    left -= room
                    t = w[1]
            day += datetime.timedelta(days=1)
            t = datetime.datetime.combine(day, datetime.time.min, tzinfo=self.tz)
        raise ValueError("no working time within three years: check the working hours")

    def between(self, start: datetime.datetime, end: datetime.datetime) -> int:
        """Business minutes from `start` to `end` (0 when end is not after start)."""
        if end <= start:
            return 0
        total = datetime.timedelta()
        day, last = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        while day <= last:
            for w in self.windows(day):
                a, b = max(w[0], start), min(w[1], end)
                if b > a:
                    total += b - a
            day += datetime.timedelta(days=1)
        return int(total.total_seconds() // 60)


def policy_for(type_id, priority):
    """(response minutes, resolution minutes, remind before) of the most specific policy."""
    from .models import SlaPolicy

    rows = list(SlaPolicy.objects.filter(Q(ticket_type_id=type_id) | Q(ticket_type__isnull=True),
                                         Q(priority=priority) | Q(priority="")))
    if rows:
        best = max(rows, key=lambda p: (p.ticket_type_id is not None, bool(p.priority)))
        return best.response_minutes, best.resolution_minutes, best.remind_before_minutes
    response, resolution = DEFAULT_MINUTES.get(priority, DEFAULT_MINUTES["normal"])
    return response, resolution, DEFAULT_REMIND


def compute(ticket, calendar: Calendar | None = None) -> None:
    """Set the ticket's due times and the moments the handler is warned, from its creation."""
    cal = calendar or Calendar.load()
    start = ticket.created_at or timezone.now()
    response, resolution, remind = policy_for(ticket.type_id, ticket.priority)
    ticket.response_due = cal.add(start, response)
    ticket.resolution_due = cal.add(start, resolution)
    ticket.response_warn_at = cal.add(start, max(response - remind, 0))
    ticket.resolution_warn_at = cal.add(start, max(resolution - remind, 0))
    evaluate(ticket, timezone.now())


def evaluate(ticket, now) -> bool:
    """Set the breach flags from the due times and what happened; True when one changed."""
    before = (ticket.response_breached, ticket.resolution_breached, ticket.breached)
    if ticket.response_due is not None:
        answered = ticket.responded_at
        ticket.response_breached = (answered > ticket.response_due) if answered else (
            now > ticket.response_due and ticket.status in ("new", "assigned"))
    if ticket.resolution_due is not None:
        done = ticket.resolved_at
        ticket.resolution_breached = (done > ticket.resolution_due) if done else (
            now > ticket.resolution_due and ticket.status in ("new", "assigned"))
    ticket.breached = ticket.response_breached or ticket.resolution_breached
    return before != (ticket.response_breached, ticket.resolution_breached, ticket.breached)


def refresh_due(ticket) -> None:
    """On save: due times for a new ticket, and again when its type or priority changed."""
    key = (ticket.type_id, ticket.priority)
    if ticket.pk is None or ticket.response_due is None or getattr(ticket, "_sla_key", key) != key:
        compute(ticket)
    ticket._sla_key = key


def business_minutes_left(ticket, now=None, calendar: Calendar | None = None) -> int | None:
    if ticket.resolution_due is None:
        return None
    now = now or timezone.now()
    if now >= ticket.resolution_due:
        return 0
    return (calendar or Calendar.load()).between(now, ticket.resolution_due)
