"""Campaigns 营销活动 (SPEC §13): the sales supervisor creates a campaign, adds two customers from the
campaign's page, marks one responded and one converted, starts it, and reads the effect: participants,
response and conversion rates, the revenue attributed (an order of the converted customer) and the ROI."""

import datetime
import re
from decimal import Decimal

from playwright.sync_api import expect

from kehu.campaigns.models import Campaign, CampaignMember
from kehu.core import dictionary
from kehu.core.models import DictItem
from kehu.core.testing.factories import PASSWORD
from kehu.customers.models import Customer
from kehu.orders.testing import make_order, service_line

from .test_sales_journey import htmx_settled


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    expect(page.locator("#user-menu")).to_be_attached()


def add_member(page, name_part, name, pk):
    # the form is swapped in anew after each member added: typed before htmx processed it, no lookup
    # was sent (seen once in CI)
    htmx_settled(page)
    form = page.locator("[data-testid=member-form]")
    form.locator("input[name=customer-search]").fill(name_part)
    option = form.locator("[data-autocomplete-option]", has_text=name).first
    expect(option).to_be_visible()
    option.click()
    form.locator("[data-testid=member-add]").click()
    expect(page.locator(f"[data-testid=member-row][data-member='{pk}']")).to_contain_text(name)


def test_campaign_members_and_effect(page, live_server, browser_org, shot):
    base = live_server.url
    org = browser_org
    east = Customer(name="华东精密机械有限公司", owner=org.manager)
    east.full_clean()
    east.save()
    north = Customer(name="北方重工集团", owner=org.manager)
    north.full_clean()
    north.save()
    south = Customer(name="南方电子科技有限公司", owner=org.manager)
    south.full_clean()
    south.save()
    # the dictionary's seeds are made after migrate; a browser test's flushed database has them anew here
    trade_show, _made = DictItem.objects.get_or_create(kind="campaign_channel", code="trade_show",
                                                       defaults={"label": "展会", "label_en": "Trade show"})
    dictionary._invalidate()
    today = datetime.date.today()
    # the converted customer orders during the campaign: ¥12,000 (tax included) is its revenue
    make_order(org.manager, customer=north, order_date=today, lines=[service_line("数控系统升级", "1", "12000", "0")])

    login(page, base, "supervisor")
    page.goto(f"{base}/campaigns/add/")
    page.fill("#id_name", "2026 上海工业博览会")
    page.select_option("#id_type", "offline")
    page.select_option("#id_channel", str(trade_show.pk))
    page.fill("#id_start_date", today.isoformat())
    page.fill("#id_end_date", (today + datetime.timedelta(days=3)).isoformat())
    page.fill("#id_budget", "80000")
    page.fill("#id_actual_cost", "10000")
    shot("campaign-form")
    page.click("[data-testid=save]")
    expect(page.locator("h2.page-title")).to_contain_text("2026 上海工业博览会")
    campaign = Campaign.objects.get(name="2026 上海工业博览会")
    assert campaign.number.startswith("HD") and campaign.actual_cost == Decimal("10000.00")
    assert campaign.channel == trade_show
    expect(page.locator("[data-testid=members-empty]")).to_be_visible()

    # two customers, found by typing part of their names
    add_member(page, "华东精密", "华东精密机械有限公司", east.pk)
    add_member(page, "北方重工", "北方重工集团", north.pk)
    expect(page.locator("[data-testid=effect-participants]")).to_have_text("2")
    assert CampaignMember.objects.filter(campaign=campaign).count() == 2

    # one responded, one converted: the effect card follows at once
    page.locator(f"[data-testid=member-row][data-member='{east.pk}'] [data-testid=mark-responded]").click()
    expect(page.locator(f"[data-testid=member-row][data-member='{east.pk}'] [data-testid=member-status]")) \
        .to_have_text(re.compile("Responded|已响应"))
    page.locator(f"[data-testid=member-row][data-member='{north.pk}'] [data-testid=mark-converted]").click()
    expect(page.locator(f"[data-testid=member-row][data-member='{north.pk}'] [data-testid=member-status]")) \
        .to_have_text(re.compile("Converted|已转化"))
    expect(page.locator("[data-testid=effect-responses]")).to_have_text("2")
    expect(page.locator("[data-testid=effect-response-rate]")).to_have_text("100.0%")
    expect(page.locator("[data-testid=effect-conversions]")).to_have_text("1")
    expect(page.locator("[data-testid=effect-conversion-rate]")).to_have_text("50.0%")
    expect(page.locator("[data-testid=effect-revenue]")).to_contain_text("¥12,000.00")
    expect(page.locator("[data-testid=effect-roi]")).to_have_text("20.0%")

    # the campaign starts: the workflow's button; the figures stay on the reloaded page
    page.click("[data-testid=transition-start]")
    expect(page.locator("[data-testid=campaign-effect]")).to_contain_text("¥12,000.00")
    assert Campaign.objects.get(pk=campaign.pk).status == "active"
    members = {m.customer.name: m for m in CampaignMember.objects.filter(campaign=campaign).select_related("customer")}
    assert members["北方重工集团"].converted_at is not None and members["华东精密机械有限公司"].responded_at is not None
    shot("campaign-detail")

    # the customer's page has a Campaigns tab
    page.goto(f"{base}/customers/{north.pk}/?tab=campaigns")
    expect(page.locator("body")).to_contain_text("2026 上海工业博览会")
    shot("customer-campaigns")

    # a third customer from the customer list: select it, "Add to campaign…", choose the campaign
    page.goto(f"{base}/customers/?q=南方电子")
    page.locator(f"input[name=pk][value='{south.pk}']").check()
    page.select_option("[data-testid=bulk-action]", "campaign")
    page.click("[data-testid=bulk-apply]")
    expect(page.locator("[data-testid=add-to-campaign]")).to_contain_text("南方电子科技有限公司")
    page.select_option("[data-testid=campaign-choice]", str(campaign.pk))
    shot("add-to-campaign")
    page.click("[data-testid=add-to-campaign-submit]")
    expect(page.locator("body")).to_contain_text(re.compile("1 customer added|1 位客户已加入"))
    assert CampaignMember.objects.filter(campaign=campaign, customer=south).exists()
    page.goto(f"{base}/campaigns/{campaign.pk}/")
    expect(page.locator("[data-testid=effect-participants]")).to_have_text("3")
