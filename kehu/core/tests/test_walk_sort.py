"""A list filtered by a date range and sorted by id (or not sorted explicitly) is read in that
date's order (kehu.core.filters.walk_sort), on every page of the HTML list and the API."""

import datetime

import pytest
from django.utils import timezone

from kehu.core.filters import walk_sort
from kehu.core.registry import registry
from kehu.core.testing.factories import auth
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer


@pytest.fixture
def customers(org):
    """Five customers whose creation dates run opposite to their ids (as after an import of old
    records), all in March 2024, and one outside it."""
    made = [make_customer(org.admin) for _ in range(6)]
    base = timezone.make_aware(datetime.datetime(2024, 3, 20, 12))
    for i, c in enumerate(made[:5]):
        Customer.all_objects.filter(pk=c.pk).update(created_at=base - datetime.timedelta(days=i))
    Customer.all_objects.filter(pk=made[5].pk).update(created_at=base + datetime.timedelta(days=60))
    return made


def test_walk_sort_rules():
    rt = registry.get("customer")
    month = {"created_after": "2024-03-01", "created_before": "2024-03-31"}
    assert walk_sort(rt, None, month) == "-created_at"  # the default (-id) follows the range
    assert walk_sort(rt, "id", month) == "created_at"  # an id sort keeps its direction
    assert walk_sort(rt, "name", month) == "name"  # an explicit sort on another field is kept
    assert walk_sort(rt, None, {}) == "-id"
    assert walk_sort(rt, None, {"created_after": ""}) == "-id"  # an empty filter is no filter
    assert walk_sort(rt, "bogus", month) == "-created_at"


def test_api_pages_follow_the_creation_date(client, org, customers):
    headers = auth(org.admin)
    url = "/api/v1/customers/?created_after=2024-03-01&created_before=2024-03-31&limit=2"
    seen, cursor = [], None
    while True:
        r = client.get(url + (f"&cursor={cursor}" if cursor else ""), **headers)
        assert r.status_code == 200, r.content
        body = r.json()
        seen += [row["id"] for row in body["results"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    # newest creation first: the lowest id was made the newest
    assert seen == [c.pk for c in customers[:5]]
    by_name = client.get(url.replace("limit=2", "limit=10") + "&sort=name", **headers).json()["results"]
    assert [row["name"] for row in by_name] == sorted(c.name for c in customers[:5])


def test_html_list_follows_the_creation_date(client, org, customers):
    client.force_login(org.admin)
    r = client.get("/customers/?created_after=2024-03-01&created_before=2024-03-31&per_page=3")
    html = r.content.decode()
    positions = [html.index(f'name="pk" value="{c.pk}"') for c in customers[:3]]
    assert positions == sorted(positions)
    assert f'name="pk" value="{customers[3].pk}"' not in html  # on the next page
    assert f'name="pk" value="{customers[5].pk}"' not in html  # outside the range


def test_overdue_tasks_are_read_in_due_order(client, org):
    """The overdue filter is a range of due dates: the list reads task_open_due_idx in due order
    (newest due first by default) instead of sorting every overdue task by id."""
    from kehu.activities.models import Task
    from kehu.activities.testing import make_task

    rt = registry.get("task")
    assert walk_sort(rt, None, {"overdue": "true"}) == "-due_at"
    assert walk_sort(rt, "id", {"overdue": "true"}) == "due_at"
    now = timezone.now()
    tasks = [make_task(org.admin, title=f"逾期{i}") for i in range(3)]
    for i, t in enumerate(tasks):  # due dates run opposite to the ids
        Task.all_objects.filter(pk=t.pk).update(due_at=now - datetime.timedelta(days=1 + i))
    future = make_task(org.admin, title="未到期")
    Task.all_objects.filter(pk=future.pk).update(due_at=now + datetime.timedelta(days=3))
    rows = client.get("/api/v1/tasks/?overdue=true", **auth(org.admin)).json()["results"]
    assert [r["id"] for r in rows] == [t.pk for t in tasks]  # the least overdue first, not the newest id
