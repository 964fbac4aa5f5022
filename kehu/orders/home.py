"""The orders app's My day panel and reminders (declared in registrations.py)."""

import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.registries import Due

from .models import Order

LATE_KIND = "order_late"
LATE_LOOKBACK_DAYS = 30  # an order late for longer than this when reminders started is not announced


def late_orders(user, limit=30):
    """The user's own orders past their promised date and not delivered, oldest promise first."""
    today = timezone.localdate()
    rows = list(Order.objects.visible_to(user)
                .filter(Order.late_q(today), owner=user)
                .select_related("customer").order_by("promised_date", "id")[:limit])
    for order in rows:
        order.days_late = (today - order.promised_date).days
    return rows


def late_orders_panel(request, ctx):
    ctx["late_orders"] = late_orders(request.user)
    if not ctx["late_orders"]:
        return None  # nothing late: the panel is left out
    return "orders/home_late_orders.html"


def _late_due_at(promised_date):
    """A late order's reminder is due at the start of the day after its promised date (local time)."""
    start = datetime.datetime.combine(promised_date + datetime.timedelta(days=1), datetime.time())
    return timezone.make_aware(start, timezone.get_current_timezone())


def late_order_reminders(now, ledger) -> list[Due]:
    """Each order whose promised date passed without delivery reminds its owner once."""
    today = timezone.localdate(now)
    rows = list(Order.objects.filter(Order.late_q(today),
                                     promised_date__gte=today - datetime.timedelta(days=LATE_LOOKBACK_DAYS),
                                     owner__isnull=False, owner__is_active=True)
                .select_related("owner", "customer").order_by("promised_date", "id"))
    sent = ledger.sent_keys(LATE_KIND, Order, [o.pk for o in rows])
    out = []
    for order in rows:
        due_at = _late_due_at(order.promised_date)
        if (order.pk, due_at, order.owner_id) in sent:
            continue
        out.append(Due(LATE_KIND, order, due_at, order.owner,
                       _("Order late: %(order)s") % {"order": order},
                       _("Delivery was promised for %(date)s; the order is still “%(state)s”.") % {
                           "date": order.promised_date.isoformat(), "state": order.get_status_display()}
                       + "\n" + _("Customer: %(name)s") % {"name": order.customer},
                       reverse("orders:order_detail", args=[order.pk])))
    return out
