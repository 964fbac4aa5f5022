"""Issue 17: "not followed up for N days" on the customer list, served by cust_idle_idx."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from kehu.core.registry import registry
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer
from kehu.sales.tests.test_speed import plan


@pytest.mark.django_db
def test_not_followed_up_for_n_days(org):
    now = timezone.now()
    quiet = make_customer(org.manager, name="四十天没跟进有限公司")
    recent = make_customer(org.manager, name="昨天刚跟进有限公司")
    Customer.objects.filter(pk=quiet.pk).update(last_activity_at=now - datetime.timedelta(days=40))
    Customer.objects.filter(pk=recent.pk).update(last_activity_at=now - datetime.timedelta(days=1))
    rt = registry.get("customer")
    assert "idle_days" in rt.filterset.base_filters
    client = Client()
    client.force_login(org.manager)
    html = client.get("/customers/?idle_days=30").content.decode()
    assert "四十天没跟进有限公司" in html and "昨天刚跟进有限公司" not in html
    assert not rt.filterset({"idle_days": "0"}, queryset=rt.visible(org.admin), user=org.admin).is_valid()
    fs = rt.filterset({"idle_days": "30"}, queryset=rt.visible(org.admin), user=org.admin)
    assert list(fs.qs) == [quiet]
    # the condition is the partial index's predicate: owner_id IS NOT NULL AND last_activity_at < ?
    qs = Customer.objects.filter(owner__isnull=False, last_activity_at__lt=now).order_by("last_activity_at")
    # cust_idle_idx, or per owner cust_owner_idle_idx: tiny test tables make them equally cheap
    assert "cust_idle_idx" in plan(qs) or "cust_owner_idle_idx" in plan(qs), plan(qs)
    sql = str(fs.qs.query)
    assert '"owner_id" IS NOT NULL' in sql and '"last_activity_at" <' in sql
