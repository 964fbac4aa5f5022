"""The change log's update receiver (kehu/core/audit.py: log_changed_fields): django-auditlog's own
diff, given only the fields whose values differ, so that an edit of one field reads no related rows."""

import copy
import json
from decimal import Decimal

import pytest
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kehu.core.audit import _same
from kehu.core.models import DictItem
from kehu.core.testing.factories import auth
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer


def _updates(customer):
    ct = ContentType.objects.get_for_model(Customer)
    return list(LogEntry.objects.filter(content_type=ct, object_id=customer.pk, action=LogEntry.Action.UPDATE)
                .order_by("id"))


def _auditlog_diff(before, after):
    """What django-auditlog's receiver wrote before: its diff over every field."""
    return {k: list(v) for k, v in model_instance_diff(before, after, use_json_for_changes=True).items()}


@pytest.mark.django_db
def test_an_edit_logs_what_django_auditlogs_diff_logs_and_reads_no_related_rows(org):
    industry = DictItem.objects.filter(kind="industry").order_by("order", "pk")
    customer = make_customer(org.manager, industry=industry[0], notes="旧备注")
    client = Client(**auth(org.admin))

    before = Customer.all_objects.get(pk=customer.pk)
    with CaptureQueriesContext(connection) as queries:
        response = client.patch(f"/api/v1/customers/{customer.pk}", json.dumps({"notes": "新备注"}),
                                content_type="application/json")
    assert response.status_code == 200, response.content
    after = Customer.all_objects.get(pk=customer.pk)
    entries = _updates(customer)
    assert len(entries) == 1
    assert entries[0].changes_dict == {"notes": ["旧备注", "新备注"]}
    assert entries[0].changes_dict == _auditlog_diff(before, after)
    # the owner, the creator and the dictionary items did not change: their rows are not read to
    # compare their texts (django-auditlog read each of them twice)
    one_by_one = [q["sql"] for q in queries.captured_queries if 'WHERE "core_dictitem"."id" =' in q["sql"]]
    assert one_by_one == []

    # a foreign key that changes is logged with its texts, as django-auditlog writes them
    before = after
    response = client.patch(f"/api/v1/customers/{customer.pk}",
                            json.dumps({"industry": industry[1].pk, "owner": org.manager2.pk}),
                            content_type="application/json")
    assert response.status_code == 200, response.content
    after = Customer.all_objects.get(pk=customer.pk)
    entry = _updates(customer)[-1]
    assert entry.changes_dict["industry"] == [str(industry[0]), str(industry[1])]
    assert entry.changes_dict["owner"] == [str(org.manager), str(org.manager2)]
    assert entry.changes_dict == _auditlog_diff(before, after)


@pytest.mark.django_db
def test_a_save_that_changes_nothing_logs_nothing_and_update_fields_are_respected(org):
    customer = make_customer(org.manager, notes="一")
    customer.refresh_from_db()
    customer.save()
    assert _updates(customer) == []

    stale = copy.copy(customer)
    customer.notes, customer.website = "二", "https://example.com"
    customer.save(update_fields=["notes"])
    entries = _updates(customer)
    assert len(entries) == 1 and set(entries[0].changes_dict) == {"notes"}
    assert stale.notes == "一"


def test_values_alike_only_when_their_text_is_the_same():
    assert _same("a", "a") and _same(None, None) and _same(3, 3)
    assert not _same(Decimal("1.0"), Decimal("1.00"))  # equal numbers, different text: left to the diff
    assert not _same(1, True) and not _same(1, 1.0) and not _same("1", 1)
    assert not _same(None, "")
