"""Issue 9's owner rule as people meet it: an account manager sees the owner of a new customer
fixed to themselves and cannot change it; a supervisor gives the customer to a colleague in the
edit form, the contacts follow, and the colleague finds the notification under the bell."""

from playwright.sync_api import expect

from kehu.customers.models import Contact, Customer

from .test_sales_journey import login, logout


def test_owner_is_read_only_without_the_assign_right_and_an_assignment_is_announced(page, live_server, browser_org,
                                                                                    shot):
    base = live_server.url
    login(page, base, "manager")
    page.goto(f"{base}/customers/add/")
    owner = page.locator("#id_owner")
    expect(owner).to_be_disabled()
    expect(owner.locator("option:checked")).to_contain_text("manager")
    shot("owner-read-only")
    page.fill("#id_name", "宁波东海港务有限公司")
    page.fill("#id_phone", "13957400001")
    page.click("[data-testid=save]")
    expect(page.locator("h2.page-title")).to_contain_text("宁波东海港务有限公司")
    customer = Customer.objects.get(name="宁波东海港务有限公司")
    assert customer.owner == browser_org.manager
    Contact.objects.create(customer=customer, name="陈经理")
    logout(page)

    login(page, base, "supervisor")
    page.goto(f"{base}/customers/{customer.pk}/edit/")
    expect(page.locator("#id_owner")).to_be_enabled()
    page.select_option("#id_owner", str(browser_org.supervisor.pk))
    page.click("[data-testid=save]")
    expect(page.locator("h2.page-title")).to_contain_text("宁波东海港务有限公司")
    page.goto(f"{base}/customers/{customer.pk}/edit/")
    page.select_option("#id_owner", str(browser_org.manager.pk))
    page.click("[data-testid=save]")
    expect(page.locator("h2.page-title")).to_contain_text("宁波东海港务有限公司")
    customer.refresh_from_db()
    assert customer.owner == browser_org.manager
    assert Contact.objects.get(name="陈经理").owner == browser_org.manager
    logout(page)

    login(page, base, "manager")
    page.goto(f"{base}/notifications/")
    expect(page.locator("body")).to_contain_text("宁波东海港务有限公司")
    shot("assignment-notification")
