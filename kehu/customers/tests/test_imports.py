"""Imports of customers (with their primary contact) and contacts (issue 15): the engine from
upload to undo, duplicates, coercion through the forms, presets, the export round trip, rights
and the API. Every file is written by the test itself."""

import csv
import io

import openpyxl
import pytest

from kehu.core.imports import jobs
from kehu.core.models import ImportJob
from kehu.customers.models import Contact, Customer


def csv_bytes(rows, encoding="utf-8", delimiter=","):
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows, merges=()):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for ref in merges:
        sheet.merge_cells(ref)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def run(user, data, filename="客户.csv", key="customer", *, duplicates="skip", mode="good", mapping=None,
        value_map=None, preset="", dry_only=False):
    job = jobs.create(user, key, filename, data=data, preset=preset)
    if mapping:
        job.mapping = {**job.mapping, **mapping}
    if value_map:
        job.value_map = value_map
    job.duplicates, job.mode = duplicates, mode
    job.save()
    jobs.start(job, dry_run=True)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED, job.error
    if dry_only:
        return job
    jobs.start(job, dry_run=False)
    job.refresh_from_db()
    return job


HEADER = ["客户名称", "行业", "电话", "邮箱", "联系人", "手机", "首次联系", "员工数", "年营业额", "标签"]


@pytest.mark.django_db(transaction=True)
def test_gbk_csv_with_a_title_row_checked_then_imported_then_undone(org):
    rows = [["2026年客户名单（请勿修改表头）"], [],
            HEADER,
            ["华东精密机械有限公司", "制造业", "1.38123456789E10", "sales@huadong.cn", "王伟", "13912345678",
             "2026年1月5日", "1,200", "¥12,345,678.50", "重点, 华东"],
            ["", "制造业", "13800000000", "", "", "", "", "", "", ""],  # no name
            ["北方物流集团", "Logistics", "021-62345678", "info@north.cn", "李娜", "13987654321", "46027", "３０",
             "", ""],
            ["南方零售", "零售", "not a phone", "", "", "", "", "", "", ""]]
    data = csv_bytes(rows, "gb18030")
    job = run(org.manager, data, dry_only=True)
    assert job.encoding == "gb18030" and job.header_line == 3
    assert (job.rows_total, job.created, job.failed_rows) == (4, 2, 2), job.errors
    assert Customer.objects.count() == 0  # a dry run writes nothing
    lines = {e["line"] for e in job.errors}
    assert lines == {5, 7}
    assert any(e["column"] == "电话" for e in job.errors if e["line"] == 7)
    jobs.start(job, dry_run=False)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.created, job.failed_rows) == (2, 2)
    c = Customer.objects.get(name="华东精密机械有限公司")
    assert c.phone == "+8613812345678" and c.industry.code == "manufacturing"
    assert str(c.first_contact_date) == "2026-01-05" and c.employees == 1200
    assert str(c.annual_revenue) == "12345678.50" and c.owner == org.manager
    assert c.number.startswith("KH") and "huadong" in c.search_text and "王伟" in c.search_text
    assert sorted(t.name for t in c.tags) == ["华东", "重点"]
    contact = c.contacts.get()
    assert (contact.name, contact.mobile, contact.is_primary, contact.owner_id) == ("王伟", "+8613912345678", True,
                                                                                     org.manager.pk)
    north = Customer.objects.get(name="北方物流集团")
    assert north.industry.code == "logistics" and north.employees == 30
    assert str(north.first_contact_date) == "2026-01-05"
    result = jobs.undo(job, org.manager)
    assert result["removed"] == 2
    assert not Customer.all_objects.exists() and not Contact.all_objects.exists()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UNDONE
