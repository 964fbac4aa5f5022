"""Issue 17.2: a selection larger than KEHU_EXPORT_SYNC_ROWS is exported as a background job: the
progress page reaches done, the notification links the file, the download is complete (row count),
and My exports lists it. The threshold is set low for the live server (same process)."""

import csv

import openpyxl
from playwright.sync_api import expect

from kehu.core.models import ExportJob
from kehu.customers.models import Customer

from .test_sales_journey import login

ROWS = 30


def make_customers(owner, n, prefix):
    for i in range(n):
        c = Customer(name=f"{prefix}{i:03d}有限公司", owner=owner, created_by=owner, status="active")
        c.full_clean()
        c.save()


def test_large_export_runs_as_a_job(page, live_server, browser_org, shot, settings, tmp_path):
    settings.KEHU_EXPORT_SYNC_ROWS = 10
    make_customers(browser_org.manager, ROWS, "导出测试客户")
    make_customers(browser_org.manager2, 5, "别组客户")  # outside the manager's scope: never exported
    base = live_server.url
    login(page, base, "manager")

    # CSV of a filtered selection larger than the threshold
    page.goto(f"{base}/customers/?q=导出测试")
    page.click("[data-testid=export-menu]")
    page.click("[data-testid=export-csv]")
    expect(page.locator("[data-testid=export-status]")).to_have_attribute("class", "badge bg-success-lt",
                                                                           timeout=30_000)
    expect(page.locator("[data-testid=export-progress]")).to_have_attribute("data-status", "done")
    expect(page.locator("[data-testid=export-rows]")).to_contain_text(f"{ROWS} / {ROWS}")
    shot("export-progress-done")
    with page.expect_download() as info:
        page.click("[data-testid=export-download]")
    path = tmp_path / "export.csv"
    info.value.save_as(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 1 + ROWS
    assert all(r[1].startswith("导出测试客户") for r in rows[1:])

    # the notification links the same file
    page.goto(f"{base}/notifications/")
    expect(page.locator("[data-testid=notifications]")).to_contain_text(ExportJob.objects.get(user=browser_org.manager).filename)

    # XLSX of the whole visible list
    page.goto(f"{base}/customers/")
    page.click("[data-testid=export-menu]")
    page.click("[data-testid=export-xlsx]")
    expect(page.locator("[data-testid=export-progress]")).to_have_attribute("data-status", "done", timeout=30_000)
    with page.expect_download() as info:
        page.click("[data-testid=export-download]")
    xlsx = tmp_path / "export.xlsx"
    info.value.save_as(xlsx)
    sheet = openpyxl.load_workbook(xlsx, read_only=True).active
    assert sheet.max_row == 1 + ROWS  # the manager's customers only

    # My exports: both, newest first, download and delete
    page.click("[data-testid=my-exports]")
    expect(page.locator("[data-testid=exports] tbody tr")).to_have_count(2)
    shot("my-exports")
    jobs = list(ExportJob.objects.filter(user=browser_org.manager).order_by("id"))
    assert [j.format for j in jobs] == ["csv", "xlsx"]
    page.click(f"[data-testid=export-delete-{jobs[0].pk}]")
    expect(page.locator("[data-testid=exports] tbody tr")).to_have_count(1)
    assert not ExportJob.objects.filter(pk=jobs[0].pk).exists()


def test_running_export_shows_progress(page, live_server, browser_org, shot):
    """How a running job looks (rows, rows/s, time left) and that the page polls it to done."""
    import datetime

    from django.utils import timezone

    now = timezone.now()
    job = ExportJob.objects.create(user=browser_org.manager, record_type="customer", format="xlsx",
                                   filename="customers-20260101.xlsx", status="running",
                                   started_at=now - datetime.timedelta(seconds=12), progress_at=now,
                                   rows_done=312_000, total_estimate=905_000)
    login(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/exports/{job.pk}/")
    expect(page.locator("[data-testid=export-progress]")).to_have_attribute("data-status", "running")
    shot("export-progress-running")
    page.goto(f"{live_server.url}/exports/")
    shot("my-exports-running")
    ExportJob.objects.filter(pk=job.pk).update(status="failed", error="The export stopped making progress.",
                                               finished_at=now)
    page.goto(f"{live_server.url}/exports/{job.pk}/")
    expect(page.locator("[data-testid=export-error]")).to_be_visible()


def test_the_whole_account_exported_by_an_administrator(page, live_server, browser_org, shot, tmp_path):
    """Issue 15: an administrator exports every record type at once (a customer leaving, an audit):
    My exports → Export the whole account → the job finishes → a zip of one workbook per type."""
    import io
    import json
    import zipfile

    make_customers(browser_org.manager, 3, "全量客户")
    base = live_server.url
    login(page, base, "admin")
    page.goto(f"{base}/exports/")
    shot("my-exports-account-button")
    page.click("[data-testid=export-account]")
    expect(page.locator("[data-testid=export-progress]")).to_have_attribute("data-status", "done", timeout=60_000)
    shot("export-account-done")
    with page.expect_download() as info:
        page.click("[data-testid=export-download]")
    path = tmp_path / "account.zip"
    info.value.save_as(path)
    assert info.value.suggested_filename.endswith(".zip")
    archive = zipfile.ZipFile(path)
    files = {f["record_type"]: f for f in json.loads(archive.read("manifest.json"))["files"]}
    assert files["customer"]["rows"] == Customer.objects.count() >= 3
    sheet = openpyxl.load_workbook(io.BytesIO(archive.read(files["customer"]["file"])), read_only=True).active
    assert sheet.max_row == 1 + files["customer"]["rows"]
