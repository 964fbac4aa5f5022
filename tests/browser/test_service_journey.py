"""Service in the browser: an account manager records a customer's complaint and escalates it into
a ticket, the supervisor assigns it from the queue, the service agent records the handling, marks
it handled, records the feedback and archives it; the archived ticket offers no edit. Screenshots
of the feedback page, the queue, the ticket page and the ticket list at desktop and phone width."""

from playwright.sync_api import expect

from kehu.customers.testing import make_customer
from kehu.service.models import Feedback, Ticket
from kehu.service.testing import make_feedback, make_ticket

from .test_sales_journey import login, logout


def test_ticket_lifecycle(page, live_server, browser_org, shot):
    base = live_server.url
    o = browser_org
    customer = make_customer(o.manager, name="苏州明达精密机械有限公司")
    for i in range(3):  # others waiting in the queue
        make_ticket(o.manager, summary=f"系统登录缓慢 {i + 1}", priority=("urgent", "normal", "low")[i])
    complaint = make_feedback(o.manager, customer=customer, source="hotline",
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
    page.goto(f"{base}/tickets/{ticket.pk}/")
    page.fill("[name=description]", "电话联系客户，远程查看报警代码 E-203，安排明早更换主轴编码器")
    page.fill("[name=minutes]", "25")
    page.click("[data-testid=handling-add]")
    expect(page.locator("[data-testid=handling-entry]")).to_have_count(1)
    page.click("[data-testid=transition-handle]")
    page.fill("#transition-dialog [name=handling]", "已更换主轴编码器，机床恢复正常")
    page.click("[data-testid=transition-save]")
    expect(page.locator("[data-testid=transition-feedback]")).to_be_visible()
    shot("service-ticket")
    page.click("[data-testid=transition-feedback]")
    page.fill("#transition-dialog [name=result]", "客户确认问题解决")
    page.fill("#transition-dialog [name=satisfaction]", "4")
    page.click("[data-testid=transition-save]")
    expect(page.locator("[data-testid=transition-archive]")).to_be_visible()
    page.click("[data-testid=transition-archive]")
    expect(page.locator("[data-testid=ticket-archived]")).to_be_visible()
    expect(page.locator("[data-testid=edit-record]")).to_have_count(0)
    expect(page.locator("[data-testid=handling-form]")).to_have_count(0)
    assert Ticket.objects.get(pk=ticket.pk).status == "archived"
    page.goto(f"{base}/tickets/")
    shot("service-ticket-list")
