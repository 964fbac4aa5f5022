"""Fixed-window request counters in Django's cache, for pages anyone may call (a survey link).

    limited = ratelimit.hit("survey-ip", client_ip(request), limit=30, window=600)
    if limited: return a 429 page with `Retry-After: limited`

The counters live in the configured cache (`CACHES`; Django's default is the process's memory:
each server process then counts on its own, so the effective limit is the limit times the
processes; a shared cache — database or Redis — makes it one limit)."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache


def _key(scope: str, ident: str, window: int) -> tuple[str, int]:
    bucket = int(time.time() // window)
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]  # any length of input, no key injection
    return f"kehu-rl:{scope}:{digest}:{bucket}", window - int(time.time() % window)


def hit(scope: str, ident: str, *, limit: int, window: int) -> int:
    """Count one request of `ident` in `scope`. 0 while within `limit` requests per `window`
    seconds, else the seconds until the window ends (for Retry-After)."""
    key, left = _key(scope, ident, window)
    if cache.add(key, 1, timeout=window + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window + 1)
            count = 1
    return max(left, 1) if count > limit else 0


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or behind KEHU_PROXY_COUNT reverse proxies the address
    the outermost of them saw (that many entries from the right of X-Forwarded-For; entries a
    client wrote itself further left are never trusted)."""
    from django.conf import settings

    proxies = getattr(settings, "KEHU_PROXY_COUNT", 0)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "-"
