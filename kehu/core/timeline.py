"""The customer timeline: other apps register event providers, so follow-ups, orders and tickets
join it without editing this code.

A provider is `fn(customer, user, before, limit) -> list[Event]`, returning at most `limit` events
older than `before` (newest first). The timeline merges them and pages by time.
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


_providers: dict[str, Callable] = {}


def register(kind: str):
    def deco(fn):
        _providers[kind] = fn
        return fn

    return deco


def events_for(customer, user, before: datetime.datetime | None = None, limit: int = 20) -> list[Event]:
    before = before or timezone.now() + datetime.timedelta(seconds=1)
    events: list[Event] = []
    for provider in _providers.values():
        events.extend(provider(customer, user, before, limit))
    events.sort(key=lambda e: e.when, reverse=True)
    return events[:limit]
