"""Payments and refunds on the customer's timeline (invoices' status changes come from the
workflows' transition log). Imported by registrations_fin.py."""

from django.urls import reverse
from django.utils.translation import gettext as _

from kehu.core import timeline
from kehu.core.money import format_money

from .models import Payment


@timeline.register("payments", right="payment.view")
def payment_events(customer, user, cursor, limit):
    rows = (Payment.objects.visible_to(user).filter(customer=customer)
            .filter(cursor.older("created_at", "payments")).select_related("order", "contract")
            .order_by("-created_at", "-id")[:limit])
    events = []
    for p in rows:
        doc = p.order or p.contract
        refund = p.kind == Payment.Kind.REFUND
        title = (_("Refund %(amount)s for %(doc)s") if refund else _("Payment of %(amount)s received for %(doc)s")) % {
            "amount": format_money(abs(p.amount)), "doc": doc.number if doc else ""}
        body = " · ".join(x for x in (p.received_on.isoformat(), p.reference, p.notes) if x)
        events.append(timeline.Event(p.created_at, "payment", title, body=body,
                                     url=reverse("orders:payment_detail", args=[p.pk]), actor=p.created_by_id,
                                     icon="ti-receipt-refund" if refund else "ti-cash", id=p.pk, source="payments"))
    return events
