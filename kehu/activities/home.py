"""My day panels of the activities app (declared in registrations.py)."""

import datetime

from django.db.models import Exists, OuterRef
from django.utils import timezone

from .models import FollowUp, Task


def day_bounds():
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + datetime.timedelta(days=1)


def my_tasks(user, end):
    rows = list(Task.objects.visible_to(user)
                .filter(Task.open_q(), owner=user, due_at__lt=end)
                .select_related("customer").order_by("due_at", "id")[:30])
    now = timezone.now()
    today = timezone.localdate()
    for t in rows:
        t.overdue = t.due_at < now
        t.due_today = timezone.localtime(t.due_at).date() == today
    return rows


def my_next_actions(user, start, end):
    """Next actions planned for me up to today, not yet followed by a later follow-up."""
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


def tasks_panel(request, ctx):
    ctx["tasks"] = my_tasks(request.user, day_bounds()[1])
    ctx["can_task"] = {a: request.user.has_right("task", a) for a in ("view", "create", "edit")}
    return "activities/home_tasks.html"


def next_actions_panel(request, ctx):
    start, end = day_bounds()
    ctx["next_actions"] = my_next_actions(request.user, start, end)
    ctx["can_followup"] = {a: request.user.has_right("followup", a) for a in ("view", "create")}
    return "activities/home_next_actions.html"
