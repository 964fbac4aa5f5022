"""Campaigns' own rules: dates and money, one customer once per campaign, a contact of another
customer, the member's times, the workflow, the effect on a hand-built case (orders inside and
outside the window, a cancelled one) in one query, the data scope of members, the API and the page."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kehu.campaigns.effect import effect
from kehu.campaigns.forms import CampaignForm, CampaignMemberForm
from kehu.campaigns.models import Campaign, CampaignMember
from kehu.campaigns.services import add_members, set_status
from kehu.campaigns.testing import make_campaign, make_member
from kehu.core.models import DictItem
from kehu.core.registry import registry
from kehu.core.testing.factories import auth
from kehu.customers.testing import make_contact, make_customer
from kehu.orders.testing import make_order, service_line

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def campaign_data(**extra):
    return {"name": "上海工业博览会", "type": "offline", "start_date": "2026-03-01", "end_date": "2026-03-04",
            "budget": "80000", "actual_cost": "76500.50", "expected_revenue": "0", **extra}


# --- rules ------------------------------------------------------------------------------------------
def test_end_before_start_is_refused_on_the_end_date(org):
    form = CampaignForm(campaign_data(end_date="2026-02-28"), user=org.supervisor,
                        instance=Campaign(owner=org.supervisor))
    assert not form.is_valid()
    assert list(form.errors) == ["end_date"]
    assert "before the start date" in form.errors["end_date"][0]
    assert CampaignForm(campaign_data(end_date="2026-03-01"), user=org.supervisor,
                        instance=Campaign(owner=org.supervisor)).is_valid()  # a one-day campaign


@pytest.mark.parametrize("field", ["budget", "actual_cost", "expected_revenue"])
def test_money_is_never_negative(org, field):
    form = CampaignForm(campaign_data(**{field: "-0.01"}), user=org.supervisor, instance=Campaign(owner=org.supervisor))
    assert not form.is_valid() and field in form.errors


def test_money_is_a_decimal_and_never_a_float(org):
    form = CampaignForm(campaign_data(actual_cost="1234.5"), user=org.supervisor, instance=Campaign(owner=org.supervisor))
    assert form.is_valid(), form.errors
    campaign = form.save()
    campaign.refresh_from_db()
    assert campaign.actual_cost == Decimal("1234.50") and isinstance(campaign.actual_cost, Decimal)
    assert campaign.number.startswith("HD")
    campaign.budget = 0.1
    with pytest.raises(TypeError):
        campaign.save()


def test_a_customer_is_a_member_once_with_the_error_on_the_customer(org):
    campaign = make_campaign(org.supervisor)
    customer = make_customer(org.manager)
    make_member(campaign, customer)
    form = CampaignMemberForm({"campaign": campaign.pk, "customer": customer.pk, "status": "invited"},
                              user=org.manager, instance=CampaignMember(owner=org.manager))
    assert not form.is_valid()
    assert list(form.errors) == ["customer"], form.errors
    assert form.errors["customer"] == ["This customer is a member of this campaign already."]
    # the database says so too, whatever the path
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignMember.objects.create(campaign=campaign, customer=customer, owner=org.manager)
    # another campaign takes it; a deleted member does not block a new one
    make_member(make_campaign(org.supervisor), customer)
    from kehu.core.relations import delete_record

    delete_record(registry.get("campaignmember"), CampaignMember.objects.get(campaign=campaign), org.admin)
    assert CampaignMember.all_objects.filter(campaign=campaign).exists()
    make_member(campaign, customer)


def test_a_contact_of_another_customer_is_refused_on_the_contact(org):
    campaign = make_campaign(org.supervisor)
    mine, other = make_customer(org.manager), make_customer(org.manager)
    stranger = make_contact(other, "王经理")
    form = CampaignMemberForm({"campaign": campaign.pk, "customer": mine.pk, "contact": stranger.pk,
                               "status": "invited"}, user=org.manager, instance=CampaignMember(owner=org.manager))
    assert not form.is_valid()
    assert list(form.errors) == ["contact"]
    assert form.errors["contact"] == ["This contact belongs to another customer."]
    own = make_contact(mine, "李总")
    assert CampaignMemberForm({"campaign": campaign.pk, "customer": mine.pk, "contact": own.pk, "status": "invited"},
                              user=org.manager, instance=CampaignMember(owner=org.manager)).is_valid()


def test_a_cancelled_campaign_takes_no_new_members(org):
    campaign = make_campaign(org.supervisor)
    registry.get("campaign").workflow.take(campaign, "cancel", org.supervisor, {"comment": "预算取消"})
    with pytest.raises(ValidationError) as err:
        make_member(Campaign.objects.get(pk=campaign.pk), make_customer(org.manager))
    assert "campaign" in err.value.message_dict
    with pytest.raises(ValidationError):
        add_members(Campaign.objects.get(pk=campaign.pk), [make_customer(org.manager)], org.manager)


def test_the_member_times_follow_the_status(org):
    member = make_member(make_campaign(org.supervisor), make_customer(org.manager))
    assert (member.responded_at, member.converted_at) == (None, None)
    set_status(member, "responded", org.manager)
    member.refresh_from_db()
    first = member.responded_at
    assert first is not None and member.converted_at is None
    set_status(member, "converted", org.manager)
    member.refresh_from_db()
    assert member.responded_at == first and member.converted_at is not None  # the first response counts
    set_status(member, "responded", org.manager)
    member.refresh_from_db()
    assert member.converted_at is None and member.responded_at == first
    set_status(member, "invited", org.manager)
    member.refresh_from_db()
    assert (member.responded_at, member.converted_at, member.version) == (None, None, 5)
    # converted straight away (an import, the API): both times
    direct = make_member(make_campaign(org.supervisor), make_customer(org.manager), status="converted")
    assert direct.responded_at is not None and direct.converted_at is not None
    with pytest.raises(ValidationError):
        set_status(member, "maybe", org.manager)


def test_the_workflow_moves_the_dates_to_what_happened(org):
    today = datetime.date.today()
    campaign = make_campaign(org.supervisor, start=today + datetime.timedelta(days=5),
                             end=today + datetime.timedelta(days=20))
    wf = registry.get("campaign").workflow
    campaign = wf.take(campaign, "start", org.supervisor, {})
    assert (campaign.status, campaign.start_date) == ("active", today)  # started early: from today
    campaign = wf.take(campaign, "complete", org.supervisor, {})
    assert (campaign.status, campaign.end_date) == ("completed", today)  # ended early: today
    from kehu.core.workflow import TransitionRefused

    with pytest.raises(TransitionRefused):
        wf.take(campaign, "cancel", org.supervisor, {"comment": "x"})
    with pytest.raises(ValidationError) as err:  # a cancellation needs a reason
        wf.take(make_campaign(org.supervisor), "cancel", org.supervisor, {})
    assert "comment" in err.value.message_dict


# --- the effect -------------------------------------------------------------------------------------
@pytest.fixture
def fair(org, settings):
    """A campaign from 2026-03-01 to 03-04 that cost ¥10,000, with a 30-day window (to 04-03):
    four members (converted, responded, invited, declined) and their orders in and out of it."""
    settings.KEHU_CAMPAIGN_ATTRIBUTION_DAYS = 30
    campaign = make_campaign(org.supervisor, start=D(2026, 3, 1), end=D(2026, 3, 4), actual_cost="10000")
    won, keen, silent, no = (make_customer(org.manager) for _i in range(4))
    make_member(campaign, won, status="converted")
    make_member(campaign, keen, status="responded")
    make_member(campaign, silent)
    make_member(campaign, no, status="declined")

    def order(customer, day, amount, tax="0"):
        return make_order(org.manager, customer=customer, order_date=day, lines=[service_line("服务", "1", amount, tax)])

    order(won, D(2026, 3, 2), "8000.00")  # in
    order(won, D(2026, 4, 3), "4000.00", "6")  # in: the window's last day, tax included (4,240.00)
    order(won, D(2026, 4, 4), "9999.00")  # out: after the window
    order(won, D(2026, 2, 28), "7777.00")  # out: before the campaign
    cancelled = order(keen, D(2026, 3, 10), "5000.00")
    order(keen, D(2026, 3, 20), "1000.00")  # in
    order(silent, D(2026, 3, 5), "3000.00")  # out: an invited member never responded
    order(no, D(2026, 3, 5), "2000.00")  # out: declined
    other = make_customer(org.manager)
    order(other, D(2026, 3, 5), "6000.00")  # out: not a member
    cancelled.status = "cancelled"
    cancelled.save()
    return campaign


def test_the_effect_of_a_hand_built_campaign(org, fair, django_assert_num_queries):
    with django_assert_num_queries(2):  # the members' counts, then their customers' orders (one semi-join)
        e = effect(fair)
    assert (e.participants, e.responses, e.conversions, e.declined) == (4, 2, 1, 1)
    assert (e.response_rate, e.conversion_rate) == (Decimal("50.0"), Decimal("25.0"))
    assert e.orders == 3
    assert e.revenue == Decimal("13240.00")  # 8,000 + 4,240 + 1,000
    assert e.roi == Decimal("32.4")  # (13,240 − 10,000) / 10,000
    assert (e.window_start, e.window_end) == (D(2026, 3, 1), D(2026, 4, 3))


def test_roi_is_none_without_cost_and_rates_none_without_members(org):
    campaign = make_campaign(org.supervisor, actual_cost="0")
    e = effect(campaign)
    assert (e.participants, e.response_rate, e.conversion_rate, e.roi, e.revenue) == (0, None, None, None, Decimal("0"))


def test_a_deleted_order_or_member_counts_no_more(org, fair):
    from kehu.core.relations import delete_record
    from kehu.orders.models import Order

    delete_record(registry.get("order"), Order.objects.get(order_date=D(2026, 3, 20)), org.admin)
    assert effect(fair).revenue == Decimal("12240.00")
    delete_record(registry.get("campaignmember"), CampaignMember.objects.get(campaign=fair, status="converted"),
                  org.admin)
    e = effect(fair)
    assert (e.participants, e.conversions, e.revenue) == (3, 0, Decimal("0.00"))


# --- data scope ---------------------------------------------------------------------------------------
def test_a_rep_sees_every_campaign_but_only_the_members_of_their_customers(org):
    campaign = make_campaign(org.supervisor)
    mine = make_member(campaign, make_customer(org.manager))
    theirs = make_member(campaign, make_customer(org.manager2))
    pool = make_member(campaign, make_customer(None))  # the public pool is everyone's
    members = registry.get("campaignmember")
    assert set(members.visible(org.manager).values_list("pk", flat=True)) == {mine.pk, pool.pk}
    assert set(members.visible(org.supervisor).values_list("pk", flat=True)) == {mine.pk, pool.pk}
    assert set(members.visible(org.admin).values_list("pk", flat=True)) == {mine.pk, theirs.pk, pool.pk}
    assert registry.get("campaign").visible(org.manager2).filter(pk=campaign.pk).exists()
    api = Client(**auth(org.manager))
    assert api.get(f"/api/v1/campaign-members/{theirs.pk}").status_code == 404
    listed = [r["id"] for r in api.get(f"/api/v1/campaign-members/?campaign={campaign.pk}").json()["results"]]
    assert sorted(listed) == sorted([mine.pk, pool.pk])
    page = Client()
    page.force_login(org.manager)
    html = page.get(reverse("campaigns:campaign_detail", args=[campaign.pk])).content.decode()
    assert mine.customer.name in html and pool.customer.name in html and theirs.customer.name not in html
    # a rep cannot put another rep's customer in a campaign (not in their scope: refused on the field)
    response = api.post("/api/v1/campaign-members/", json.dumps(
        {"campaign": campaign.pk, "customer": make_customer(org.manager2).pk}), content_type="application/json")
    assert response.status_code == 422 and "customer" in response.json()["errors"]
    # nor mark a member they cannot see
    assert page.post(reverse("campaigns:campaign_member_status", args=[campaign.pk, theirs.pk]),
                     {"status": "converted"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "invited"


@pytest.mark.parametrize("probe", [5000, 1])  # rare terms listed by id; every term common (as at 1M)
def test_the_member_search_finds_campaign_customer_and_notes_within_the_scope(org, probe, monkeypatch):
    """Members are searched through the indexes (kehu/core/search.py): the campaign's name and
    number (the campaigns' own index), the customer's name (the customers' search) and the notes
    (the members' index); a rep still finds only the members of their own customers."""
    from kehu.core import search

    monkeypatch.setattr(search, "PROBE", probe)
    fair = make_campaign(org.supervisor, "上海工业博览会")
    mail = make_campaign(org.supervisor, "老客户回访邮件")
    huaxin = make_member(fair, make_customer(org.manager, "杭州华信精密仪器有限公司"), notes="现场留资，想看演示")
    other = make_member(mail, make_customer(org.manager, "成都锦江食品有限公司"))
    theirs = make_member(fair, make_customer(org.manager2, "南京华信物流有限公司"))
    api = Client(**auth(org.manager))

    def found(q):
        response = api.get("/api/v1/campaign-members/", {"q": q})
        assert response.status_code == 200
        return {r["id"] for r in response.json()["results"]}

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert found("工业博览") == {huaxin.pk}  # the rep's member of the fair, not manager2's
    # the campaigns' own search asked once for both of its fields (name, number)
    asked = [q["sql"] for q in ctx.captured_queries
             if "campaigns_campaign_fts" in q["sql"] or "FROM campaigns_campaign WHERE" in q["sql"]]
    if probe > 1:  # (a term every index calls common is tested on the rows instead)
        assert len(asked) == 1, asked
    assert found(fair.number) == {huaxin.pk}
    assert found("华信") == {huaxin.pk}  # a customer's name (two characters)
    assert found("锦江食品") == {other.pk}
    assert found("想看演示") == {huaxin.pk}  # the notes
    assert found("龘龘龘") == set()
    assert {r["id"] for r in Client(**auth(org.admin)).get(
        "/api/v1/campaign-members/", {"q": "工业博览"}).json()["results"]} == {huaxin.pk, theirs.pk}


def test_the_campaign_page_shows_the_newest_members_and_links_to_all(org, monkeypatch, django_assert_max_num_queries):
    """The page shows the newest MEMBERS_SHOWN members (a campaign of 7,000 members rendered 100 rows
    with their forms: 70 ms), says so and links to the members' list of the campaign."""
    from kehu.campaigns import views

    monkeypatch.setattr(views, "MEMBERS_SHOWN", 2)
    campaign = make_campaign(org.supervisor)
    members = [make_member(campaign, make_customer(org.manager, f"展会客户{i}有限公司")) for i in range(3)]
    page = Client()
    page.force_login(org.admin)
    url = reverse("campaigns:campaign_detail", args=[campaign.pk])
    page.get(url)
    with django_assert_max_num_queries(12):
        html = page.get(url).content.decode()
    assert html.count('data-testid="member-row"') == 2
    assert members[2].customer.name in html and members[0].customer.name not in html
    assert "显示最新的 2 个成员。" in html  # the admin reads Chinese
    assert f'{reverse("campaigns:campaignmember_list")}?campaign={campaign.pk}' in html


# --- API ----------------------------------------------------------------------------------------------
def test_api_crud_effect_and_members(org):
    api = Client(**auth(org.supervisor))
    response = api.post("/api/v1/campaigns/", json.dumps(campaign_data(channel=DictItem.objects.get(kind="campaign_channel", code="trade_show").pk)),
                        content_type="application/json")
    assert response.status_code in (200, 201), response.content
    body = response.json()
    assert body["number"].startswith("HD") and body["actual_cost"] == "76500.50" and body["status"] == "planned"
    pk = body["id"]
    bad = api.patch(f"/api/v1/campaigns/{pk}", json.dumps({"end_date": "2026-02-01"}), content_type="application/json")
    assert bad.status_code == 422 and list(bad.json()["errors"]) == ["end_date"]
    bad = api.patch(f"/api/v1/campaigns/{pk}", json.dumps({"budget": "-1"}), content_type="application/json")
    assert bad.status_code == 422 and "budget" in bad.json()["errors"]
    bad = api.post("/api/v1/campaigns/", json.dumps(campaign_data(name="")), content_type="application/json")
    assert bad.status_code == 422 and "name" in bad.json()["errors"]
    a, b = make_customer(org.manager), make_customer(org.manager)
    added = api.post(f"/api/v1/campaigns/{pk}/members", json.dumps({"customers": [a.pk, b.pk]}),
                     content_type="application/json")
    assert added.status_code == 201 and added.json() == {"added": 2, "already": 0}
    again = api.post(f"/api/v1/campaigns/{pk}/members", json.dumps({"customers": [a.pk]}),
                     content_type="application/json")
    assert again.json() == {"added": 0, "already": 1}
    outside = api.post(f"/api/v1/campaigns/{pk}/members", json.dumps({"customers": [make_customer(org.manager2).pk]}),
                       content_type="application/json")
    assert outside.status_code == 422 and "customers" in outside.json()["errors"]
    twin = api.post("/api/v1/campaign-members/", json.dumps({"campaign": pk, "customer": a.pk}),
                    content_type="application/json")
    assert twin.status_code == 422 and list(twin.json()["errors"]) == ["customer"]
    member = CampaignMember.objects.get(campaign_id=pk, customer=a)
    done = api.patch(f"/api/v1/campaign-members/{member.pk}", json.dumps({"status": "converted"}),
                     content_type="application/json")
    assert done.status_code == 200 and done.json()["converted_at"] is not None
    effect_ = api.get(f"/api/v1/campaigns/{pk}/effect").json()
    assert (effect_["participants"], effect_["responses"], effect_["conversions"]) == (2, 1, 1)
    assert effect_["conversion_rate"] == "50.0" and effect_["actual_cost"] == "76500.50"
    assert effect_["revenue"] == "0.00" and effect_["roi"] == "-100.0"
    assert Client(**auth(org.finance)).get(f"/api/v1/campaigns/{pk}/effect").status_code == 403


# --- the campaign's page --------------------------------------------------------------------------------
def test_the_page_adds_members_and_marks_them(org):
    campaign = make_campaign(org.supervisor, actual_cost="1000")
    a, b = make_customer(org.manager, "华东精密机械有限公司"), make_customer(org.manager, "北方重工集团")
    page = Client()
    page.force_login(org.manager)
    add = reverse("campaigns:campaign_add_member", args=[campaign.pk])
    assert page.post(add, {"customer": a.pk, "status": "invited"}, HTTP_HX_REQUEST="true").status_code == 200
    response = page.post(add, {"customer": b.pk, "status": "invited"}, HTTP_HX_REQUEST="true")
    assert 'hx-swap-oob="true"' in response.content.decode()  # the effect card follows
    twice = page.post(add, {"customer": a.pk, "status": "invited"}, HTTP_HX_REQUEST="true").content.decode()
    assert "member of this campaign already" in twice or "该客户已是本活动的成员" in twice  # the user's language
    ma, mb = CampaignMember.objects.get(customer=a), CampaignMember.objects.get(customer=b)
    status = "campaigns:campaign_member_status"
    page.post(reverse(status, args=[campaign.pk, ma.pk]), {"status": "responded"}, HTTP_HX_REQUEST="true")
    page.post(reverse(status, args=[campaign.pk, mb.pk]), {"status": "converted"}, HTTP_HX_REQUEST="true")
    html = page.get(reverse("campaigns:campaign_detail", args=[campaign.pk])).content.decode()
    assert 'data-testid="effect-participants">2<' in html
    assert 'data-testid="effect-response-rate">100.0%<' in html
    assert 'data-testid="effect-conversion-rate">50.0%<' in html
    assert 'data-testid="effect-roi">-100.0%<' in html
    # without the right to add, no form; finance has no campaign right at all
    viewer = Client()
    viewer.force_login(org.executive)
    assert 'data-testid="member-form"' not in viewer.get(reverse("campaigns:campaign_detail",
                                                                 args=[campaign.pk])).content.decode()
    assert viewer.post(add, {"customer": a.pk}).status_code == 403
    nobody = Client()
    nobody.force_login(org.finance)
    assert nobody.get(reverse("campaigns:campaign_detail", args=[campaign.pk])).status_code == 403


def test_the_customer_list_adds_the_selected_customers_to_a_campaign(org):
    """The customer list's bulk action "Add to campaign…": a page to choose an open campaign, then the
    selected customers in the user's scope become members, those already in it counted apart."""
    fair = make_campaign(org.supervisor, "华南工业展")
    closed = make_campaign(org.supervisor, "已取消的展会", status=Campaign.Status.CANCELLED)
    a, b = make_customer(org.manager, "华东精密机械有限公司"), make_customer(org.manager, "北方重工集团")
    other = make_customer(org.manager2, "另一位销售的客户")
    make_member(fair, b)
    page = Client()
    page.force_login(org.manager)
    bulk = reverse("customers:customer_bulk")
    listed = page.get(reverse("customers:customer_list")).content.decode()
    assert 'value="campaign"' in listed  # offered in the list's bulk bar
    choose = page.post(bulk, {"action": "campaign", "pk": [a.pk, b.pk, other.pk], "next": "/customers/"})
    html = choose.content.decode()
    assert choose.status_code == 200 and 'data-testid="add-to-campaign"' in html
    assert "华南工业展" in html and "已取消的展会" not in html  # open campaigns only
    assert "另一位销售的客户" not in html and f'name="pk" value="{other.pk}"' not in html  # outside the scope
    done = page.post(bulk, {"action": "campaign", "pk": [a.pk, b.pk, other.pk], "campaign": fair.pk,
                            "next": "/customers/?tab=mine"})
    assert done.status_code == 302 and done["Location"] == "/customers/?tab=mine"
    assert set(CampaignMember.objects.filter(campaign=fair).values_list("customer_id", flat=True)) == {a.pk, b.pk}
    shown = page.get(done["Location"]).content.decode()  # in the user's language: zh-Hans by default
    assert "1 位客户已加入营销活动“华南工业展”。 其中 1 位已是成员。" in shown
    # a cancelled campaign takes no one, and the message says so
    refused = page.post(bulk, {"action": "campaign", "pk": [a.pk], "campaign": closed.pk, "next": "/customers/"})
    assert refused.status_code == 302 and not CampaignMember.objects.filter(campaign=closed).exists()
    assert "请选择计划中或进行中的营销活动。" in page.get("/customers/").content.decode()
    # with no open campaign, the page says so and offers a new one to whoever may create it
    CampaignMember.objects.all().delete()
    Campaign.objects.filter(pk=fair.pk).update(status=Campaign.Status.COMPLETED)
    none = Client()
    none.force_login(org.supervisor)
    html = none.post(bulk, {"action": "campaign", "pk": [a.pk]}).content.decode()
    assert "没有计划中或进行中的营销活动。" in html and reverse("campaigns:campaign_add") in html
    # never redirected to another site
    away = page.post(bulk, {"action": "campaign", "pk": [a.pk], "campaign": fair.pk, "next": "/\\evil.example/"})
    assert away["Location"] == reverse("customers:customer_list")
    # the right to add members is needed: finance sees customers but not the action
    for user in (org.executive, org.finance):
        viewer = Client()
        viewer.force_login(user)
        if user.has_right("customer", "view"):
            assert 'value="campaign"' not in viewer.get(reverse("customers:customer_list")).content.decode()
        assert viewer.post(bulk, {"action": "campaign", "pk": [a.pk], "campaign": fair.pk}).status_code in (403, 404)


def test_the_customer_shows_its_campaigns(org):
    campaign = make_campaign(org.supervisor, "智能制造研讨会")
    customer = make_customer(org.manager)
    make_member(campaign, customer, status="responded")
    page = Client()
    page.force_login(org.manager)
    tab = page.get(reverse("customers:customer_related", args=[customer.pk, "campaigns"]))
    assert tab.status_code == 200 and "智能制造研讨会" in tab.content.decode()
    from kehu.campaigns.timeline import campaign_events
    from kehu.core import timeline

    with translation.override("en"):
        events = campaign_events(customer, org.manager, timeline.Cursor.start(), 10)
    assert [e.title for e in events] == [f"Joined campaign {campaign}"]
    with translation.override("zh-hans"):
        events = campaign_events(customer, org.manager, timeline.Cursor.start(), 10)
    assert [e.title for e in events] == [f"参加营销活动 {campaign}"]


# --- merging customers and the recycle bin ------------------------------------------------------------
def test_merging_two_members_of_one_campaign_keeps_one_membership_that_tells_the_most(org):
    from kehu.core.relations import restore_record
    from kehu.customers.services import merge_customers

    fair = make_campaign(org.supervisor, "展会")
    webinar = make_campaign(org.supervisor, "线上研讨会")
    keep = make_customer(org.manager, "华信科技")
    other = make_customer(org.manager, "华信科技有限公司")
    mine = make_member(fair, keep, status="invited", notes="展位 A3")
    theirs = make_member(fair, other, status="converted", notes="现场签约")
    only_theirs = make_member(webinar, other, status="responded")

    merge_customers(keep, other, org.supervisor)  # an IntegrityError (a 500) before

    live = CampaignMember.objects.filter(customer=keep).order_by("campaign__name")
    assert [(m.campaign.name, m.status) for m in live] == [("展会", "converted"), ("线上研讨会", "responded")]
    mine.refresh_from_db()
    assert mine.converted_at is not None and mine.responded_at is not None
    assert mine.notes == "展位 A3\n现场签约"
    theirs = CampaignMember.all_objects.get(pk=theirs.pk)
    assert theirs.deleted_at is not None  # in the recycle bin, not a second live row
    assert CampaignMember.objects.get(pk=only_theirs.pk).customer_id == keep.pk  # moved as it was

    with pytest.raises(ValidationError, match="member of this campaign again"):
        restore_record(registry.get("campaignmember"), theirs, org.supervisor)
    assert CampaignMember.all_objects.get(pk=theirs.pk).deleted_at is not None
