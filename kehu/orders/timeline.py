"""Quotations, orders and shipments on the customer's timeline (their status changes come from the
workflows' transition log: kehu/core/workflow.py)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from kehu.core import timeline
from kehu.core.money import format_money

from .models import Order, Quotation, Shipment


@timeline.register("orders", right="order.view")
def order_events(customer, user, cursor, limit):
    events = []
    orders = (Order.objects.visible_to(user).filter(customer=customer).filter(cursor.older("created_at", "orders"))
              .order_by("-created_at", "-id")[:limit])
    for o in orders:
        events.append(timeline.Event(o.created_at, "order", _("Order %(number)s created") % {"number": o.number},
                                     body=" · ".join(x for x in (o.title, format_money(o.total)) if x),
                                     url=reverse("orders:order_detail", args=[o.pk]), actor=o.created_by_id,
                                     icon="ti-shopping-cart", id=o.pk, source="orders"))
    shipments = (Shipment.objects.filter(order__in=Order.objects.visible_to(user).filter(customer=customer)
                                         .values("pk"))
                 .filter(cursor.older("shipped_at", "shipments")).select_related("order", "warehouse")
                 .prefetch_related("lines__order_line__product").order_by("-shipped_at", "-id")[:limit])
    for s in shipments:
        body = ", ".join(f"{sl.order_line.label} × {sl.quantity.normalize():f}" for sl in s.lines.all())
        events.append(timeline.Event(s.shipped_at, "shipment", _("Shipment of order %(number)s") % {
            "number": s.order.number}, body=body, url=reverse("orders:order_detail", args=[s.order_id]),
            actor=s.created_by_id, icon="ti-truck", id=s.pk, source="shipments"))
    return events


@timeline.register("quotations", right="quotation.view")
def quotation_events(customer, user, cursor, limit):
    rows = (Quotation.objects.visible_to(user).filter(customer=customer)
            .filter(cursor.older("created_at", "quotations"))
            .order_by("-created_at", "-id")[:limit])
    return [timeline.Event(q.created_at, "quotation", _("Quotation %(number)s created") % {"number": q.number},
                           body=" · ".join(x for x in (q.title, format_money(q.total)) if x),
                           url=reverse("orders:quotation_detail", args=[q.pk]), actor=q.created_by_id,
                           icon="ti-file-dollar", id=q.pk, source="quotations") for q in rows]
