"""Reminders: which are due, and sending each exactly once (in-app and by e-mail).

`run_reminders(now)` is idempotent: every reminder is a `Reminder` row keyed on
(kind, object, due time, user). A row with `sent_at` is never sent again, also after a restart;
a failed e-mail leaves `sent_at` empty and is retried on the next run (up to MAX_ATTEMPTS).
The in-app notification is created once, on the first attempt.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kehu.core.services import notify, send_email

from .models import FollowUp, Reminder, Task

log = logging.getLogger(__name__)

MAX_ATTEMPTS = getattr(settings, "KEHU_REMINDER_MAX_ATTEMPTS", 20)
# a task still open this long after its due time gets the (single) overdue reminder
OVERDUE_AFTER = datetime.timedelta(hours=getattr(settings, "KEHU_TASK_OVERDUE_HOURS", 24))
# reminders older than this are not sent any more (a worker that was down for a month)
LOOKBACK = datetime.timedelta(days=getattr(settings, "KEHU_REMINDER_LOOKBACK_DAYS", 7))


@dataclass
class Due:
    kind: str
    obj: object
    due_at: datetime.datetime
    user: object
    title: str
    body: str = ""
    url: str = ""


def _when(value) -> str:
    return formats.date_format(timezone.localtime(value), "Y-m-d H:i") if value else ""


def _finished(kind, model, user_field, due_field):
    """Exists(): this object's reminder was sent (or given up on) already."""
    return Exists(Reminder.objects.filter(
        Q(sent_at__isnull=False) | Q(attempts__gte=MAX_ATTEMPTS),
        kind=kind, content_type=ContentType.objects.get_for_model(model), object_id=OuterRef("pk"),
        due_at=OuterRef(due_field), user=OuterRef(user_field),
    ))


def task_reminders(now) -> list[Due]:
    out = []
    open_tasks = Task.objects.filter(Task.open_q(), owner__isnull=False, owner__is_active=True)
    due = (open_tasks.filter(due_at__lte=now, due_at__gt=now - OVERDUE_AFTER)
           .exclude(_finished(Reminder.Kind.TASK_DUE, Task, "owner", "due_at")).select_related("owner", "customer"))
    for task in due:
        out.append(Due(Reminder.Kind.TASK_DUE, task, task.due_at, task.owner,
                       _("Task due: %(title)s") % {"title": task.title},
                       _("Due %(when)s.") % {"when": _when(task.due_at)} + _customer_line(task.customer),
                       reverse("activities:task_detail", args=[task.pk])))
    overdue = (open_tasks.filter(due_at__lte=now - OVERDUE_AFTER, due_at__gt=now - OVERDUE_AFTER - LOOKBACK)
               .exclude(_finished(Reminder.Kind.TASK_OVERDUE, Task, "owner", "due_at"))
               .select_related("owner", "customer"))
    for task in overdue:
        out.append(Due(Reminder.Kind.TASK_OVERDUE, task, task.due_at, task.owner,
                       _("Task overdue: %(title)s") % {"title": task.title},
                       _("It was due %(when)s and is still open.") % {"when": _when(task.due_at)}
                       + _customer_line(task.customer),
                       reverse("activities:task_detail", args=[task.pk])))
    return out


def followup_reminders(now) -> list[Due]:
    qs = (FollowUp.objects.filter(next_action_at__lte=now, next_action_at__gt=now - LOOKBACK,
                                  next_action_by__isnull=False, next_action_by__is_active=True)
          .exclude(_finished(Reminder.Kind.FOLLOWUP_NEXT, FollowUp, "next_action_by", "next_action_at"))
          .select_related("next_action_by", "customer"))
    return [
        Due(Reminder.Kind.FOLLOWUP_NEXT, f, f.next_action_at, f.next_action_by,
            _("Next action for %(customer)s: %(action)s") % {"customer": f.customer, "action": f.next_action},
            _("Planned for %(when)s, after the follow-up “%(topic)s”.") % {"when": _when(f.next_action_at),
                                                                           "topic": f.topic},
            reverse("activities:followup_detail", args=[f.pk]))
        for f in qs
    ]


def _first_attr(obj, names):
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


def plan_step_reminders(now) -> list[Due]:
    """Overdue development-plan steps, from the sales app when it is there."""
    try:
        from kehu.sales.services import overdue_plan_steps
    except ImportError:
        return []
    out = []
    steps = list(overdue_plan_steps(now))
    if not steps:
        return out
    ct = ContentType.objects.get_for_model(type(steps[0]))
    finished = set(Reminder.objects.filter(
        Q(sent_at__isnull=False) | Q(attempts__gte=MAX_ATTEMPTS), kind=Reminder.Kind.PLAN_STEP_OVERDUE,
        content_type=ct, object_id__in=[s.pk for s in steps]).values_list("object_id", "due_at", "user_id"))
    for step in steps:
        user = _first_attr(step, ("responsible", "owner", "assignee", "user"))
        due = _first_attr(step, ("due_at", "planned_at", "date", "planned_on", "due_on", "planned_date"))
        if user is None or due is None or not getattr(user, "is_active", True):
            continue
        if not isinstance(due, datetime.datetime):
            due = timezone.make_aware(datetime.datetime.combine(due, datetime.time.min))
        if (step.pk, due, user.pk) in finished:
            continue
        opportunity = getattr(step, "opportunity", None)
        action = _first_attr(step, ("action", "title", "name")) or str(step)
        try:
            url = step.get_absolute_url() if hasattr(step, "get_absolute_url") else \
                reverse("sales:opportunity_detail", args=[opportunity.pk]) if opportunity else ""
        except Exception:  # the sales URLs are not there (yet)
            url = ""
        out.append(Due(Reminder.Kind.PLAN_STEP_OVERDUE, step, due, user,
                       _("Plan step overdue: %(action)s") % {"action": action},
                       (_("Opportunity: %(name)s. ") % {"name": opportunity} if opportunity else "")
                       + _("Planned for %(when)s.") % {"when": _when(due)}, url))
    return out


def _customer_line(customer):
    return ("\n" + _("Customer: %(name)s") % {"name": customer}) if customer else ""


def due_reminders(now) -> list[Due]:
    return task_reminders(now) + followup_reminders(now) + plan_step_reminders(now)


def send(due: Due, now=None) -> str:
    """Send one reminder unless it went out already. Returns "sent", "failed" or "skipped"."""
    now = now or timezone.now()
    key = {"kind": due.kind, "content_type": ContentType.objects.get_for_model(type(due.obj)),
           "object_id": due.obj.pk, "due_at": due.due_at, "user": due.user}
    try:
        with transaction.atomic():
            reminder, _created = Reminder.objects.get_or_create(**key)
    except IntegrityError:  # another worker created it at the same moment
        reminder = Reminder.objects.get(**key)
    with transaction.atomic():
        reminder = Reminder.objects.select_for_update().get(pk=reminder.pk)
        if reminder.sent_at is not None or reminder.attempts >= MAX_ATTEMPTS:
            return "skipped"
        if reminder.notified_at is None:
            notify(due.user, due.title, due.body, url=due.url)
            reminder.notified_at = now
        reminder.attempts += 1
        if due.user.email:
            link = settings.KEHU_BASE_URL.rstrip("/") + due.url if due.url else ""
            ok = send_email(due.user.email, due.title, due.body + ("\n\n" + link if link else ""))
        else:
            ok = True  # nothing to send by e-mail; the in-app notice is the reminder
        if ok:
            reminder.sent_at = timezone.now()
            reminder.last_error = ""
        else:
            reminder.last_error = _("Sending the e-mail failed (attempt %(n)d); retried on the next run.") % {
                "n": reminder.attempts}
        reminder.save()
    return "sent" if ok else "failed"


def run_reminders(now=None) -> dict:
    now = now or timezone.now()
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    for due in due_reminders(now):
        try:
            counts[send(due, now)] += 1
        except Exception:  # one broken reminder must not stop the others
            log.exception("reminder %s for %s failed", due.kind, due.obj)
            counts["failed"] += 1
    return counts


# --- tasks -------------------------------------------------------------------------------

def task_message(task: Task, user) -> tuple[str, str]:
    """What the person responsible is told when someone else gives them a task (TaskType's
    assign notification, sent by core's assign service)."""
    return (_("New task from %(user)s: %(title)s") % {"user": user, "title": task.title},
            _("Due %(when)s.") % {"when": _when(task.due_at)} if task.due_at else "")


def complete_task(task: Task, user, note: str = "") -> Task:
    """The task's "complete" transition (kehu/activities/workflows.py), with an optional note."""
    from kehu.core.registry import registry

    return registry.get("task").workflow.take(task, "complete", user, {"completion_note": note or task.completion_note})
