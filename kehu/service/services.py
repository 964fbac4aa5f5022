"""The rules of service tickets and feedback, in one place: assignment, handling entries, the
workflow's effects, satisfaction, escalation of a complaint, after-sales tickets and the SLA job.
The UI, the API, the jobs and the tests call these."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.assignment import acting_as
from kehu.core.services import notify

from . import sla
from .models import OPEN_STATES, Feedback, HandlingEntry, Ticket


def ticket_text(ticket) -> str:
    """What the ticket is about, for a knowledge-base search: its summary and request."""
    return "\n".join(x for x in (ticket.summary, ticket.request) if x and x.strip())


def ticket_url(ticket) -> str:
    return reverse("service:ticket_detail", args=[ticket.pk])


def may_handle(ticket, user) -> bool:
    """The handler works on the ticket; so may those who assign tickets (a supervisor)."""
    if user is None:
        return True
    if not user.has_right("ticket", "edit"):
        return False
    return ticket.handler_id == user.pk or user.has_right("ticket", "assign")


# --- workflow effects (records.TicketWorkflow) -------------------------------------------------
def assign_refusal(ticket, user):
    return None


def assigned(ticket, user, ctx) -> None:
    handler = ticket.handler
    if handler is None or not handler.is_active:
        raise ValidationError({"handler": _("Choose an active user.")})
    if not handler.has_right("ticket", "edit"):
        raise ValidationError({"handler": _("%(user)s cannot handle tickets (no right to edit tickets).") % {
            "user": handler}})
    ticket.assigned_at = timezone.now()
    ticket.assigned_by = user if user is not None and user.is_authenticated else None
    ctx.log["handler"] = handler.pk


def notify_handler(ticket, user, ctx) -> None:
    """The handler is told in the app and by e-mail (core's notify and outbox)."""
    if ticket.handler_id and ticket.handler_id != getattr(user, "pk", None):
        due = timezone.localtime(ticket.resolution_due).strftime("%Y-%m-%d %H:%M") if ticket.resolution_due else ""
        notify(ticket.handler, _("Ticket assigned to you: %(ticket)s") % {"ticket": ticket},
               _("Customer: %(customer)s. Priority: %(priority)s. Resolution due %(due)s.") % {
                   "customer": ticket.customer, "priority": ticket.get_priority_display(), "due": due},
               url=ticket_url(ticket), email=True)


def handle_refusal(ticket, user):
    if user is not None and not may_handle(ticket, user):
        return _("Only the ticket's handler or a supervisor can record its handling.")
    return None


def handled(ticket, user, ctx) -> None:
    now = timezone.now()
    ticket.resolved_at = now
    if ticket.responded_at is None:
        ticket.responded_at = now
    sla.evaluate(ticket, now)


def after_handled(ticket, user, ctx) -> None:
    from .signals import ticket_handled

    ticket_handled.send(sender=Ticket, ticket=ticket, user=user)


def reopened(ticket, user, ctx) -> None:
    ticket.resolved_at = None
    sla.evaluate(ticket, timezone.now())


def archived(ticket, user, ctx) -> None:
    ticket.archived_at = timezone.now()


def feedback_given(ticket, user, ctx) -> None:
    if ticket.satisfaction is not None and not 1 <= ticket.satisfaction <= 5:
        raise ValidationError({"satisfaction": _("Rate from 1 to 5.")})
    if ticket.satisfaction_at is None:
        ticket.satisfaction_at = timezone.now()
        ticket.satisfaction_source = ticket.satisfaction_source or "staff"


# --- handling entries ---------------------------------------------------------------------------
def add_handling(ticket, user, *, description: str, minutes=0) -> HandlingEntry:
    """A handling entry on an open ticket (new or assigned); the first one is the first response."""
    if user is not None and not may_handle(ticket, user):
        raise PermissionDenied(_("Only the ticket's handler or a supervisor can record its handling."))
    description = (description or "").strip()
    errors = {}
    if not description:
        errors["description"] = _("Say what was done.")
    try:
        minutes = int(minutes or 0)
        if not 0 <= minutes <= 24 * 60:
            raise ValueError
    except (TypeError, ValueError):
        errors["minutes"] = _("Enter the minutes spent, from 0 to 1440.")
    if errors:
        raise ValidationError(errors)
    with acting_as(user), transaction.atomic():
        locked = Ticket.all_objects.select_for_update().get(pk=ticket.pk)
        if locked.status not in OPEN_STATES:
            raise ValidationError({"status": _("The ticket is “%(state)s”: reopen it to record more handling.") % {
                "state": locked.get_status_display()}})
        entry = HandlingEntry.objects.create(ticket=locked, description=description[:4000], minutes=minutes, by=user)
        if locked.responded_at is None:
            locked.responded_at = entry.at
            sla.evaluate(locked, entry.at)
            # only these columns: no version bump, no clash with an edit of the ticket
            Ticket.all_objects.filter(pk=locked.pk).update(
                responded_at=locked.responded_at, response_breached=locked.response_breached,
                resolution_breached=locked.resolution_breached, breached=locked.breached)
        ticket.responded_at = locked.responded_at
        return entry


# --- satisfaction (called by the surveys app) ----------------------------------------------------
def record_satisfaction(ticket, rating, comment: str = "", source: str = "survey") -> Ticket:
    """Set the customer's rating (1-5) on the ticket; a handled ticket moves to feedback given.
    Idempotent: once a rating came through `source`, a repeated call changes nothing."""
    from kehu.core.registry import registry

    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ValidationError({"satisfaction": _("Rate from 1 to 5.")})
    comment = (comment or "").strip()[:2000]
    with transaction.atomic():
        locked = Ticket.all_objects.select_for_update().get(pk=ticket.pk)
        if locked.satisfaction_at is not None and locked.satisfaction_source == source:
            return locked
        now = timezone.now()
        Ticket.all_objects.filter(pk=locked.pk).update(
            satisfaction=rating, satisfaction_comment=comment, satisfaction_at=now, satisfaction_source=source)
        locked.refresh_from_db()
        if locked.status == Ticket.Status.HANDLED:
            result = locked.result or _("The customer rated the service %(n)s of 5.") % {"n": rating}
            locked = registry.get("ticket").workflow.take(locked, "feedback", None, {
                "result": result, "satisfaction": rating, "comment": comment})
        return locked


# --- complaints become tickets -------------------------------------------------------------------
CHANNEL_OF_SOURCE = {"survey": "survey", "hotline": "phone", "social": "web", "email": "email", "visit": "visit"}


def escalate_refusal(feedback, user):
    if feedback.kind != Feedback.Kind.COMPLAINT:
        return _("Only a complaint can be escalated into a ticket.")
    if feedback.ticket_id:
        return _("This complaint was escalated already: ticket %(number)s.") % {"number": feedback.ticket.number}
    return None


def escalate(feedback, user, data=None) -> Ticket:
    """The complaint as a new ticket (type complaint), linked both ways; the complaint is in progress."""
    from kehu.core.models import DictItem
    from kehu.core.registry import registry

    reason = escalate_refusal(feedback, user)
    if reason:
        raise ValidationError({"ticket": reason})
    first = feedback.content.strip().splitlines()[0] if feedback.content.strip() else str(feedback)
    data = data or {}
    with acting_as(user), transaction.atomic():
        ticket = Ticket(type=DictItem.objects.filter(kind="ticket_type", code="complaint").first(),
                        channel=CHANNEL_OF_SOURCE.get(feedback.source, "phone"),
                        priority=data.get("priority") or "high", customer_id=feedback.customer_id,
                        contact_id=feedback.contact_id, summary=first[:200], request=feedback.content,
                        owner=user, created_by=user, updated_by=user)
        ticket.full_clean()
        ticket.save()
        Feedback.all_objects.filter(pk=feedback.pk).update(ticket=ticket)
        feedback.ticket = ticket
        if feedback.status == Feedback.Status.OPEN:
            registry.get("feedback").workflow.take(feedback, "start", None, {
                "comment": _("Escalated into ticket %(number)s.") % {"number": ticket.number}})
        return ticket


# --- after-sales -----------------------------------------------------------------------------------
def ticket_for_after_sales(request, user) -> Ticket:
    """A repair ticket for an after-sales request (return, exchange or repair), linked to its order
    line and to the request; made by the request's author, in the request's transaction."""
    from kehu.core.models import DictItem

    line = request.order_line
    order = line.order
    existing = Ticket.all_objects.filter(after_sales=request).first()
    if existing is not None:
        return existing
    ticket = Ticket(type=DictItem.objects.filter(kind="ticket_type", code="repair").first(), channel="phone",
                    priority="normal", customer_id=order.customer_id, contact_id=order.contact_id, order_line=line,
                    after_sales=request,
                    summary=(_("After-sales: %(kind)s of %(line)s") % {"kind": request.get_kind_display(),
                                                                      "line": line.label})[:200],
                    request=_("Order %(number)s, quantity %(qty)s: %(reason)s") % {
                        "number": order.number, "qty": f"{request.quantity.normalize():f}", "reason": request.reason},
                    owner=user, created_by=user, updated_by=user)
    ticket.save()
    return ticket


def complete_after_sales_refusal(ticket, user):
    if ticket.after_sales_id is None:
        return _("This ticket has no after-sales request.")
    if ticket.after_sales.status != "requested":
        return _("The after-sales request is “%(state)s” already.") % {"state": ticket.after_sales.get_status_display()}
    return None


def complete_after_sales(ticket, user, data=None) -> Ticket:
    """Complete the ticket's after-sales request through orders (stock back, refund, replacement)."""
    from kehu.orders import aftersales

    reason = complete_after_sales_refusal(ticket, user)
    if reason:
        raise ValidationError({"after_sales": reason})
    aftersales.complete(ticket.after_sales, user)
    return ticket
