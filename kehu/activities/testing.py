"""Test data builders for follow-ups and tasks, shared by every app's tests."""

import datetime

from django.utils import timezone

from .models import FollowUp, Task


def make_followup(customer, owner=None, **extra) -> FollowUp:
    f = FollowUp(customer=customer, owner=owner or customer.owner, created_by=owner or customer.owner,
                 topic=extra.pop("topic", "电话沟通需求"), occurred_at=extra.pop("occurred_at", timezone.now()),
                 **extra)
    f.full_clean()
    f.save()
    return f


def make_task(owner, **extra) -> Task:
    t = Task(title=extra.pop("title", "准备报价单"), owner=owner, created_by=owner,
             due_at=extra.pop("due_at", timezone.now() + datetime.timedelta(days=1)), **extra)
    t.full_clean()
    t.save()
    return t
