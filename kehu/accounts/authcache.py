"""A short-lived, per-process memory of who an API token is and what a user may do.

Every API request used to spend four queries before its own: the token with its user, the user's
roles, their department and the owners in their data scope (about 2 ms of a 4 ms list request,
docs/benchmarks.md). Those answers change rarely, so each server process keeps them for
`KEHU_AUTH_CACHE_SECONDS` (5 s by default; 0 turns the memory off).

Correctness: a change made through Kehu (token revoked, user deactivated, roles or departments
edited) empties the memory of the process that made it at once, through the signals below; the
other server processes see it within the time limit. An expired token is refused at once
everywhere: its expiry is checked on every request.
"""

from __future__ import annotations

import copy
import threading
import time

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save

_lock = threading.Lock()
_tokens: dict[str, tuple[float, object, object]] = {}  # key hash -> (deadline, ApiToken, User)
_access: dict[tuple, tuple[float, object]] = {}  # (user id, is_active, is_superuser, dept) -> (deadline, Access)
_pickable: dict[str, tuple[float, object]] = {}  # "all" -> (deadline, [(pk, name, active)]); remembered()
MAX_ENTRIES = 5000


def ttl() -> float:
    return float(getattr(settings, "KEHU_AUTH_CACHE_SECONDS", 5))


def clear(**kwargs) -> None:
    with _lock:
        _tokens.clear()
        _access.clear()
        _pickable.clear()


def _put(store: dict, key, value) -> None:
    with _lock:
        if len(store) >= MAX_ENTRIES:
            store.clear()
        store[key] = value


def token(key_hash: str, load):
    """(ApiToken, User) for a token hash; `load()` reads them from the database (or returns None).

    The user handed out is a copy, so what one request sets on it never reaches another."""
    seconds = ttl()
    now = time.monotonic()
    hit = _tokens.get(key_hash) if seconds > 0 else None
    if hit is None or hit[0] < now:
        found = load()
        if found is None:
            return None
        if seconds > 0:
            _put(_tokens, key_hash, (now + seconds, *found))
        api_token, user = found
    else:
        _, api_token, user = hit
    return api_token, copy.copy(user)


def access(user, compute):
    """The user's Access (rights and data scope), computed by `compute()` when not remembered."""
    seconds = ttl()
    if seconds <= 0 or not user.pk:
        return compute()
    key = (user.pk, user.is_active, user.is_superuser, user.department_id)
    now = time.monotonic()
    hit = _access.get(key)
    if hit is not None and hit[0] >= now:
        return hit[1]
    value = compute()
    _put(_access, key, (now + seconds, value))
    return value


def filter_users() -> list[tuple[int, str, bool]]:
    """[(pk, name, active)] of every user, the active ones first, by username: the owner filters
    of the lists (which must also find a departed colleague's records) and the menus of active
    users. 200 users read and built per request cost ~4 ms of each list page."""
    from .models import User

    return remembered("all", lambda: [(u.pk, str(u), u.is_active) for u in User.objects.only(
        "id", "username", "full_name", "is_active").order_by("-is_active", "username")])


def remembered(key: str, compute):
    """`compute()`'s answer about users and their roles (the service queue's handlers, for one),
    kept like `filter_users` for the time limit and forgotten on the same changes: what is handed
    out is shared between requests and must not be changed."""
    seconds = ttl()
    if seconds <= 0:
        return compute()
    now = time.monotonic()
    hit = _pickable.get(key)
    if hit is not None and hit[0] >= now:
        return hit[1]
    value = compute()
    _put(_pickable, key, (now + seconds, value))
    return value


def pickable_users() -> list[tuple[int, str]]:
    """[(pk, name)] of the active users, by username: the transfer and assignment menus."""
    return [(pk, name) for pk, name, active in filter_users() if active]


def connect() -> None:
    from .models import ApiToken, Department, Role, User

    for model in (ApiToken, Department, Role, User):
        post_save.connect(clear, sender=model, dispatch_uid=f"kehu-authcache-save-{model.__name__}")
        post_delete.connect(clear, sender=model, dispatch_uid=f"kehu-authcache-delete-{model.__name__}")
    m2m_changed.connect(clear, sender=User.roles.through, dispatch_uid="kehu-authcache-roles")
