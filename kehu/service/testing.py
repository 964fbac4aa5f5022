"""Test data builders for tickets and feedback, shared by every app's tests."""

import itertools

from kehu.core.models import DictItem
from kehu.customers.testing import make_customer

from .models import Feedback, Ticket

_seq = itertools.count(1)


def ticket_type(code="consultation"):
    return DictItem.objects.get(kind="ticket_type", code=code)


def make_ticket(owner, *, status=None, handler=None, **extra) -> Ticket:
    """A new ticket for a new customer of `owner` (unless one is given); `status` (and `handler`)
    written directly."""
    n = next(_seq)
    if "customer" not in extra:
        extra["customer"] = make_customer(owner)
    values = {"summary": f"打印机无法连接{n}", "request": "客户反映打印机无法连接网络", "type": ticket_type(),
              **extra}
    ticket = Ticket(owner=owner, created_by=owner, handler=handler, **values)
    ticket.full_clean()
    ticket.save()
    if status is not None:
        Ticket.all_objects.filter(pk=ticket.pk).update(status=status)
        ticket.refresh_from_db()
    return ticket


def make_feedback(owner, *, kind="complaint", **extra) -> Feedback:
    if "customer" not in extra:
        extra["customer"] = make_customer(owner)
    fb = Feedback(owner=owner, created_by=owner, kind=kind, content=extra.pop("content", "安装人员迟到两个小时，态度也不好"),
                  **extra)
    fb.full_clean()
    fb.save()
    return fb
