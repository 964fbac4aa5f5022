"""The customer timeline: other apps register event providers, so follow-ups, orders and tickets
join it without editing this code.

    @timeline.register("followups", right="followup.view")
    def followup_events(customer, user, cursor, limit):
        rows = (FollowUp.objects.visible_to(user).filter(cursor.older("occurred_at", "followups"),
                customer=customer).order_by("-occurred_at", "-id")[:limit])
        return [timeline.Event(f.occurred_at, "followup", f.topic, id=f.pk) for f in rows]

- The order is stable: newest first by (time, source, id), where `source` names the table an event
  comes from (the provider's name unless it sets another) and `id` its row. Events of one row
  (one change-log entry: owner and details changed) share that key and stay on one page.
- A provider returns the events of at most `limit` rows after the cursor (`cursor.older(time field, source)`, a
  condition an index on (customer, time, id) answers) in that order; the timeline merges them and
  pages with a cursor of the last key shown, so events at the same second are never dropped or
  shown twice at a page boundary.
- `right` is required ("followup.view", or None for the customer's own history): the timeline asks
  a provider only when the user holds it (the one rights check; `user=None` is the system); the
  provider loads its rows through `visible_to(user)`.
- A name is registered once: a second provider with the same name is an error.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils.dateparse import parse_datetime


@dataclass
class Event:
    when: datetime.datetime
    kind: str
    title: str
    body: str = ""
    url: str = ""
    actor: object = None  # a user, or a user's id: page() reads the users of a page's ids in one query
    icon: str = "ti-point"
    details: list = field(default_factory=list)
    id: int = 0  # the row the event comes from
    source: str = ""  # the table the row is in; the provider's name when not given

    @property
    def key(self) -> tuple:
        return (self.when, self.source, self.id)


@dataclass(frozen=True)
class Cursor:
    """The key of the last event shown: the next page holds what comes after it (older)."""

    when: datetime.datetime
    source: str
    id: int
    # not part of the cursor a page hands on: while a page is gathered, the time of the oldest event
    # that can still be shown; a provider asked later reads nothing older (page())
    floor: datetime.datetime | None = None

    @classmethod
    def start(cls) -> Cursor:
        """Before the first page: every event (also one dated in the future) comes after it."""
        return cls(datetime.datetime(9998, 12, 31, tzinfo=datetime.UTC), "", 0)

    def older(self, time_field: str, source: str, id_field: str = "pk") -> Q:
        """Rows of `source` that come after this cursor in the timeline's order (and, while a page
        is gathered, not before its floor)."""
        if source > self.source:  # at the cursor's time, this source came first: all shown
            condition = Q(**{f"{time_field}__lt": self.when})
        else:
            condition = Q(**{f"{time_field}__lte": self.when})
        if source == self.source:  # the same time and source: only the smaller ids are left
            condition &= ~Q(**{time_field: self.when, f"{id_field}__gte": self.id})
        if self.floor is not None:
            condition &= Q(**{f"{time_field}__gte": self.floor})
        return condition

    def encode(self) -> str:
        return f"{self.when.isoformat()}~{self.source}~{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """The cursor of `?cursor=`; None when it is missing or not one."""
        try:
            when, source, pk = (text or "").rsplit("~", 2)
            moment = parse_datetime(when)
            return cls(moment, source, int(pk)) if moment is not None and moment.tzinfo else None
        except (TypeError, ValueError):
            return None


@dataclass
class Page:
    events: list[Event]
    next_cursor: Cursor | None  # None: nothing older


_providers: dict[str, tuple[str | None, Callable]] = {}


def register(name: str, *, right: str | None):
    """`right` is required: a provider that forgets it cannot be registered; `name` is unique."""
    def deco(fn):
        if name in _providers and _providers[name][1] is not fn:
            raise ImproperlyConfigured(f"A timeline provider named {name!r} is already registered "
                                       f"({_providers[name][1].__module__}).")
        _providers[name] = (right, fn)
        return fn

    return deco


def unregister(name: str) -> None:
    _providers.pop(name, None)


def allowed(user, right: str | None) -> bool:
    if right is None or user is None:
        return True
    module, _sep, action = right.partition(".")
    return user.has_right(module, action)


def page(customer, user, cursor: Cursor | None = None, limit: int = 20) -> Page:
    """The `limit` newest events after `cursor` (the first page without one), and the next cursor."""
    cursor = cursor or Cursor.start()
    after = (cursor.when, cursor.source, cursor.id)
    events: list[Event] = []
    for name, (right, provider) in _providers.items():
        if not allowed(user, right):
            continue
        for event in provider(customer, user, cursor, limit + 1):  # one more tells whether a next page exists
            event.source = event.source or name
            if event.key < after:
                events.append(event)
        if len(events) > limit:
            # limit + 1 events are at hand: an event older than the (limit + 1)-th newest cannot be
            # shown, so the providers asked next read nothing older (a busy customer's page read 21
            # rows from each of 14 providers, ~290 rows, to show 20)
            events.sort(key=lambda e: e.key, reverse=True)
            cursor = dataclasses.replace(cursor, floor=events[limit].when)
    events.sort(key=lambda e: e.key, reverse=True)
    if len(events) <= limit:
        return Page(_with_actors(events), None)
    last = events[limit - 1].key
    shown = limit
    while shown < len(events) and events[shown].key == last:  # one row's events stay together
        shown += 1
    return Page(_with_actors(events[:shown]), Cursor(*last))


def _with_actors(events: list[Event]) -> list[Event]:
    """`events` with each actor given as a user id replaced by the user, read in one query of the
    columns a name needs. Providers give ids: each joining the users table read ~20 columns of
    the user (the password hash among them) for each of up to 21 rows, in every provider's query."""
    ids = {e.actor for e in events if isinstance(e.actor, int)}
    if ids:
        from django.contrib.auth import get_user_model

        users = get_user_model()._base_manager.only("id", "username", "full_name").in_bulk(ids)
        for e in events:
            if isinstance(e.actor, int):
                e.actor = users.get(e.actor)
    return events


def events_for(customer, user, cursor: Cursor | None = None, limit: int = 20) -> list[Event]:
    return page(customer, user, cursor, limit).events
