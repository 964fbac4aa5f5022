"""Issue 15: a phone's .vcf imported through the import pages (mapping with the customer for cards
whose organization is unknown, the check, the import), a contact's card downloaded as .vcf and its
QR code shown; the data-quality page of an administrator with a similar-name group dismissed and a
phone group merged from it."""

from playwright.sync_api import expect

from kehu.customers.models import Contact, Customer
from kehu.customers.testing import card21_gbk, card30, card40, make_customer, vcf

from .test_sales_journey import login


def test_vcard_import_and_card_download(page, live_server, browser_org, shot, tmp_path):
    huadong = make_customer(browser_org.manager, "华东精密机械有限公司")
    fair = make_customer(browser_org.manager, "展会名片客户")
    base = live_server.url
    login(page, base, "manager")
    path = tmp_path / "手机通讯录.vcf"
    path.write_bytes(vcf(card21_gbk(), card30(), card40(org="不认识的公司")))

    page.goto(f"{base}/contacts/")
    page.click("[data-testid=import-link]")
    page.set_input_files("input[name=file]", str(path))
    page.click("[data-testid=upload-submit]")
    expect(page.locator("[data-testid=import-mapping]")).to_be_visible()
    expect(page.locator("[data-testid=import-preview] tbody tr")).to_have_count(3)
    expect(page.locator("[data-testid=import-preview]")).to_contain_text("王芳")  # GBK quoted-printable read
    assert page.locator("[data-testid=map-0]").input_value() == "name"  # FN
    assert page.locator("[data-testid=map-1]").input_value() == "customer"  # ORG
    expect(page.locator("[data-testid=contact-import-options]")).to_be_visible()
    page.fill("input[name=default_customer-search]", "展会名片")
    option = page.locator("[data-autocomplete-option]").first
    expect(option).to_contain_text("展会名片客户")
    option.click()
    shot("vcard-mapping")
    page.click("[data-testid=check-submit]")

    expect(page.locator("[data-testid=count-created]")).to_have_text("3")
    expect(page.locator("[data-testid=count-bad]")).to_have_text("0")
    shot("vcard-check")
    page.click("[data-testid=import-run]")
    expect(page.locator("[data-testid=count-created]")).to_have_text("3", timeout=15_000)
    wang = Contact.objects.get(name="王芳")
    assert wang.customer == huadong and Contact.objects.get(name="Chen Jing").customer == fair
    assert wang.attachments.count() == 1  # the card's photo

    page.goto(f"{base}/contacts/{wang.pk}/")
    page.click("[data-testid=card-menu]")
    qr = page.locator("[data-testid=card-qr]")
    expect(qr).to_be_visible()
    page.wait_for_function("document.querySelector('[data-testid=card-qr]').naturalWidth > 100")
    shot("contact-card")
    with page.expect_download() as info:
        page.click("[data-testid=card-vcf]")
    assert info.value.suggested_filename == "王芳.vcf"
    saved = tmp_path / "card.vcf"
    info.value.save_as(saved)
    text = saved.read_text(encoding="utf-8")
    assert "FN:王芳" in text and "ORG:华东精密机械有限公司" in text and "TEL;TYPE=CELL:+8613912345678" in text


def test_data_quality_page(page, live_server, browser_org, shot):
    from kehu.customers import quality

    m, m2 = browser_org.manager, browser_org.manager2
    keep = make_customer(m, "苏州精工机械有限公司", phone="13912345678", email="info@sz-jg.cn")
    make_customer(m, "苏州精工机械", phone="139 1234 5678")
    make_customer(m2, "精工机械（苏州）", phone="13912345678")
    make_customer(m, "杭州青山贸易有限公司", email="Sales@QingShan.cn")
    make_customer(m2, "青山贸易", email="sales@qingshan.cn")
    for i in range(3):
        make_customer(m if i else m2, "北方物流集团")
    odd = make_customer(m, "旧系统导入公司")
    Customer.all_objects.filter(pk=odd.pk).update(phone="0512-123", email="old@@system")
    quality.run_scan()

    base = live_server.url
    login(page, base, "admin")
    page.goto(f"{base}/customers/quality/")
    expect(page.locator("[data-testid=count-dup_phone]")).to_have_text("1")
    expect(page.locator("[data-testid=quality-group]")).to_have_count(1)
    expect(page.locator("[data-testid=quality-group]")).to_contain_text("精工机械（苏州）")
    shot("quality-duplicates")
    # similar names: the same company with its place in front, behind in brackets, without legal form
    expect(page.locator("[data-testid=count-dup_similar]")).to_have_text("1")
    page.click("[data-testid=tab-dup_similar]")
    group = page.locator("[data-testid=quality-group]")
    expect(group).to_have_count(1)
    expect(group).to_contain_text("精工机械（苏州）")
    expect(group).to_contain_text("苏州精工机械有限公司")
    expect(group.locator("tbody tr")).to_have_count(3)
    expect(page.locator("body")).not_to_contain_text("杭州青山贸易有限公司")  # another place than 青山贸易's none
    shot("quality-similar")
    page.click("[data-testid=dismiss-group]")  # "Not duplicates": gone from the page
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("[data-testid=quality-group]")).to_have_count(0)
    expect(page.locator("[data-testid=count-dup_similar]")).to_have_text("0")
    page.click("[data-testid=tab-invalid]")
    expect(page.locator("[data-testid=invalid-bad_phone]")).to_contain_text("0512-123")
    shot("quality-invalid")
    page.click("[data-testid=tab-missing]")
    expect(page.locator("[data-testid=missing-industry]")).to_be_visible()
    shot("quality-missing")

    page.click("[data-testid=tab-dup_phone]")
    page.click("[data-testid=merge-group]")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("[data-testid=quality-group]")).to_have_count(0)
    assert Customer.objects.filter(phone="+8613912345678").count() == 1
    assert Customer.objects.get(phone="+8613912345678").pk == keep.pk
