"""Issue 15: import customers from a GBK CSV with a title row: map two columns the import does not
know, see the check with two bad rows and a duplicate, download the error file, import the good
rows (a background job with its progress bar), then undo the batch from the import history."""

import csv
import io
import re

from playwright.sync_api import expect

from kehu.core.models import ImportJob
from kehu.customers.models import Contact, Customer
from kehu.customers.testing import make_customer

from .test_sales_journey import login


def gbk_file(tmp_path):
    rows = [["2026 年展会客户名单（市场部整理）"],
            ["单位全称", "行业", "总机", "对接人", "对接人手机", "备注"],  # 单位全称 and 对接人手机: unknown names
            ["华东精密机械有限公司", "制造业", "021-62345678", "王伟", "13912345678", "展会认识"],
            ["西南能源集团", "能源电力", "1.38123456789E10", "李娜", "13987654321", ""],
            ["", "零售", "13800000000", "赵六", "", "没有公司名"],  # bad: no name
            ["北方物流", "物流", "12345", "", "", "电话不对"],  # bad: phone
            ["老客户有限公司", "零售", "13711112222", "", "", "已经有了"]]  # duplicate
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path = tmp_path / "展会客户.csv"
    path.write_bytes(buf.getvalue().encode("gbk"))
    return path


def test_import_journey(page, live_server, browser_org, shot, settings, tmp_path):
    manager = browser_org.manager
    old = make_customer(manager, "老客户有限公司", phone="13711112222")
    base = live_server.url
    login(page, base, "manager")

    page.goto(f"{base}/customers/")
    page.click("[data-testid=import-link]")
    expect(page.locator("[data-testid=import-upload]")).to_be_visible()
    shot("import-upload")
    page.set_input_files("input[name=file]", str(gbk_file(tmp_path)))
    page.click("[data-testid=upload-submit]")

    # mapping: the header row below the title, GBK read, two columns to map by hand
    expect(page.locator("[data-testid=import-mapping]")).to_be_visible()
    expect(page.locator("[data-testid=import-preview] tbody tr")).to_have_count(5)
    expect(page.locator("[data-testid=import-preview]")).to_contain_text("华东精密机械有限公司")
    assert page.locator("[data-testid=map-0]").input_value() == ""  # 单位全称: not known
    assert page.locator("[data-testid=map-4]").input_value() == ""  # 对接人手机: not known
    assert page.locator("[data-testid=map-1]").input_value() == "industry"
    expect(page.locator("[data-testid=map-missing]")).to_be_visible()  # the name has no column yet
    page.select_option("[data-testid=map-0]", "name")
    page.select_option("[data-testid=map-4]", "contact_mobile")
    page.select_option("[data-testid=map-2]", "phone")
    page.select_option("[data-testid=map-3]", "contact_name")
    shot("import-mapping")
    page.click("[data-testid=check-submit]")

    # the check: 2 bad rows with line and column, 1 duplicate naming the record, nothing written
    expect(page.locator("[data-testid=import-status]")).to_be_visible()
    expect(page.locator("[data-testid=count-bad]")).to_have_text("2")
    expect(page.locator("[data-testid=count-created]")).to_have_text("2")
    expect(page.locator("[data-testid=count-skipped]")).to_have_text("1")
    errors = page.locator("[data-testid=import-error-rows] tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("5")
    expect(errors.nth(1)).to_contain_text("总机")
    expect(page.locator("[data-testid=import-duplicates]")).to_contain_text(old.number)
    assert not Customer.objects.exclude(pk=old.pk).exists()
    shot("import-check")

    with page.expect_download() as info:
        page.click("[data-testid=import-errors-file]")
    path = tmp_path / "errors.csv"
    info.value.save_as(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][1:7] == ["单位全称", "行业", "总机", "对接人", "对接人手机", "备注"]
    assert [r[0] for r in rows[1:]] == ["5", "6"] and "总机" in rows[2][-1]

    # the import runs in the worker: the page shows its progress bar and polls it
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    page.click("[data-testid=import-run]")
    expect(page.locator("[data-testid=import-progress]")).to_have_attribute("data-status", "queued")
    expect(page.locator("[data-testid=import-progress] .progress")).to_be_visible()
    shot("import-progress")
    job = ImportJob.objects.get()
    from kehu.core.imports import jobs

    jobs.run_import.call(job.pk)  # the worker
    expect(page.locator("[data-testid=import-status]")).to_have_class(re.compile("bg-success-lt"), timeout=15_000)
    expect(page.locator("[data-testid=count-created]")).to_have_text("2")
    assert set(Customer.objects.values_list("name", flat=True)) == {"老客户有限公司", "华东精密机械有限公司", "西南能源集团"}
    assert Customer.objects.get(name="西南能源集团").phone == "+8613812345678"
    assert Contact.objects.get(name="王伟").mobile == "+8613912345678"
    shot("import-result")

    # the history lists it; undo removes the batch (the older customer stays)
    page.click("[data-testid=import-history-link]")
    expect(page.locator(f"[data-testid=import-row-{job.pk}]")).to_contain_text("展会客户.csv")
    shot("import-history")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"[data-testid=history-undo-{job.pk}]")
    expect(page.locator("[data-testid=import-status]")).to_be_visible()
    assert list(Customer.objects.values_list("name", flat=True)) == ["老客户有限公司"]
    assert not Contact.objects.exists()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UNDONE
    shot("import-undone")
