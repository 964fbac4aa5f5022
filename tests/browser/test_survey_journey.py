"""The satisfaction survey from the customer's side: the e-mailed link (read from what a real SMTP
server received) opened on a phone, four stars tapped, a comment, sent, thanks; the link opened
again says it was answered already. Then a supervisor's survey list with the answer and its figures."""

import datetime
import re
import time

from playwright.sync_api import expect

from kehu.core.testing.smtp import start_smtp
from kehu.surveys.models import Survey
from kehu.surveys.testing import make_survey

from .test_sales_journey import login

PHONE = {"width": 390, "height": 844}



def _mailed_link(collector) -> str:
    deadline = time.monotonic() + 10
    while not collector.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert collector.messages, "no mail reached the SMTP server"
    _rcpt, message = collector.messages[-1]
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    body = text.get_payload(decode=True).decode(text.get_content_charset())
    return re.search(r"(http://\S+/s/\S+/)", body).group(1)


def test_customer_answers_the_survey_from_the_mailed_link_on_a_phone(page, live_server, browser_org, shot,
                                                                      settings):
    from django.core.cache import cache

    cache.clear()
    settings.KEHU_BASE_URL = live_server.url
    settings.KEHU_COMPANY_NAME = "苏州客户科技有限公司"
    controller, collector = start_smtp(settings)
    try:
        survey = make_survey(browser_org.manager, language="zh-hans", title="服务器维修（工单 FW202605040001）")
        link = _mailed_link(collector)
    finally:
        controller.stop()
    assert link.startswith(live_server.url + "/s/")

    def shots(name):  # at 1280 px and 390 px, then back on the phone
        page.set_viewport_size({"width": 1280, "height": 800})
        shot(name)
        page.set_viewport_size(PHONE)

    page.set_viewport_size(PHONE)
    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("[data-testid=company-name]")).to_have_text("苏州客户科技有限公司")
    expect(page.locator("[data-testid=survey-summary]")).to_contain_text("服务器维修")
    expect(page.locator("nav, .navbar")).to_have_count(0)  # no app navigation
    star = page.locator("[data-testid=star-4]")
    box = star.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44, box  # big enough for a thumb
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
    shots("survey-form")
    star.click()
    expect(page.locator("#rating-4")).to_be_checked()
    page.fill("[data-testid=survey-comment]", "工程师上门很快，问题当天解决。")
    shots("survey-form-filled")
    page.click("[data-testid=survey-submit]")
    expect(page.locator("[data-testid=survey-thanks]")).to_be_visible()
    shots("survey-thanks")
    survey.refresh_from_db()
    assert (survey.status, survey.rating, survey.comment) == ("answered", 4, "工程师上门很快，问题当天解决。")

    page.goto(link)
    expect(page.locator("[data-testid=survey-already]")).to_be_visible()
    expect(page.locator("[data-testid=survey-form]")).to_have_count(0)
    shots("survey-already")
    page.goto(f"{live_server.url}/s/nothing:here/")
    expect(page.locator("[data-testid=survey-not-found]")).to_be_visible()
    shots("survey-not-found")

    # an expired link, in English
    expired = make_survey(browser_org.manager, language="en", title="Annual maintenance")
    Survey.objects.filter(pk=expired.pk).update(expires_at=expired.created_at - datetime.timedelta(minutes=1))
    from kehu.surveys.services import survey_link

    page.goto(survey_link(expired))
    expect(page.locator("[data-testid=survey-expired]")).to_contain_text("This link has expired")
    shots("survey-expired")

    # the supervisor's list: the answer and the figures
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server.url, browser_org.supervisor.username)
    page.goto(f"{live_server.url}/surveys/")
    expect(page.locator("[data-testid=fig-answered]")).to_contain_text("1")
    expect(page.locator("[data-testid=fig-average]")).to_contain_text("4.0")
    expect(page.locator("#record-table")).to_contain_text("服务器维修")
    # the figures come after the rows, in a request of their own; a filter asks for its own figures
    page.select_option("form[hx-target='#record-table'] select[name=status]", "sent")
    expect(page.locator("[data-testid=fig-average]")).to_have_text("–")
    expect(page.locator("[data-testid=fig-answered]")).to_have_text("0 (0%)")
    page.select_option("form[hx-target='#record-table'] select[name=status]", "")
    expect(page.locator("[data-testid=fig-average]")).to_contain_text("4.0")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # the menu bar still fits
    page.click("[data-testid=navsec-service]")
    expect(page.locator(".dropdown-menu.show a[href='/surveys/']")).to_be_visible()  # in the Service menu
    shot("survey-list")
    page.goto(f"{live_server.url}/surveys/{survey.pk}/")
    expect(page.locator("body")).to_contain_text("工程师上门很快")
    shot("survey-detail")
