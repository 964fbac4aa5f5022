"""Searching follow-ups for one character in Chromium (issue 17): in a list larger than the short-term
window the newest records are searched and the page says so; the customer list keeps its sortable
last-activity column."""

from playwright.sync_api import expect

from kehu.activities.testing import make_followup
from kehu.core import search
from kehu.core.testing.factories import PASSWORD
from kehu.customers.testing import make_customer


def test_one_character_search_says_what_it_searched(page, live_server, browser_org, shot, monkeypatch):
    monkeypatch.setattr(search, "SHORT_WINDOW", 3)
    customer = make_customer(browser_org.manager, name="北辰科技有限公司")
    make_followup(customer, browser_org.manager, topic="北方老客户回访")
    for i in range(3):
        make_followup(customer, browser_org.manager, topic=f"电话回访{i}")
    make_followup(customer, browser_org.manager, topic="北京新客户拜访")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.goto(f"{live_server.url}/followups/")
    page.fill("[data-testid=list-search]", "北")
    page.keyboard.press("Enter")
    notice = page.locator("[data-testid=search-window]")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("3")
    table = page.locator("[data-testid=record-table]")
    expect(table).to_contain_text("北京新客户拜访")
    expect(table).not_to_contain_text("北方老客户回访")
    shot("followups-short-search")
    # three characters: every record, no notice
    page.fill("[data-testid=list-search]", "北方老")
    page.keyboard.press("Enter")
    expect(table).to_contain_text("北方老客户回访")
    expect(notice).to_have_count(0)

    page.goto(f"{live_server.url}/customers/?sort=-last_activity_at&columns=name&columns=last_activity_at")
    expect(page.locator("[data-testid=record-table] thead")).to_contain_text("ast activ")  # Last activity, sorted
    expect(page.locator("[data-testid=record-table] tbody")).to_contain_text("北辰科技有限公司")
    shot("customers-last-activity")
