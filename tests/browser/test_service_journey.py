"""Service in the browser, the whole lifecycle of issue 12: an account manager records a customer's
complaint and escalates it into a ticket, the supervisor assigns it from the queue, the service
agent opens the article the ticket page suggests and links it, records the handling and marks the
ticket handled; the customer answers the satisfaction survey from the link a real SMTP server
received, on a phone-sized page; the ticket (now "feedback given") is archived and offers no edit.
Screenshots of the feedback page, the queue, the ticket page and the ticket list at desktop and
phone width."""

from playwright.sync_api import expect

from kehu.core.testing.smtp import start_smtp
from kehu.customers.testing import make_contact, make_customer
from kehu.knowledge.links import ArticleLink
from kehu.knowledge.testing import make_article
from kehu.service.models import Feedback, Ticket
from kehu.service.testing import make_feedback, make_ticket

from .test_sales_journey import login, logout
from .test_survey_journey import PHONE, _mailed_link


def test_ticket_lifecycle(page, live_server, browser_org, shot, settings):
    from django.core.cache import cache

    cache.clear()  # the survey page's rate limits
    settings.KEHU_BASE_URL = live_server.url
    base = live_server.url
    o = browser_org
    customer = make_customer(o.manager, name="苏州明达精密机械有限公司")
    contact = make_contact(customer, "王工", email="wang.gong@example.com")
    for i in range(3):  # others waiting in the queue
        make_ticket(o.manager, summary=f"系统登录缓慢 {i + 1}", priority=("urgent", "normal", "low")[i])
    article = make_article(o.supervisor, "数控机床报警 E-203：主轴编码器故障的处理",
                           body="## 现象\n\n数控机床报警 E-203。\n\n## 处理\n\n1. 远程查看报警代码\n2. 更换主轴编码器")
    complaint = make_feedback(o.manager, customer=customer, contact=contact, source="hotline",
                              content="售后工程师两次上门都没有修好数控机床的报警问题，客户很不满意")

    login(page, base, o.manager.username)
    page.goto(f"{base}/feedback/{complaint.pk}/")
    shot("service-feedback")
    page.click("[data-testid=transition-escalate]")
    ticket = Ticket.objects.get(customer=customer)
    expect(page).to_have_url(f"{base}/tickets/{ticket.pk}/")
    expect(page.locator("[data-testid=ticket-complaint]")).to_be_visible()
    assert Feedback.objects.get(pk=complaint.pk).ticket_id == ticket.pk
    logout(page)

    login(page, base, o.supervisor.username)
    page.goto(f"{base}/tickets/queue/")
    row = page.locator(f"[data-testid=queue-row][data-ticket='{ticket.pk}']")
    row.locator("select[name=handler]").select_option(str(o.service.pk))
    shot("service-queue")
    row.locator("[data-testid=queue-assign]").click()
    expect(page.locator("[data-testid=queue-assigned]")).to_be_visible()
    assert Ticket.objects.get(pk=ticket.pk).handler_id == o.service.pk
    logout(page)

    login(page, base, o.service.username)
    # My day: the assignment is among the handler's open tickets; on a phone its number shows whole
    mine = page.locator("[data-testid=home-my-ticket]", has_text=ticket.number)
    expect(mine).to_be_visible()
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    line = mine.locator(".fw-medium").locator("xpath=..")
    assert line.evaluate("e => e.scrollWidth <= e.clientWidth"), "the ticket number is cut on a phone"
    page.set_viewport_size(size)
    page.goto(f"{base}/tickets/{ticket.pk}/")
    # the knowledge base suggests the article from the ticket's text: linked, then opened
    suggestion = page.locator("[data-testid=kb-suggestion]", has_text="主轴编码器")
    expect(suggestion).to_be_visible()
    suggestion.locator("[data-testid=kb-link]").click()
    expect(page.locator("[data-testid=kb-linked-article]")).to_contain_text("主轴编码器")
    assert ArticleLink.objects.filter(article=article, object_id=ticket.pk).exists()
    page.goto(f"{base}/kb/articles/{article.pk}/")
    expect(page.locator("[data-testid=solved-item]")).to_contain_text(ticket.number)  # what it solved
    page.go_back()
    page.fill("[name=description]", "电话联系客户，远程查看报警代码 E-203，安排明早更换主轴编码器")
    page.fill("[name=minutes]", "25")
    page.click("[data-testid=handling-add]")
    expect(page.locator("[data-testid=handling-entry]")).to_have_count(1)
    controller, collector = start_smtp(settings)  # handled: the contact is mailed the survey's link
    try:
        page.click("[data-testid=transition-handle]")
        page.fill("#transition-dialog [name=handling]", "已更换主轴编码器，机床恢复正常")
        page.click("[data-testid=transition-save]")
        expect(page.locator("[data-testid=transition-feedback]")).to_be_visible()
        link = _mailed_link(collector)
    finally:
        controller.stop()
    assert any(rcpt == ["wang.gong@example.com"] for rcpt, _message in collector.messages)
    shot("service-ticket")
    logout(page)

    # the customer answers on a phone, no login
    page.set_viewport_size(PHONE)
    page.goto(link)
    expect(page.locator("[data-testid=survey-summary]")).to_contain_text(ticket.number)
    page.locator("[data-testid=star-4]").click()
    page.fill("[data-testid=survey-comment]", "第二次上门就修好了，谢谢。")
    page.click("[data-testid=survey-submit]")
    expect(page.locator("[data-testid=survey-thanks]")).to_be_visible()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.satisfaction) == ("feedback", 4)
    page.set_viewport_size({"width": 1280, "height": 800})

    login(page, base, o.service.username)
    page.goto(f"{base}/tickets/{ticket.pk}/")
    expect(page.locator("[data-testid=survey-row][data-status=answered]")).to_be_visible()
    expect(page.locator("[data-testid=transition-archive]")).to_be_visible()
    page.click("[data-testid=transition-archive]")
    expect(page.locator("[data-testid=ticket-archived]")).to_be_visible()
    expect(page.locator("[data-testid=edit-record]")).to_have_count(0)
    expect(page.locator("[data-testid=handling-form]")).to_have_count(0)
    assert Ticket.objects.get(pk=ticket.pk).status == "archived"
    page.goto(f"{base}/tickets/")
    shot("service-ticket-list")
