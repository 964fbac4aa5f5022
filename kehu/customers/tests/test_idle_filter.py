"""Issue 17: "not followed up for N days" on the customer list, served by cust_activity_idx and read
in the order of last activity (walk_sort)."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from kehu.core.filters import walk_sort
from kehu.core.registry import registry
from kehu.core.testing.factories import token_for
from kehu.core.testing.plans import plan
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer


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
    assert fs.owned_only()  # owned customers only: the scope drops its public-pool branch
    qs = Customer.objects.filter(owner__isnull=False, last_activity_at__lt=now).order_by("-last_activity_at", "-id")
    # cust_activity_idx, or per owner cust_owner_activity_idx: tiny test tables make them equally cheap
    assert "cust_activity_idx" in plan(qs) or "cust_owner_activity_idx" in plan(qs), plan(qs)
    # the list is read from the most recently active of the idle customers down
    assert walk_sort(rt, None, {"idle_days": "30"}) == "-last_activity_at"
    older = make_customer(org.manager, name="九十天没跟进有限公司")
    Customer.objects.filter(pk=older.pk).update(last_activity_at=now - datetime.timedelta(days=90))
    rows = client.get("/api/v1/customers/?idle_days=30", HTTP_AUTHORIZATION=f"Bearer {token_for(org.manager)}").json()
    assert [r["name"] for r in rows["results"]] == ["四十天没跟进有限公司", "九十天没跟进有限公司"]
    sql = str(fs.qs.query)
    assert '"owner_id" IS NOT NULL' in sql and '"last_activity_at" <' in sql
