import datetime

from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldError
from django.db.models import Exists, OuterRef
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

from kehu.core.models import Notification


def _day_bounds():
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + datetime.timedelta(days=1)


def _my_tasks(user, end):
    from kehu.activities.models import Task

    rows = list(Task.objects.visible_to(user)
                .filter(Task.open_q(), owner=user, due_at__lt=end)
                .select_related("customer").order_by("due_at", "id")[:30])
    now = timezone.now()
    today = timezone.localdate()
    for t in rows:
        t.overdue = t.due_at < now
        t.due_today = timezone.localtime(t.due_at).date() == today
    return rows


def _my_next_actions(user, start, end):
    """Next actions planned for me up to today, not yet followed by a later follow-up."""
    from kehu.activities.models import FollowUp

    later = FollowUp.objects.filter(customer=OuterRef("customer"), occurred_at__gt=OuterRef("occurred_at"))
    rows = list(FollowUp.objects.visible_to(user)
                .filter(next_action_by=user, next_action_at__lt=end,
                        next_action_at__gte=start - datetime.timedelta(days=30))
                .exclude(Exists(later)).select_related("customer").order_by("next_action_at", "id")[:30])
    now = timezone.now()
    today = timezone.localdate()
    for f in rows:
        f.overdue = f.next_action_at < now
        f.due_today = timezone.localtime(f.next_action_at).date() == today
    return rows


def _new_opportunities(user, now):
    if not apps.is_installed("kehu.sales") or not user.has_right("opportunity", "view"):
        return None
    try:
        Opportunity = apps.get_model("sales", "Opportunity")
        qs = Opportunity.objects.filter(owner=user, assigned_at__gte=now - datetime.timedelta(days=7))
        if hasattr(qs, "visible_to"):
            qs = qs.visible_to(user)
        related = [f.name for f in Opportunity._meta.fields if f.name in ("customer", "stage", "assigned_by")]
        rows = list(qs.select_related(*related).order_by("-assigned_at")[:10])
    except (LookupError, FieldError):
        return None
    from kehu.core.registry import registry

    rt = registry.for_model(Opportunity)
    for o in rows:
        try:
            o.link = rt.get_absolute_url(o) if rt else ""
        except Exception:  # no URL for it (yet)
            o.link = ""
    return rows


def _pool_warnings(user, now):
    """At most 10 of the user's customers about to go back to the pool, the longest idle first.

    pool_candidates is `owner = me AND last_activity_at < cutoff AND NOT EXISTS (an open
    opportunity)`: the owner's customers through cust_owner_id_idx, each probed once in the partial
    index of open opportunities (see kehu/customers/services.py)."""

    if not user.has_right("customer", "view"):
        return None
    try:
        from kehu.customers.services import pool_candidates
    except ImportError:
        return None
    # the user's own customers (Customer.objects: not deleted), always inside their own data scope
    rows = list(pool_candidates(user, now)[:10])
    idle = datetime.timedelta(days=getattr(settings, "KEHU_POOL_IDLE_DAYS", 30))
    for c in rows:
        c.returns_on = timezone.localtime(c.last_activity_at + idle).date() if c.last_activity_at else None
    return rows


def _panel_tasks(request, ctx):
    if not ctx["can_task"]["view"]:
        return None
    ctx["tasks"] = _my_tasks(request.user, _day_bounds()[1])
    return "ui/home_tasks.html"


def _panel_next_actions(request, ctx):
    if not ctx["can_followup"]["view"]:
        return None
    start, end = _day_bounds()
    ctx["next_actions"] = _my_next_actions(request.user, start, end)
    return "ui/home_next_actions.html"


def _panel_opportunities(request, ctx):
    ctx["opportunities"] = _new_opportunities(request.user, timezone.now())
    return "ui/home_opportunities.html" if ctx["opportunities"] is not None else None


def _panel_notifications(request, ctx):
    ctx["notes"] = list(Notification.objects.filter(user=request.user, read_at__isnull=True)[:8])
    return "ui/home_notifications.html"


def _panel_pool(request, ctx):
    ctx["pool_warnings"] = _pool_warnings(request.user, timezone.now())
    return "ui/home_pool.html" if ctx["pool_warnings"] is not None else None


def _panel_customers(request, ctx):
    from kehu.customers.models import Customer

    user = request.user
    if not user.has_right("customer", "view"):
        return None
    mine = Customer.objects.visible_to(user).filter(owner=user)
    ctx["recent_customers"] = list(mine.select_related("type").order_by("-updated_at", "-id")[:6])
    ctx["pool_count_link"] = user.has_right("pool", "view")  # the pool list needs the pool right
    return "ui/home_customers.html"


HOME_PANELS = {
    "tasks": _panel_tasks, "next_actions": _panel_next_actions, "opportunities": _panel_opportunities,
    "notifications": _panel_notifications, "pool": _panel_pool, "customers": _panel_customers,
}


def _home_context(user):
    return {"today": timezone.localdate(),
            "can_task": {a: user.has_right("task", a) for a in ("view", "create", "edit")},
            "can_followup": {a: user.has_right("followup", a) for a in ("view", "create")}}


@login_required
def home(request):
    """My day: what the person should look at first.

    The page is a shell that answers without reading any record: each panel is a fragment
    (`?panel=tasks`, ...) that HTMX loads after the page (`hx-trigger="load"`), in place of a
    placeholder of the panel's size. Each is bounded (LIMIT) and read from an index, and a slow one
    only delays itself. A panel the user has no right to answers 404."""
    from django.http import Http404

    user = request.user
    ctx = _home_context(user)
    name = request.GET.get("panel")
    if name is not None:
        build = HOME_PANELS.get(name)
        template = build(request, ctx) if build else None
        if template is None:
            raise Http404
        return render(request, template, ctx)
    ctx["can_opportunity"] = apps.is_installed("kehu.sales") and user.has_right("opportunity", "view")
    ctx["can_customer"] = user.has_right("customer", "view")
    return render(request, "ui/home.html", ctx)


def healthz(request):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
