"""Cross-app behaviour: merging customers moves their follow-ups, tasks and opportunities; a
follow-up restarts the public-pool clock; an open opportunity keeps a customer out of the pool."""

import datetime

from django.utils import timezone

from kehu.activities.testing import make_followup, make_task
from kehu.customers import services
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer
from kehu.sales.models import Opportunity, Stage


def test_merge_moves_followups_tasks_and_opportunities(org):
    keep = make_customer(org.manager, name="合并保留有限公司")
    other = make_customer(org.manager, name="合并删除有限公司")
    followup = make_followup(other, org.manager)
    task = make_task(org.manager, customer=other)
    opp = Opportunity.objects.create(title="并入的机会", customer=other, owner=org.manager,
                                     stage=Stage.objects.filter(is_won=False, is_lost=False).first())
    services.merge_customers(keep, other, org.supervisor)
    for obj in (followup, task, opp):
        obj.refresh_from_db()
        assert obj.customer_id == keep.pk


def test_followup_restarts_the_pool_clock_and_open_opportunity_keeps_the_customer(org, settings):
    settings.KEHU_POOL_IDLE_DAYS, settings.KEHU_POOL_WARN_DAYS = 30, 3
    now = timezone.now()
    quiet = make_customer(org.manager, name="许久未联系有限公司")
    busy = make_customer(org.manager, name="有在谈机会有限公司")
    old = now - datetime.timedelta(days=40)
    Customer.objects.filter(pk__in=[quiet.pk, busy.pk]).update(last_activity_at=old)
    Opportunity.objects.create(title="在谈", customer=busy, owner=org.manager,
                               stage=Stage.objects.filter(is_won=False, is_lost=False).first())
    make_followup(quiet, org.manager)  # occurred now: the clock restarts
    quiet.refresh_from_db()
    assert quiet.last_activity_at > old
    assert services.pool_sweep(now)["returned"] == 0
    busy.refresh_from_db()
    assert busy.owner == org.manager
