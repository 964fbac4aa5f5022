import functools

from django.urls import get_script_prefix, reverse

from kehu.core import registries
from kehu.core.models import Notification
from kehu.core.registry import registry


@functools.lru_cache(maxsize=512)
def _url(prefix: str, name: str) -> str:
    return reverse(name)


def url(name: str) -> str:
    """A menu entry's URL, reversed once per process (and script prefix): the menu reversed ~30
    URLs on every page (~1 ms)."""
    return _url(get_script_prefix(), name)


def navigation(user) -> tuple[list[dict], list[dict]]:
    """(main sections with their entries, the Administration menu's entries) the user may open:
    record types that declare a `nav_section` (shown with their module's view right) and the
    declared nav entries (kehu/core/registries.py), each section and entry in its declared order."""
    entries: dict[str, list] = {}
    for rt in registry.all():
        if rt.nav_section and user.has_right(rt.module, "view"):
            entries.setdefault(rt.nav_section, []).append(
                (rt.nav_order, {"label": rt.label_plural, "url": url(rt.url_name("list")), "icon": rt.nav_icon,
                                "key": rt.key}))
    for e in registries.nav_entries.values():
        if registries._holds(user, e.right):
            entries.setdefault(e.section, []).append(
                (e.order, {"label": e.label, "url": url(e.url_name), "icon": e.icon, "key": e.key}))

    def items(section):
        return [item for _order, item in sorted(entries.get(section, []), key=lambda pair: pair[0])]

    sections = sorted((s for s in registries.nav_sections.values() if s.key != registries.ADMIN),
                      key=lambda s: s.order)
    nav = [{"label": s.label, "key": s.key, "items": items(s.key)} for s in sections]
    return [n for n in nav if n["items"]], items(registries.ADMIN)


def kehu(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # once per request: a page that renders parts of itself with the request (the ticket page's
    # side panels) ran this for each of them, ~2 ms each
    done = getattr(request, "_kehu_context", None)
    if done is not None and done[0] == user.pk:
        return done[1]
    request._kehu_context = (user.pk, _context(user))
    return request._kehu_context[1]


def _context(user) -> dict:
    nav, admin_nav = navigation(user)
    providers = registries.search_providers_for(user)
    return {
        "nav": nav,
        "admin_nav": admin_nav,
        "header_search": bool(providers),
        "header_search_placeholder": next((p.placeholder for p in providers if p.placeholder), ""),
        "unread_count": lambda: Notification.objects.filter(user=user, read_at__isnull=True).count(),
    }
