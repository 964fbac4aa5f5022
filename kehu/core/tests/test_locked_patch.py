"""A PATCH reads its record once, under the row's lock (kehu/core/api.py `visible_or_none(lock=True)`,
`KehuModel.remember_locked_row`): the change log, the customer's duplicate rule and its search text
compare with that read instead of reading the row again, and the answer's read is also the check
that the record stayed inside the writer's data scope (`saved_and_shown`)."""

import json

import pytest
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kehu.core.models import CustomField
from kehu.core.testing.factories import auth
from kehu.customers.models import Contact, Customer
from kehu.customers.testing import make_contact, make_customer

pytestmark = pytest.mark.django_db


def _patch(client, customer, body):
    return client.patch(f"/api/v1/customers/{customer.pk}", json.dumps(body), content_type="application/json")


def _last_update(customer):
    ct = ContentType.objects.get_for_model(Customer)
    return LogEntry.objects.filter(content_type=ct, object_id=customer.pk, action=LogEntry.Action.UPDATE) \
        .order_by("-id").first()


def test_a_notes_patch_reads_the_customer_once_before_its_update_and_once_to_answer(org):
    customer = make_customer(org.manager, "远航科技有限公司", phone="13812345678")
    make_contact(customer, "王芳", mobile="13900001111")
    customer.set_tags(["重点", "华东"])
    customer.refresh_from_db()
    text = customer.search_text
    client = Client(**auth(org.manager))
    assert client.get(f"/api/v1/customers/{customer.pk}").status_code == 200  # the token, read once
    with CaptureQueriesContext(connection) as queries:
        response = _patch(client, customer, {"notes": "新备注"})
    assert response.status_code == 200, response.content
    assert response.json()["notes"] == "新备注"
    sql = [q["sql"] for q in queries.captured_queries]
    update = next(i for i, s in enumerate(sql) if s.startswith('UPDATE "customers_customer"'))
    reads_before = [s for s in sql[:update] if s.startswith("SELECT") and 'FROM "customers_customer"' in s]
    assert len(reads_before) == 1, reads_before  # no second read for the change log or the duplicate rule
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in reads_before[0]
        # its tag names (which its form shows) come in that read, not in a query of their own
        assert "tag_names" in reads_before[0]
        assert not [s for s in sql if s.startswith('SELECT "core_taggeditem"')], sql
    assert not [s for s in sql[:update] if 'FROM "customers_contact"' in s]  # the search text is kept
    reads_after = [s for s in sql[update + 1:] if 'FROM "customers_customer"' in s]
    assert len(reads_after) == 1, reads_after  # the answer's read is the scope check
    customer.refresh_from_db()
    assert customer.notes == "新备注" and customer.search_text == text and customer.version == 2
    assert sorted(response.json()["tags"]) == ["华东", "重点"] == sorted(t.name for t in customer.tags)
    assert _last_update(customer).changes_dict == {"notes": ["", "新备注"]}


def test_what_a_patch_changes_is_logged_checked_and_searched_as_before(org):
    CustomField.objects.create(record_type="customers.customer", name="erp", label="ERP编码", required=False)
    make_customer(org.manager2, "北京华为技术有限公司")
    customer = make_customer(org.manager, "远航科技有限公司", custom_fields={"erp": "E-1"})
    make_contact(customer, "王芳", mobile="13900001111")
    client = Client(**auth(org.manager))

    before = Customer.all_objects.get(pk=customer.pk)
    response = _patch(client, customer, {"name": "远航智能科技有限公司", "custom_fields": {"erp": "E-2"}})
    assert response.status_code == 200, response.content
    after = Customer.all_objects.get(pk=customer.pk)
    changes = _last_update(customer).changes_dict
    assert set(changes) == {"name", "custom_fields"}  # not the name's derived key
    diff = model_instance_diff(before, after, use_json_for_changes=True)
    assert changes == {k: list(v) for k, v in diff.items() if k in changes}
    assert changes["custom_fields"] == [{"erp": "E-1"}, {"erp": "E-2"}]
    # the name's words are searchable, the contact's still are
    assert " 智能 " in after.search_text and "王芳" in after.search_text and "13900001111" in after.search_text

    # a name like another customer's runs the duplicate rule, against the stored name
    response = _patch(client, customer, {"name": "华为技术（北京）有限公司"})
    assert response.status_code == 422, response.content
    assert Customer.all_objects.get(pk=customer.pk).name == "远航智能科技有限公司"


def test_a_patch_that_ends_outside_the_writers_scope_is_refused_and_rolled_back(org, monkeypatch):
    from kehu.core.registry import registry

    rt = registry.get("contact")
    real = type(rt).visible
    monkeypatch.setattr(type(rt), "visible", lambda self, user, owned=False: real(self, user).exclude(name="看不见的人"))
    contact = make_contact(make_customer(org.manager), "看得见的人")
    response = Client(**auth(org.manager)).patch(f"/api/v1/contacts/{contact.pk}", json.dumps({"name": "看不见的人"}),
                                                 content_type="application/json")
    assert response.status_code == 422, response.content
    assert "customer" in response.json()["errors"]
    contact = Contact.all_objects.get(pk=contact.pk)
    assert contact.name == "看得见的人" and contact.version == 1
