"""Timeline events of the activities app: follow-ups and tasks on the customer page.

Each provider reads at most `limit` rows through an index on (customer, time), so a page of the
timeline costs the same for a customer with 10 or 10,000 events."""

from django.template.defaultfilters import truncatechars
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core import timeline

from .models import FollowUp, Task


@timeline.register("followups", right="followup.view")
def followup_events(customer, user, cursor, limit):
    visible = FollowUp.objects.visible_to(user) if user is not None else FollowUp.objects
    rows = (visible.filter(cursor.older("occurred_at", "followups"), customer=customer)
            .select_related("method", "contact").order_by("-occurred_at", "-id")[:limit])
    events = []
    for f in rows:
        title = f"{f.method}: {f.topic}" if f.method_id else f.topic
        parts = [truncatechars(f.content, 300)] if f.content else []
        if f.contact_id:
            parts.append(_("Contact: %(name)s") % {"name": f.contact.name})
        if f.next_action:
            when = timezone.localtime(f.next_action_at).strftime("%Y-%m-%d %H:%M") if f.next_action_at else ""
            parts.append(_("Next action: %(action)s %(when)s") % {"action": f.next_action, "when": when})
        events.append(timeline.Event(f.occurred_at, "followup", title, body=" · ".join(parts),
                                     url=reverse("activities:followup_detail", args=[f.pk]), actor=f.owner_id,
                                     icon="ti-message-dots", id=f.pk))
    return events


@timeline.register("tasks", right="task.view")
def task_events(customer, user, cursor, limit):
    visible = Task.objects.visible_to(user) if user is not None else Task.objects
    rows = (visible.filter(cursor.older("created_at", "tasks"), customer=customer)
            .order_by("-created_at", "-id")[:limit])
    return [
        timeline.Event(t.created_at, "task", _("Task: %(title)s") % {"title": t.title},
                       body=" · ".join(str(p) for p in (t.get_status_display(), t.get_priority_display(),
                                                         _("due %(when)s") % {"when": timezone.localtime(t.due_at).strftime("%Y-%m-%d %H:%M")}
                                                         if t.due_at else "") if p),
                       url=reverse("activities:task_detail", args=[t.pk]), actor=t.owner_id,
                       icon="ti-checkbox" if t.status == Task.Status.DONE else "ti-square", id=t.pk)
        for t in rows
    ]
