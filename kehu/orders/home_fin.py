"""Overdue receivables: the My day panel (the user's visible orders not paid by their next
instalment's date) and the reminder to an order's owner when an instalment's date passed
(declared in registrations_fin.py; sent once by kehu.activities.services.run_reminders)."""

import datetime

from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.money import format_money
from kehu.core.registries import Due

from .models import Instalment, Order, PaymentState

INSTALMENT_OVERDUE = "instalment_overdue"


def overdue_orders(queryset=None, today=None):
    """Orders past their next payment's due date and not paid (nor cancelled), of `queryset`
    (all orders by default)."""
    today = today or timezone.localdate()
    queryset = Order.objects.all() if queryset is None else queryset
    return (queryset.filter(payment_due_on__lt=today).exclude(payment_state=PaymentState.PAID)
            .exclude(status=Order.Status.CANCELLED))


def overdue_panel(request, ctx):
    # The conditions go on the scoped queryset itself: the scope as an `id IN (...)` subquery
    # made SQLite build the list of every visible order first (1.2 s for an administrator at
    # 2M orders); together they walk the due-date index (4 ms).
    rows = list(overdue_orders(Order.objects.visible_to(request.user))
                .select_related("customer").order_by("payment_due_on", "id")[:30])
    ctx["overdue_orders"] = rows
    return "orders/home_overdue.html"


def instalment_reminders(now, ledger) -> list[Due]:
    """One reminder per overdue instalment (its date passed, the payments do not cover it) to the
    order's owner. `reminded_on` marks the instalments whose reminder went out, so the query
    stays small; the reminder ledger makes each go out once."""
    today = timezone.localdate(now)
    rows = list(Instalment.objects.filter(order__isnull=False, reminded_on__isnull=True, due_on__lt=today,
                                          due_on__gte=F("order__payment_due_on"))
                .filter(Q(order__deleted_at__isnull=True), order__owner__isnull=False, order__owner__is_active=True)
                .exclude(order__payment_state=PaymentState.PAID).exclude(order__status=Order.Status.CANCELLED)
                .select_related("order__owner", "order__customer").order_by("due_on", "id")[:500])
    if not rows:
        return []
    sent = ledger.sent_keys(INSTALMENT_OVERDUE, Instalment, [i.pk for i in rows])
    out, done = [], []
    for inst in rows:
        order, user = inst.order, inst.order.owner
        due = timezone.make_aware(datetime.datetime.combine(inst.due_on, datetime.time.min))
        if (inst.pk, due, user.pk) in sent:
            done.append(inst.pk)
            continue
        out.append(Due(INSTALMENT_OVERDUE, inst, due, user,
                       _("Payment overdue: %(order)s") % {"order": order.number},
                       _("The instalment of %(amount)s due %(date)s is not paid. Customer: %(customer)s.") % {
                           "amount": format_money(inst.amount), "date": inst.due_on.isoformat(),
                           "customer": order.customer},
                       reverse("orders:order_detail", args=[order.pk])))
    if done:
        Instalment.objects.filter(pk__in=done).update(reminded_on=today)
    return out
