import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar

from kehu.activities.models import FollowUp
from kehu.activities.testing import make_followup, make_task
from kehu.core.models import Notification
from kehu.customers.testing import make_customer


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


# --- timeline ----------------------------------------------------------------------------

PAGE_QUERIES = 6  # session, user, customer, its tags, the notification count, the timeline's cursor


@pytest.mark.django_db
def test_timeline_of_10000_followups_is_paged_with_few_queries(org):
    customer = make_customer(org.manager)
    start = timezone.now() - datetime.timedelta(days=10)
    FollowUp.objects.bulk_create([
        FollowUp(customer=customer, owner=org.manager, topic=f"跟进 {i}", occurred_at=start + datetime.timedelta(minutes=i))
        for i in range(10_000)
    ], batch_size=2000)
    make_task(org.manager, title="时间线上的任务", customer=customer)
    client = client_for(org.manager)
    url = f"/customers/{customer.pk}/timeline/"
    client.get(url)  # warm caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    events = response.context["events"]
    assert len(events) == 20
    from kehu.core import timeline

    # the page's own queries, then one per source of events the user may see (each app's
    # provider: follow-ups, tasks, orders, tickets, surveys …), not one per event
    sources = sum(1 for right, _fn in timeline._providers.values() if timeline.allowed(org.manager, right))
    assert len(queries) <= PAGE_QUERIES + sources, (sources, [q["sql"] for q in queries.captured_queries])
    followups = [e for e in events if e.kind == "followup"]
    assert {"task", "created"} <= {e.kind for e in events} and followups[0].title.endswith("跟进 9999")
    assert [e.when for e in events] == sorted((e.when for e in events), reverse=True)
    # the next page continues where this one stopped
    page2 = client.get(url, {"cursor": response.context["next_cursor"]}).context["events"]
    assert len(page2) == 20 and page2[0].title.endswith(f"跟进 {9999 - len(followups)}")


@pytest.mark.django_db
def test_timeline_hides_followups_without_the_right(org):
    customer = make_customer(None)  # the public pool: every role with customer.view sees it
    make_followup(customer, org.manager, topic="池中客户的跟进")
    nobody_followups = client_for(org.service).get(f"/customers/{customer.pk}/timeline/")
    assert "池中客户的跟进" in nobody_followups.content.decode()  # service may read follow-ups


# --- My day ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_my_day_shows_my_items_only(org):
    now = timezone.now()
    end_of_today = timezone.localtime(now).replace(hour=23, minute=59, second=0, microsecond=0)
    # due later today, whatever the time of day the test runs at (just before midnight too)
    today_task = make_task(org.manager, title="今天的任务", due_at=min(now + datetime.timedelta(minutes=5),
                                                                       end_of_today))
    late_task = make_task(org.manager, title="逾期任务", due_at=now - datetime.timedelta(days=1))
    make_task(org.manager, title="下周的任务", due_at=now + datetime.timedelta(days=7))
    make_task(org.manager, title="已完成任务", due_at=now - datetime.timedelta(hours=1), status="done")
    make_task(org.manager2, title="别人的任务", due_at=now)
    customer = make_customer(org.manager, name="今日客户有限公司")
    make_followup(customer, org.manager, topic="上次沟通", next_action="打电话确认",
                  next_action_at=now - datetime.timedelta(hours=1))
    handled = make_customer(org.manager, name="已跟进客户有限公司")
    make_followup(handled, org.manager, topic="旧的", occurred_at=now - datetime.timedelta(days=2),
                  next_action="已处理", next_action_at=now - datetime.timedelta(days=1))
    make_followup(handled, org.manager, topic="新的", occurred_at=now - datetime.timedelta(hours=3))
    other = make_customer(org.manager2, name="别人的客户有限公司")
    make_followup(other, org.manager2, topic="别人的", next_action="别人的下一步", next_action_at=now)
    Notification.objects.create(user=org.manager, title="我的通知")
    Notification.objects.create(user=org.manager2, title="别人的通知")

    client = client_for(org.manager)
    assert client.get("/").status_code == 200
    response = client.get("/?panel=tasks")  # each panel of My day is a fragment loaded after the page
    assert [t.pk for t in response.context["tasks"]] == [late_task.pk, today_task.pk]
    html = response.content.decode()
    response = client.get("/?panel=next_actions")
    assert [f.customer.name for f in response.context["next_actions"]] == ["今日客户有限公司"]
    html += response.content.decode() + client.get("/?panel=notifications").content.decode()
    for text in ("今天的任务", "逾期任务", "打电话确认", "我的通知"):
        assert text in html
    for text in ("下周的任务", "已完成任务", "别人的任务", "别人的下一步", "别人的通知", "已处理"):
        assert text not in html
    # the supervisor's My day is theirs, not the team's
    sup = client_for(org.supervisor)
    assert sup.get("/?panel=tasks").context["tasks"] == []
    assert sup.get("/?panel=next_actions").context["next_actions"] == []


@pytest.mark.django_db
def test_my_day_pool_warnings(org, settings):
    from kehu.customers.models import Customer

    idle = make_customer(org.manager, name="快回公海有限公司")
    Customer.objects.filter(pk=idle.pk).update(
        last_activity_at=timezone.now() - datetime.timedelta(days=settings.KEHU_POOL_IDLE_DAYS - 1))
    make_customer(org.manager, name="活跃客户有限公司")
    response = client_for(org.manager).get("/?panel=pool")
    assert [c.name for c in response.context["pool_warnings"]] == ["快回公海有限公司"]


@pytest.mark.django_db
def test_my_day_without_activity_rights(org):
    client = client_for(org.nobody)
    response = client.get("/")
    assert response.status_code == 200
    assert 'panel=tasks' not in response.content.decode() and 'panel=next_actions' not in response.content.decode()
    assert client.get("/?panel=tasks").status_code == 404
    assert client.get("/?panel=next_actions").status_code == 404


# --- iCalendar ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_calendar_feed(org):
    now = timezone.now()
    mine = make_task(org.manager, title="我的任务", due_at=now + datetime.timedelta(days=1))
    make_task(org.manager2, title="别人的任务", due_at=now + datetime.timedelta(days=1))
    customer = make_customer(org.manager, name="日历客户有限公司")
    fu = make_followup(customer, org.manager, topic="沟通", next_action="上门拜访",
                       next_action_at=now + datetime.timedelta(days=2))
    make_followup(make_customer(org.manager2), org.manager2, topic="x", next_action="别人的拜访",
                  next_action_at=now + datetime.timedelta(days=2))
    client = client_for(org.manager)
    assert "calendar-create" in client.get("/accounts/profile/").content.decode()
    assert client.post("/calendar/link/").status_code == 302
    org.manager.refresh_from_db()
    token = org.manager.calendar_token
    assert len(token) >= 40
    assert token in client.get("/accounts/profile/").content.decode()

    response = Client().get(f"/calendar/{token}.ics")  # calendar apps do not log in
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    todos = cal.walk("VTODO")
    events = cal.walk("VEVENT")
    summaries = [str(c["SUMMARY"]) for c in todos + events]
    assert any("我的任务" in s for s in summaries) and any("上门拜访" in s for s in summaries)
    assert not any("别人" in s for s in summaries)
    assert {str(c["UID"]) for c in todos} == {f"kehu-task-{mine.pk}@127.0.0.1"} or \
        all(str(c["UID"]).startswith(f"kehu-task-{mine.pk}@") for c in todos)
    followup_event = next(e for e in events if "上门拜访" in str(e["SUMMARY"]))
    assert str(followup_event["UID"]).startswith(f"kehu-followup-{fu.pk}@")
    assert "DTSTAMP" in followup_event
    assert followup_event.decoded("DTSTART") == fu.next_action_at.replace(microsecond=0)
    assert cal.walk("VTIMEZONE"), "time zone definitions included"

    assert client.post("/calendar/link/revoke/").status_code == 302
    assert Client().get(f"/calendar/{token}.ics").status_code == 404
    assert Client().get("/calendar/not-a-real-token-at-all-0123456789.ics").status_code == 404


@pytest.mark.django_db
def test_my_day_newly_assigned_opportunities(org):
    from kehu.sales.models import Opportunity
    from kehu.sales.testing import make_opportunity

    new = make_opportunity(org.manager, title="新指派的机会")
    old = make_opportunity(org.manager, title="上个月的机会")
    Opportunity.objects.filter(pk=new.pk).update(assigned_at=timezone.now() - datetime.timedelta(hours=3))
    Opportunity.objects.filter(pk=old.pk).update(assigned_at=timezone.now() - datetime.timedelta(days=30))
    response = client_for(org.manager).get("/?panel=opportunities")
    assert [o.pk for o in response.context["opportunities"]] == [new.pk]
    assert "新指派的机会" in response.content.decode()
    assert client_for(org.manager2).get("/?panel=opportunities").context["opportunities"] == []


# --- the follow-up form's search-as-you-type fields ----------------------------------------------

@pytest.mark.django_db
def test_followup_form_searches_contacts_and_opportunities_of_the_chosen_customer(org):
    from kehu.customers.models import Contact
    from kehu.sales.testing import make_opportunity

    mine, other = make_customer(org.manager), make_customer(org.manager)
    Contact.objects.create(customer=mine, name="王芳", owner=org.manager)
    Contact.objects.create(customer=other, name="王刚", owner=org.manager)
    opp = make_opportunity(org.manager, customer=mine, title="年度采购项目")
    make_opportunity(org.manager, customer=other, title="年度维保项目")
    hidden = make_opportunity(org.manager2, title="年度别人的项目")
    client = client_for(org.manager)

    page = client.get("/followups/add/").content.decode()
    # no <option> per opportunity: the field searches as you type, sending the chosen customer along
    assert "年度采购项目" not in page
    assert page.count('hx-include="[name=customer]"') == 2

    contacts = client.get("/followups/contacts/", {"contact-search": "王", "customer": mine.pk}).content.decode()
    assert "王芳" in contacts and "王刚" not in contacts
    found = client.get("/opportunities/lookup/", {"opportunity-search": "年度", "customer": mine.pk}).content.decode()
    assert "年度采购项目" in found and "年度维保项目" not in found
    everything = client.get("/opportunities/lookup/", {"opportunity-search": "年度"}).content.decode()
    assert "年度维保项目" in everything and "年度别人的项目" not in everything  # data scope
    assert f'data-value="{hidden.pk}"' not in everything

    # the chosen opportunity is rendered (only it) when the form is shown again
    from kehu.activities.forms import FollowUpForm

    form = FollowUpForm(user=org.manager, initial={"customer": mine.pk, "opportunity": opp.pk})
    html = str(form["opportunity"])
    assert "年度采购项目" in html and "年度维保项目" not in html


@pytest.mark.django_db
def test_opportunity_lookup_reads_the_closed_ones_stages_with_the_rows(org):
    """A closed opportunity's option names its stage (won, lost): read with the rows, not a query
    per closed row."""
    from kehu.sales.models import Opportunity, Stage
    from kehu.sales.testing import make_opportunity

    client = client_for(org.manager)
    won = Stage.objects.filter(is_won=True).first()

    def asked():
        client.get("/opportunities/lookup/", {"q": "框架"})
        with CaptureQueriesContext(connection) as ctx:
            text = client.get("/opportunities/lookup/", {"q": "框架"}).content.decode()
        return len(ctx.captured_queries), text

    first = make_opportunity(org.manager, title="框架协议 1")
    Opportunity.objects.filter(pk=first.pk).update(stage=won, closed_at=timezone.now())
    few, text = asked()
    assert str(won) in text
    for i in range(2, 6):
        opp = make_opportunity(org.manager, title=f"框架协议 {i}")
        Opportunity.objects.filter(pk=opp.pk).update(stage=won, closed_at=timezone.now())
    many, text = asked()
    assert text.count(str(won)) == 5 and many == few, (few, many)


@pytest.mark.django_db
def test_opportunity_lookup_needs_a_right(org):
    assert client_for(org.nobody).get("/opportunities/lookup/", {"q": "x"}).status_code == 403
