"""My day panel of the sales app (declared in registrations.py)."""

import datetime

from django.utils import timezone

from kehu.core.registry import registry

from .models import Opportunity


def new_opportunities(user, now):
    """The user's opportunities assigned in the last 7 days."""
    qs = Opportunity.objects.visible_to(user).filter(owner=user, assigned_at__gte=now - datetime.timedelta(days=7))
    rows = list(qs.select_related("customer", "stage", "assigned_by").order_by("-assigned_at")[:10])
    rt = registry.get("opportunity")
    for o in rows:
        o.link = rt.get_absolute_url(o)
    return rows


def opportunities_panel(request, ctx):
    ctx["opportunities"] = new_opportunities(request.user, timezone.now())
    return "sales/home_opportunities.html"
