from django.core.management import call_command

from kehu.service.models import Feedback, Ticket


def test_the_demo_has_tickets_in_every_state_and_feedback_loaded_once(db):
    call_command("demo", customers=60)
    tickets = Ticket.objects.count()
    assert tickets >= 10
    states = set(Ticket.objects.values_list("status", flat=True))
    assert {"new", "assigned", "handled", "feedback", "archived"} <= states
    assert Ticket.objects.filter(breached=True).exists()
    assert Ticket.objects.filter(status="new").exists()
    assert Feedback.objects.filter(kind="complaint", ticket__isnull=False).exists()
    assert set(Feedback.objects.values_list("kind", flat=True)) == {"complaint", "suggestion", "praise"}
    call_command("demo", customers=60)
    assert Ticket.objects.count() == tickets
