"""The customer timeline's mechanics (kehu/core/timeline.py): a stable (time, source, id) order and
cursor, one rights check by the declared right, one provider per name."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import timezone

from kehu.accounts.testing import make_user_with
from kehu.activities.models import FollowUp, Task
from kehu.activities.testing import make_followup
from kehu.core import timeline
from kehu.customers.models import Contact
from kehu.customers.testing import make_contact, make_customer


@pytest.fixture
def provider():
    """Registers test providers and removes them afterwards."""
    names = []

    def add(name, fn, right=None):
        timeline.register(name, right=right)(fn)
        names.append(name)
        return fn

    yield add
    for name in names:
        timeline.unregister(name)


def _all_pages(customer, user, limit):
    seen, cursor, pages = [], None, 0
    while True:
        result = timeline.page(customer, user, cursor, limit=limit)
        seen += result.events
        pages += 1
        if result.next_cursor is None:
            return seen, pages
        cursor = result.next_cursor
        assert pages < 100


def test_events_at_the_same_second_are_neither_dropped_nor_repeated_across_pages(org):
    customer = make_customer(org.manager)
    second = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=1)
    # follow-ups are kept to the minute: 7 at the same time, with contacts and tasks at that second too
    FollowUp.objects.bulk_create([FollowUp(customer=customer, owner=org.manager, topic=f"同一刻 {i}",
                                           occurred_at=second.replace(second=0)) for i in range(7)])
    Contact.objects.bulk_create([Contact(customer=customer, owner=org.manager, name=f"联系人{i}",
                                         created_at=second.replace(second=0)) for i in range(4)])
    Task.objects.bulk_create([Task(customer=customer, owner=org.manager, title=f"任务{i}",
                                   created_at=second.replace(second=0)) for i in range(3)])
    expected = 7 + 4 + 3 + 1  # and the customer's creation
    for limit in (1, 2, 3, 5, 6, 20):
        seen, pages = _all_pages(customer, org.manager, limit)
        keys = [(e.source, e.id) for e in seen]
        assert len(keys) == expected == len(set(keys)), (limit, keys)
        assert [e.key for e in seen] == sorted((e.key for e in seen), reverse=True)
        assert pages in (-(-expected // limit), -(-expected // limit) + 1)  # the last page may be empty


def test_the_view_pages_with_the_cursor(org):
    customer = make_customer(org.manager)
    when = timezone.now().replace(second=0, microsecond=0) - datetime.timedelta(hours=1)
    FollowUp.objects.bulk_create([FollowUp(customer=customer, owner=org.manager, topic=f"跟进 {i}",
                                           occurred_at=when) for i in range(25)])
    client = Client()
    client.force_login(org.manager)
    url = f"/customers/{customer.pk}/timeline/"
    first = client.get(url)
    assert len(first.context["events"]) == 20 and first.context["next_cursor"]
    assert f"?cursor={first.context['next_cursor'].replace(':', '%3A').replace('+', '%2B')}" in \
        first.content.decode()
    second = client.get(url, {"cursor": first.context["next_cursor"]})
    titles = [e.title for e in first.context["events"] + second.context["events"]]
    assert sorted(t for t in titles if t.startswith("跟进")) == sorted(f"跟进 {i}" for i in range(25))
    assert second.context["next_cursor"] is None
    assert client.get(url, {"cursor": "not-a-cursor"}).status_code == 200  # the first page


def test_a_changes_entry_with_several_events_stays_on_one_page(org, provider):
    customer = make_customer(org.manager)
    when = timezone.now() - datetime.timedelta(days=1)

    def two_per_row(customer, user, cursor, limit):
        rows = [r for r in range(5, 0, -1) if cursor.older("t", "pairs").check({"t": when, "pk": r})][:limit]
        return [timeline.Event(when, kind, f"{kind}{r}", id=r) for r in rows for kind in ("a", "b")]

    provider("pairs", two_per_row)
    seen, _pages = _all_pages(customer, org.manager, 3)
    pairs = [e.title for e in seen if e.source == "pairs"]
    assert pairs == ["a5", "b5", "a4", "b4", "a3", "b3", "a2", "b2", "a1", "b1"]


def test_a_provider_is_asked_only_with_its_declared_right(org, provider):
    customer = make_customer(org.manager)
    asked = []
    provider("secret", lambda customer, user, cursor, limit: asked.append(user) or [
        timeline.Event(timezone.now() - datetime.timedelta(days=1), "secret", "机密")], right="order.view")
    reader = make_user_with("reader", "customer.view")
    assert "机密" not in [e.title for e in timeline.events_for(customer, reader)]
    assert asked == []
    boss = make_user_with("boss", "customer.view", "order.view")
    assert "机密" in [e.title for e in timeline.events_for(customer, boss)]
    assert asked == [boss]


def test_the_builtin_providers_leave_the_rights_to_core(org):
    customer = make_customer(org.manager)
    make_followup(customer, topic="只给有权的人看")
    make_contact(customer, "只给有权的联系人")
    no_followups = make_user_with("nofollow", "customer.view", "contact.view")
    titles = [e.title for e in timeline.events_for(customer, no_followups)]
    assert not any("只给有权的人看" in t for t in titles) and any("只给有权的联系人" in t for t in titles)
    for name, (right, _fn) in timeline._providers.items():
        assert right is None or right.count(".") == 1, name


def test_a_second_provider_with_the_same_name_is_an_error(provider):
    provider("once", lambda *args: [])
    with pytest.raises(ImproperlyConfigured):
        timeline.register("once", right=None)(lambda *args: [])
    with pytest.raises(ImproperlyConfigured):
        timeline.register("followups", right="followup.view")(lambda *args: [])


def test_providers_asked_after_a_full_page_read_nothing_older_than_it_and_every_event_is_still_paged(org, provider):
    """Once limit + 1 events are at hand, the providers asked next get the time of the (limit +
    1)-th newest as the cursor's floor (cursor.older adds `time >= floor`): they read nothing that
    could not be shown. Paging through still shows every event once, in order."""
    customer = make_customer(org.manager)
    now = timezone.now().replace(second=0, microsecond=0) - datetime.timedelta(minutes=1)  # after the creation
    FollowUp.objects.bulk_create([FollowUp(customer=customer, owner=org.manager, topic=f"跟进 {i}",
                                           occurred_at=now - datetime.timedelta(hours=i)) for i in range(10)])
    asked, times = [], [now - datetime.timedelta(hours=i, minutes=30) for i in range(10)]

    def late(customer, user, cursor, limit):  # half-hours between the follow-ups; registered last
        asked.append(cursor.floor)
        rows = [i for i, t in enumerate(times) if cursor.older("t", "late").check({"t": t, "pk": i})]
        return [timeline.Event(times[i], "late", f"晚 {i}", id=i) for i in rows[:limit]]

    provider("late", late)
    first = timeline.page(customer, org.manager, limit=4)
    # the fifth newest event before it: the customer's creation, then the fourth follow-up
    assert asked[-1] == now - datetime.timedelta(hours=3)
    assert [e.title for e in first.events][1:] == ["跟进 0", "晚 0", "跟进 1"]
    seen, _pages = _all_pages(customer, org.manager, 4)
    titles = [e.title for e in seen if e.source in ("followups", "late")]
    assert titles == [t for i in range(10) for t in (f"跟进 {i}", f"晚 {i}")]
    assert [e.key for e in seen] == sorted((e.key for e in seen), reverse=True)


def test_a_pages_actors_are_read_once_with_the_columns_a_name_needs(org):
    """Providers give their rows' users as ids; the page reads those users in one query (no join to
    the users table in each provider's query, no password hash read), and shows their names."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    customer = make_customer(org.manager)
    make_followup(customer, owner=org.manager, topic="电话回访")
    make_contact(customer, "李四")
    with CaptureQueriesContext(connection) as ctx:
        events = timeline.events_for(customer, org.admin)
    by_title = {e.title: e.actor for e in events}
    followup = next(actor for title, actor in by_title.items() if "电话回访" in title)
    assert followup == org.manager and str(followup) == str(org.manager)
    user_queries = [q["sql"] for q in ctx.captured_queries if 'FROM "accounts_user"' in q["sql"]
                    or 'JOIN "accounts_user"' in q["sql"]]
    assert len(user_queries) == 1, user_queries
    assert '"password"' not in user_queries[0]
