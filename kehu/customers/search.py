"""The header search's customers and contacts (declared in registrations.py)."""

from django.db import connection

from kehu.accounts.scope import scope_key
from kehu.core.registry import registry


def customers(user, q: str) -> list:
    """Customers by number, name, pinyin, phone, e-mail and contact: the newest 25 visible."""
    rt = registry.get("customer")
    fs = rt.filterset({"q": q}, queryset=rt.visible(user), user=user)
    return rt.prepare(list(fs.qs.order_by("-id")[:25]))


def contacts(user, q: str) -> list:
    crt = registry.get("contact")
    visible = crt.filterset({"q": q}, queryset=crt.visible(user), user=user).qs
    if scope_key(user) == ("all",) or connection.vendor == "postgresql":
        # the newest 25 visible matches, read in id order with the scope checked per row
        # (PostgreSQL plans it so: a 4-digit phone fragment at 1M, 7-19 ms for a supervisor
        # or a rep), not a window of 200 unscoped matches (~47,000 contacts walked, 35 ms);
        # with the "all" scope every match is visible
        rows = list(visible.order_by("-id")[:25])
    else:
        matching = crt.filterset({"q": q}, queryset=crt.model.objects.all(), user=user).qs
        rows = newest_visible(visible, matching, 25)
    return crt.prepare(rows)  # each contact's customer named in one query (the card shows it), not one a row


SEARCH_WINDOW = 200


def newest_visible(visible, matching, size):
    """SQLite: the newest `size` rows of `visible` (the search within the user's scope), found through the
    newest SEARCH_WINDOW ids of `matching` (the same search without the scope). SQLite planned the
    scoped contact search scope-first (the customers join, then every contact of the scope sorted:
    0.5-1.7 s at 200k-1M customers); the unscoped search is read in id order and stops after the
    window. Only when the scope keeps fewer than `size` of a full window is the rest read the slow way."""
    ids = list(matching.order_by("-id").values_list("pk", flat=True)[:SEARCH_WINDOW])
    rows = list(visible.filter(pk__in=ids).order_by("-id")[:size]) if ids else []
    if len(rows) < size and len(ids) == SEARCH_WINDOW:
        rows += list(visible.filter(pk__lt=ids[-1]).order_by("-id")[:size - len(rows)])
    return rows
