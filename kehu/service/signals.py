"""The service app's signals and the handlers it connects (imported by apps.py)."""

from django.dispatch import Signal, receiver

from . import timeline  # noqa: F401  (registers the timeline providers)

# sent when a ticket takes the "handle" transition, after its save (ticket=, user=): the
# satisfaction survey sends its e-mail from here (kehu/surveys, at merge)
ticket_handled = Signal()


@receiver(__import__("kehu.orders.aftersales", fromlist=["requested"]).requested,
          dispatch_uid="service_ticket_for_after_sales")
def _after_sales_requested(sender, request, user, **kwargs):
    """An after-sales request on an order line opens a repair ticket linked to it, in the same
    transaction (services.ticket_for_after_sales)."""
    from .services import ticket_for_after_sales

    ticket_for_after_sales(request, user)
