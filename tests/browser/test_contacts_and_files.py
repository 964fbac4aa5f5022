"""Contacts, the customer autocomplete, attachments and the language switch, in a real browser."""

from playwright.sync_api import expect

from kehu.core.testing.factories import PASSWORD
from kehu.customers.models import Contact, Customer


def login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=login-submit]")
    expect(page.locator("[data-testid=nav-customer]")).to_be_visible()


def test_contact_with_autocomplete_attachment_and_languages(page, live_server, browser_org, shot, tmp_path):
    base = live_server.url
    customer = Customer(name="上海明珠贸易有限公司", owner=browser_org.manager)
    customer.full_clean()
    customer.save()
    login(page, base, "manager")

    # the language switch in the user menu: Chinese, then English
    page.click("#user-menu")
    page.click("[data-testid=lang-zh-hans]")
    expect(page.locator("[data-testid=nav-customer]")).to_have_text("客户")
    page.click("#user-menu")
    page.click("[data-testid=lang-en]")
    expect(page.locator("[data-testid=nav-customer]")).to_have_text("Customers")

    # add a contact: the customer is found by typing its pinyin initials
    page.goto(f"{base}/contacts/add/")
    page.fill("input[name=customer-search]", "shmz")
    option = page.locator("[data-autocomplete-option]").first
    expect(option).to_contain_text("上海明珠贸易有限公司")
    option.click()
    page.fill("#id_name", "周杰")
    page.fill("#id_mobile", "139 0000 1234")
    shot("contact-form")
    page.click("[data-testid=save]")
    expect(page.locator("h2.page-title")).to_contain_text("周杰")
    contact = Contact.objects.get(name="周杰")
    assert contact.customer == customer and contact.mobile == "+8613900001234"

    # the customer's contacts tab lists it; the customer is now found by the contact's name
    page.goto(f"{base}/customers/{customer.pk}/?tab=contacts")
    expect(page.locator("[data-testid=contacts]")).to_contain_text("周杰")
    # on a phone the record's tabs scroll sideways, each label on one line (Chinese labels used to
    # break after every character, 详/细/资/料 stacked)
    size = page.viewport_size
    page.click("#user-menu")
    page.click("[data-testid=lang-zh-hans]")
    page.set_viewport_size({"width": 390, "height": 844})
    tabs = page.locator(".card-header-tabs .nav-link")
    expect(tabs.first).to_have_text("详细资料")
    heights = [tabs.nth(i).bounding_box()["height"] for i in range(4)]
    assert max(heights) < 1.5 * min(heights) and max(heights) < 60, heights
    page.set_viewport_size(size)
    page.click("#user-menu")
    page.click("[data-testid=lang-en]")
    expect(page.locator("[data-testid=nav-customer]")).to_have_text("Customers")
    page.fill("[data-testid=header-search]", "zhoujie")
    page.press("[data-testid=header-search]", "Enter")
    expect(page.locator("[data-testid=search-customers]")).to_contain_text("上海明珠贸易有限公司")

    # attachments: a disallowed type is refused, a PDF is stored and listed
    bad = tmp_path / "virus.exe"
    bad.write_bytes(b"MZ")
    good = tmp_path / "合同.pdf"
    good.write_bytes(b"%PDF-1.4 test")
    page.goto(f"{base}/customers/{customer.pk}/?tab=attachments")
    page.set_input_files("[data-testid=attachment-file]", str(bad))
    page.click("#attachments button[type=submit]")
    expect(page.locator("[data-testid=upload-error]")).to_be_visible()
    page.set_input_files("[data-testid=attachment-file]", str(good))
    page.click("#attachments button[type=submit]")
    expect(page.locator("#attachments")).to_contain_text("合同.pdf")
    shot("customer-attachments")
    assert customer.attachments.count() == 1
