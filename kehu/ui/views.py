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
                .filter(owner=user, status__in=Task.OPEN, due_at__lt=end)
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
    from kehu.customers.models import Customer

    if not user.has_right("customer", "view"):
        return None
    try:
        from kehu.customers.services import pool_candidates
    except ImportError:
        return None
    rows = list(Customer.objects.visible_to(user).filter(pk__in=pool_candidates(user).values("pk"))
                .order_by("last_activity_at", "id")[:10])
    idle = datetime.timedelta(days=getattr(settings, "KEHU_POOL_IDLE_DAYS", 30))
    for c in rows:
        c.returns_on = timezone.localtime(c.last_activity_at + idle).date() if c.last_activity_at else None
    return rows


@login_required
def home(request):
    """My day: what the person should look at first."""
    from kehu.customers.models import Customer

    user = request.user
    now = timezone.now()
    start, end = _day_bounds()
    ctx = {"today": timezone.localdate(),
           "notes": Notification.objects.filter(user=user, read_at__isnull=True)[:8],
           "can_task": {a: user.has_right("task", a) for a in ("view", "create", "edit")},
           "can_followup": {a: user.has_right("followup", a) for a in ("view", "create")}}
    if ctx["can_task"]["view"]:
        ctx["tasks"] = _my_tasks(user, end)
    if ctx["can_followup"]["view"]:
        ctx["next_actions"] = _my_next_actions(user, start, end)
    ctx["opportunities"] = _new_opportunities(user, now)
    ctx["pool_warnings"] = _pool_warnings(user, now)
    if user.has_right("customer", "view"):
        mine = Customer.objects.visible_to(user).filter(owner=user)
        ctx["recent_customers"] = mine.select_related("type").order_by("-updated_at", "-id")[:6]
        ctx["pool_count_link"] = True
    return render(request, "ui/home.html", ctx)


def healthz(request):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
