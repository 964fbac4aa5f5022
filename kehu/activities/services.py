"""Reminders: which are due, and sending each exactly once (in-app and by e-mail).

`run_reminders(now)` is idempotent: every reminder is a `Reminder` row keyed on
(kind, object, due time, user). A row with `sent_at` is never sent again, also after a restart;
a failed e-mail leaves `sent_at` empty and is retried on the next run (up to MAX_ATTEMPTS).
The in-app notification is created once, on the first attempt.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kehu.core import registries
from kehu.core.registries import Due
from kehu.core.services import notify, send_email

from .models import FollowUp, Reminder, Task

log = logging.getLogger(__name__)

MAX_ATTEMPTS = getattr(settings, "KEHU_REMINDER_MAX_ATTEMPTS", 20)
# a task still open this long after its due time gets the (single) overdue reminder
OVERDUE_AFTER = datetime.timedelta(hours=getattr(settings, "KEHU_TASK_OVERDUE_HOURS", 24))
# reminders older than this are not sent any more (a worker that was down for a month)
LOOKBACK = datetime.timedelta(days=getattr(settings, "KEHU_REMINDER_LOOKBACK_DAYS", 7))


def _when(value) -> str:
    return formats.date_format(timezone.localtime(value), "Y-m-d H:i") if value else ""


def _finished(kind, model, user_field, due_field):
    """Exists(): this object's reminder was sent (or given up on) already."""
    return Exists(Reminder.objects.filter(
        Q(sent_at__isnull=False) | Q(attempts__gte=MAX_ATTEMPTS),
        kind=kind, content_type=ContentType.objects.get_for_model(model), object_id=OuterRef("pk"),
        due_at=OuterRef(due_field), user=OuterRef(user_field),
    ))


def task_reminders(now, ledger=None) -> list[Due]:
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


def followup_reminders(now, ledger=None) -> list[Due]:
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


def _customer_line(customer):
    return ("\n" + _("Customer: %(name)s") % {"name": customer}) if customer else ""


class Ledger:
    """What a reminder kind's producer asks about reminders already sent (or given up on), so it
    leaves them out in its query: `exclude_sent(kind, model, user_field, due_field)` is an
    Exists() for `.exclude()`, `sent_keys(kind, model, ids)` the (object id, due, user id) set."""

    @staticmethod
    def exclude_sent(kind, model, user_field, due_field):
        return _finished(kind, model, user_field, due_field)

    @staticmethod
    def sent_keys(kind, model, ids) -> set:
        return set(Reminder.objects.filter(
            Q(sent_at__isnull=False) | Q(attempts__gte=MAX_ATTEMPTS), kind=kind,
            content_type=ContentType.objects.get_for_model(model), object_id__in=ids,
        ).values_list("object_id", "due_at", "user_id"))


def due_reminders(now) -> list[Due]:
    """The reminders due now of every declared reminder kind (kehu.core.registries.reminder_kind)."""
    out = []
    for kind in sorted(registries.reminder_kinds.values(), key=lambda k: k.order):
        out += kind.produce(now, Ledger)
    return out


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
