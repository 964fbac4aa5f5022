"""Tickets and feedback on the customer's timeline (their status changes come from the workflows'
transition log: kehu/core/workflow.py)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from kehu.core import timeline

from .models import Feedback, Ticket


@timeline.register("tickets", right="ticket.view")
def ticket_events(customer, user, cursor, limit):
    rows = (Ticket.objects.visible_to(user).filter(customer=customer).filter(cursor.older("created_at", "tickets"))
            .order_by("-created_at", "-id")[:limit])
    return [timeline.Event(t.created_at, "ticket", _("Ticket %(number)s created") % {"number": t.number},
                           body=t.summary, url=reverse("service:ticket_detail", args=[t.pk]), actor=t.created_by_id,
                           icon="ti-lifebuoy", id=t.pk, source="tickets") for t in rows]


@timeline.register("ticket_ratings", right="ticket.view")
def rating_events(customer, user, cursor, limit):
    rows = (Ticket.objects.visible_to(user).filter(customer=customer, satisfaction_at__isnull=False)
            .filter(cursor.older("satisfaction_at", "ticket_ratings")).order_by("-satisfaction_at", "-id")[:limit])
    return [timeline.Event(t.satisfaction_at, "rating", _("Ticket %(number)s rated %(n)s of 5") % {
        "number": t.number, "n": t.satisfaction}, body=t.satisfaction_comment,
        url=reverse("service:ticket_detail", args=[t.pk]), icon="ti-star", id=t.pk, source="ticket_ratings")
        for t in rows]


@timeline.register("feedback", right="feedback.view")
def feedback_events(customer, user, cursor, limit):
    rows = (Feedback.objects.visible_to(user).filter(customer=customer).filter(cursor.older("created_at", "feedback"))
            .order_by("-created_at", "-id")[:limit])
    return [timeline.Event(f.created_at, "feedback", _("%(kind)s received") % {"kind": f.get_kind_display()},
                           body=f.content[:300], url=reverse("service:feedback_detail", args=[f.pk]),
                           actor=f.created_by_id, icon="ti-message-report", id=f.pk, source="feedback") for f in rows]
