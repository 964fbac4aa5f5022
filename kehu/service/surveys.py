"""Tickets are survey subjects (kehu/surveys): when a ticket is handled, its contact is e-mailed a
single-use link to rate the service; the answer is the ticket's satisfaction (and takes a handled
ticket to "feedback given"). The ticket page shows the ticket's surveys. Imported by
registrations.py."""

import logging

from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.template.loader import render_to_string

from kehu.surveys.subjects import register_subject

from .models import Ticket
from .signals import ticket_handled
from .views import ticket_side_panel

log = logging.getLogger(__name__)


def summary(ticket) -> str:
    return f"{ticket.number} {ticket.summary}".strip()  # all the answer page shows


def customer(ticket):
    return ticket.customer


def contact(ticket):
    return ticket.contact


def answered(ticket, rating, comment, survey) -> None:
    from .services import record_satisfaction

    record_satisfaction(ticket, rating, comment, source="survey")


def url(ticket) -> str:
    return f"/tickets/{ticket.pk}/"


register_subject(Ticket, summary=summary, customer=customer, contact=contact, on_answer=answered, url=url)


@receiver(ticket_handled, dispatch_uid="service_ticket_survey")
def _send_survey(sender, ticket, user, **kwargs):
    """A handled ticket asks its contact for a rating, once per handling: a ticket reopened and
    handled again asks again, but not while an earlier survey still waits for an answer."""
    from django.contrib.contenttypes.models import ContentType

    from kehu.surveys.models import Survey
    from kehu.surveys.services import send_survey

    if ticket.contact_id is None:
        return
    waiting = Survey.objects.filter(content_type=ContentType.objects.get_for_model(Ticket), object_id=ticket.pk,
                                    status=Survey.Status.SENT, answered_at__isnull=True)
    if waiting.exists():
        return
    try:
        send_survey(ticket, user)
    except ValidationError as exc:  # the contact has no e-mail address: the ticket is handled anyway
        log.info("no satisfaction survey for ticket %s: %s", ticket.pk, exc.messages)


@ticket_side_panel
def surveys_panel(request, ticket) -> str:
    return render_to_string("surveys/_panel.html", {"subject": ticket}, request=request)
