"""A new account manager's first day, in a real browser."""

import re

import openpyxl
from playwright.sync_api import expect

from kehu.core.testing.factories import PASSWORD, make_user
from kehu.customers.models import Customer

NEW_PASSWORD = "Better#pass2026"


def login(page, base, username, password):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("[data-testid=login-submit]")


def test_first_day_of_an_account_manager(page, live_server, browser_org, shot, tmp_path):
    base = live_server.url
    make_user("newbie", "account_manager", browser_org.sales1, must_change_password=True)

    # 1. first login: the initial password must be changed before anything else
    login(page, base, "newbie", PASSWORD)
    expect(page.locator("[data-testid=must-change]")).to_be_visible()
    shot("password-change")
    page.goto(f"{base}/customers/")
    expect(page.locator("[data-testid=must-change]")).to_be_visible()  # still forced
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", "short")
    page.fill("#id_new_password2", "short")
    page.click("[data-testid=password-submit]")
    expect(page.locator("[data-testid=error-new_password2]")).to_be_visible()  # policy enforced
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("[data-testid=password-submit]")
    expect(page.locator("[data-testid=nav-customer]")).to_be_visible()
    shot("home")

    # 2. a bad phone number: the error sits on the field and nothing is saved
    page.goto(f"{base}/customers/add/")
    page.fill("#id_name", "北京远航科技有限公司")
    page.fill("#id_phone", "12345")
    shot("customer-form")
    page.click("[data-testid=save]")
    expect(page.locator("[data-testid=error-phone]")).to_be_visible()
    shot("customer-form-error")
    assert Customer.objects.count() == 0

    # 3. corrected, it saves and gets its number
    page.fill("#id_phone", "138 1234 5678")
    page.click("[data-testid=save]")
    expect(page.locator("h2.page-title")).to_contain_text("北京远航科技有限公司")
    customer = Customer.objects.get()
    assert customer.phone == "+8613812345678"
    assert re.fullmatch(r"KH\d{12}", customer.number)
    shot("customer-detail")

    # 4. found by its pinyin initials from the header search
    page.fill("[data-testid=header-search]", "bjyh")
    page.press("[data-testid=header-search]", "Enter")
    expect(page.locator("[data-testid=search-customers]")).to_contain_text("北京远航科技有限公司")
    shot("search")
    page.click("[data-testid=search-customers] a")

    # 5. edited
    page.click("[data-testid=edit-record]")
    page.fill("#id_needs", "希望统一管理销售线索")
    page.click("[data-testid=save]")
    expect(page.locator("h2.page-title")).to_contain_text("北京远航科技有限公司")

    # 6. the History tab shows the change with before and after
    page.click("[data-testid=tab-history]")
    history = page.locator("[data-testid=history]")
    expect(history).to_contain_text("希望统一管理销售线索")
    shot("customer-history")

    # 6b. a long history comes 50 changes at a time; "Show older changes" appends the rest in place
    from kehu.core.audit import log_changes

    customer = Customer.objects.get(name="北京远航科技有限公司")
    for i in range(55):
        log_changes(customer, {"notes": (f"备注{i}", f"备注{i + 1}")})
    page.reload()
    entries = page.locator("[data-testid=history-entry]")
    expect(entries).to_have_count(50)
    expect(history).to_contain_text("备注55")
    expect(history).not_to_contain_text("希望统一管理销售线索")  # older than the newest 50
    page.locator("[data-testid=history-more]").scroll_into_view_if_needed()
    shot("customer-history-more")
    page.click("[data-testid=history-more] button")
    expect(entries.first).to_contain_text("备注55")
    expect(history).to_contain_text("希望统一管理销售线索")
    expect(page.locator("[data-testid=history-more]")).to_have_count(0)
    assert entries.count() > 50
    shot("customer-history-older")

    # 7. the list exports to Excel
    page.goto(f"{base}/customers/?tab=mine")
    expect(page.locator("[data-testid=record-table]")).to_contain_text("北京远航科技有限公司")
    shot("customer-list")
    page.click("[data-testid=export-menu]")
    with page.expect_download() as info:
        page.click("[data-testid=export-xlsx]")
    path = tmp_path / "export.xlsx"
    info.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "北京远航科技有限公司" in values
    assert customer.number in values
