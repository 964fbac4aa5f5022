"""The customer timeline: other apps register event providers, so follow-ups, orders and tickets
join it without editing this code.

A provider is `fn(customer, user, before, limit) -> list[Event]`, returning at most `limit` events
older than `before` (newest first). The timeline merges them and pages by time. Each provider
declares the right its events need (`right="contact.view"`, or None for the customer's own
history); the timeline asks only the providers whose right the user has, and a provider loads its
records through `visible_to(user)`.

    @timeline.register("contacts", right="contact.view")
    def contact_events(customer, user, before, limit): ...
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone


@dataclass
class Event:
    when: datetime.datetime
    kind: str
    title: str
    body: str = ""
    url: str = ""
    actor: object = None
    icon: str = "ti-point"
    details: list = field(default_factory=list)


_providers: dict[str, tuple[str | None, Callable]] = {}


def register(kind: str, *, right: str | None):
    """`right` is required: a provider that forgets it cannot be registered."""
    def deco(fn):
        _providers[kind] = (right, fn)
        return fn

    return deco


def allowed(user, right: str | None) -> bool:
    if right is None:
        return True
    module, _sep, action = right.partition(".")
    return user is None or user.has_right(module, action)


def events_for(customer, user, before: datetime.datetime | None = None, limit: int = 20) -> list[Event]:
    before = before or timezone.now() + datetime.timedelta(seconds=1)
    events: list[Event] = []
    for right, provider in _providers.values():
        if allowed(user, right):
            events.extend(provider(customer, user, before, limit))
    events.sort(key=lambda e: e.when, reverse=True)
    return events[:limit]
