"""Who the change log names (kehu/core/audit.py: ActorMiddleware, actor_context, fill_log_entry): the
request's user, address and port, a job's user, and django-auditlog's own `set_actor`, without a
signal receiver connected per request."""

import json

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models.signals import pre_save
from django.test import Client

from kehu.core.assignment import acting_as
from kehu.core.testing.factories import auth
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer

pytestmark = pytest.mark.django_db


def _entries(customer):
    ct = ContentType.objects.get_for_model(Customer)
    return LogEntry.objects.filter(content_type=ct, object_id=customer.pk).order_by("id")


def test_an_api_edit_names_the_tokens_user_and_address_without_wiring_a_receiver(org, monkeypatch):
    wired = []
    monkeypatch.setattr(pre_save, "connect", lambda *a, **k: wired.append(("connect", a, k)))
    monkeypatch.setattr(pre_save, "disconnect", lambda *a, **k: wired.append(("disconnect", a, k)))
    customer = make_customer(org.manager, "远航科技有限公司")
    client = Client(REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_PORT="4431",
                    HTTP_X_CORRELATION_ID="trace-42", **auth(org.manager))
    before = len(pre_save.receivers)
    response = client.patch(f"/api/v1/customers/{customer.pk}", json.dumps({"notes": "新备注"}),
                            content_type="application/json")
    assert response.status_code == 200, response.content
    assert len(pre_save.receivers) == before and wired == []  # nothing connected or disconnected
    entry = _entries(customer).last()
    assert entry.changes_dict == {"notes": ["", "新备注"]}
    assert (entry.actor_id, entry.actor_email) == (org.manager.pk, org.manager.email)
    assert (entry.remote_addr, entry.remote_port) == ("10.1.2.3", 4431)
    assert entry.cid == "trace-42"  # the caller's correlation id, as django-auditlog's middleware kept it


def test_a_form_save_names_the_logged_in_user(org):
    customer = make_customer(org.manager, "远航科技有限公司")
    client = Client(REMOTE_ADDR="10.9.8.7")
    client.force_login(org.manager)
    response = client.get(f"/customers/{customer.pk}/edit/")
    assert response.status_code == 200
    form = response.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update({"name": customer.name, "status": customer.status, "notes": "表单备注", "version": customer.version,
                 "owner": org.manager.pk})
    response = client.post(f"/customers/{customer.pk}/edit/", data)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    entry = _entries(customer).last()
    assert entry.changes_dict["notes"] == ["", "表单备注"]
    assert entry.actor_id == org.manager.pk and entry.remote_addr == "10.9.8.7"


def test_a_job_names_the_user_it_acts_as_and_restores_the_outer_actor(org):
    customer = make_customer(org.manager, "远航科技有限公司")
    with acting_as(org.supervisor):
        customer.notes = "主管"
        customer.save()
        with acting_as(org.manager2):
            customer.notes = "销售"
            customer.save()
        customer.notes = "主管又改"
        customer.save()
    customer.notes = "无人"
    customer.save()
    actors = [e.actor_id for e in _entries(customer).filter(action=LogEntry.Action.UPDATE)]
    assert actors == [org.supervisor.pk, org.manager2.pk, org.supervisor.pk, None]


def test_django_auditlogs_own_set_actor_still_names_its_actor(org):
    customer = make_customer(org.manager, "远航科技有限公司")
    with set_actor(org.manager2):
        customer.notes = "外部"
        customer.save()
    assert _entries(customer).last().actor_id == org.manager2.pk


def test_acting_as_after_django_auditlogs_set_actor_block_still_names_the_actor(org):
    """django-auditlog's set_actor leaves its context set after its block (its receiver gone):
    acting as the same user afterwards must not take that stale context for a live one."""
    customer = make_customer(org.manager, "远航科技有限公司")
    with set_actor(org.admin):
        pass
    with acting_as(org.admin):
        customer.notes = "合并后"
        customer.save()
    assert _entries(customer).last().actor_id == org.admin.pk
