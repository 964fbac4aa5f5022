"""My day panels of the customers app (declared in registrations.py)."""

import datetime

from django.conf import settings
from django.utils import timezone

from .models import Customer
from .services import pool_candidates


def pool_warnings(user, now):
    """At most 10 of the user's customers about to go back to the pool, the longest idle first.

    pool_candidates is `owner = me AND last_activity_at < cutoff AND NOT EXISTS (an open
    opportunity)`: the owner's customers through cust_owner_id_idx, each probed once in the partial
    index of open opportunities (see services.py)."""
    # the user's own customers (Customer.objects: not deleted), always inside their own data scope
    rows = list(pool_candidates(user, now)[:10])
    idle = datetime.timedelta(days=getattr(settings, "KEHU_POOL_IDLE_DAYS", 30))
    for c in rows:
        c.returns_on = timezone.localtime(c.last_activity_at + idle).date() if c.last_activity_at else None
    return rows


def pool_panel(request, ctx):
    ctx["pool_warnings"] = pool_warnings(request.user, timezone.now())
    return "customers/home_pool.html"


def customers_panel(request, ctx):
    mine = Customer.objects.visible_to(request.user).filter(owner=request.user)
    ctx["recent_customers"] = list(mine.select_related("type").order_by("-updated_at", "-id")[:6])
    ctx["pool_count_link"] = request.user.has_right("pool", "view")  # the pool list needs the pool right
    return "customers/home_customers.html"
