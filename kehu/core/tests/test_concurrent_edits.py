"""Two API clients editing the same record at once (the mixed load of issue 17 met it): a PATCH that
names no version is "last write wins" and must never answer 409; one that names a stale version
must."""

import threading

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from kehu.core.testing.factories import token_for
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers: PostgreSQL (SQLite has one writer)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_patches_without_a_version_all_land(org):
    customer = make_customer(org.manager, "并发编辑有限公司")
    threads, per_thread = 6, 8
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)
    token = token_for(org.manager)

    def work(i):
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
            start.wait()
            got = [client.patch(f"/api/v1/customers/{customer.pk}", {"notes": f"client {i} edit {n}"},
                                content_type="application/json").status_code for n in range(per_thread)]
            with lock:
                statuses.extend(got)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors
    assert statuses == [200] * (threads * per_thread)
    customer = Customer.all_objects.get(pk=customer.pk)
    assert customer.version == 1 + threads * per_thread  # every edit landed, none lost
    assert customer.notes.startswith("client ")


@pytest.mark.django_db
def test_a_stale_version_is_still_refused(org):
    customer = make_customer(org.manager, "旧版本有限公司")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(org.manager)}")
    url = f"/api/v1/customers/{customer.pk}"
    assert client.patch(url, {"notes": "one", "version": 1}, content_type="application/json").status_code == 200
    r = client.patch(url, {"notes": "two", "version": 1}, content_type="application/json")
    assert r.status_code == 409 and r.json()["current_version"] == 2
    assert Customer.all_objects.get(pk=customer.pk).notes == "one"


@pytest.mark.django_db
def test_a_save_checks_its_version_in_the_rows_one_update_and_a_stale_one_leaves_nothing(org):
    from auditlog.models import LogEntry
    from django.test.utils import CaptureQueriesContext

    from kehu.core.models import StaleVersionError

    customer = make_customer(org.manager, "版本检查有限公司", notes="一")
    other = Customer.objects.get(pk=customer.pk)
    customer.notes = "二"
    with CaptureQueriesContext(connection) as queries:
        customer.save()
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1 and '"version" = ' in updates[0].split("WHERE")[1], updates
    # inside the caller's transaction (the test's), no savepoint of its own: two statements fewer
    assert not [q for q in queries.captured_queries if "SAVEPOINT" in q["sql"]]
    assert customer.version == other.version + 1
    assert Customer.objects.get(pk=customer.pk).version == customer.version

    entries = LogEntry.objects.filter(object_id=customer.pk).count()
    other.notes = "三"
    # a caller that goes on in the same transaction after the refusal holds a savepoint of its own
    with pytest.raises(StaleVersionError) as refused, transaction.atomic():
        other.save()
    assert refused.value.current_version == customer.version
    assert other.version == customer.version - 1  # the instance keeps the version it read
    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.notes, stored.version) == ("二", customer.version)
    assert LogEntry.objects.filter(object_id=customer.pk).count() == entries  # its change-log entry taken back


@pytest.mark.django_db
def test_an_api_update_opens_no_savepoint_of_its_own(org):
    """The API holds the transaction from the read to the write; the save inside it opens none of
    its own (SAVEPOINT and RELEASE were 4 of a customer PATCH's 11 statements). The one savepoint
    here is the API's transaction, nested in the test's."""
    from django.test.utils import CaptureQueriesContext

    customer = make_customer(org.manager, "保存点测试有限公司")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_for(org.manager)}")
    with CaptureQueriesContext(connection) as queries:
        response = client.patch(f"/api/v1/customers/{customer.pk}", {"notes": "新的备注"},
                                content_type="application/json")
    assert response.status_code == 200, response.content
    savepoints = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 1, savepoints
    assert Customer.objects.get(pk=customer.pk).notes == "新的备注"
