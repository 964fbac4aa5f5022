"""Imports of customers (with their primary contact) and contacts (issue 15): the engine from
upload to undo, duplicates, coercion through the forms, presets, the export round trip, rights
and the API. Every file is written by the test itself."""

import csv
import io

import openpyxl
import pytest
from django.test import TestCase
from django.utils import translation

from kehu.core.imports import jobs
from kehu.core.models import DictItem, ImportJob
from kehu.customers.models import Contact, Customer
from kehu.customers.testing import make_contact, make_customer


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


def start(job, dry_run):
    """jobs.start enqueues on commit: the test's transaction never commits, so run the callbacks."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        jobs.start(job, dry_run=dry_run)
    job.refresh_from_db()
    return job


def run(user, data, filename="客户.csv", key="customer", *, duplicates="skip", mode="good", mapping=None,
        value_map=None, preset="", dry_only=False):
    with translation.override("en"):  # the job's language: its messages are in English
        job = jobs.create(user, key, filename, data=data, preset=preset)
    if mapping:
        job.mapping = {**job.mapping, **mapping}
    if value_map:
        job.value_map = value_map
    job.duplicates, job.mode = duplicates, mode
    job.save()
    start(job, True)
    assert job.status == ImportJob.Status.CHECKED, job.error
    if dry_only:
        return job
    start(job, False)
    return job


HEADER = ["客户名称", "行业", "电话", "邮箱", "联系人", "手机", "首次联系", "员工数", "年营业额", "标签"]


@pytest.mark.django_db
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
    start(job, False)
    assert job.status == ImportJob.Status.DONE, job.error
    assert (job.created, job.failed_rows) == (2, 2)
    c = Customer.objects.get(name="华东精密机械有限公司")
    assert c.phone == "+8613812345678" and c.industry.code == "manufacturing"
    assert str(c.first_contact_date) == "2026-01-05" and c.employees == 1200
    assert str(c.annual_revenue) == "12345678.50" and c.owner == org.manager
    assert c.number.startswith("KH") and "huadong" in c.search_text and "王伟" in c.search_text
    assert {t.name for t in c.tags} == {"华东", "重点"}
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


@pytest.mark.django_db
def test_duplicates_in_the_database_and_in_the_file_skip_update_create(org):
    old = make_customer(org.manager, "华东精密机械有限公司", phone="13812345678", email="old@huadong.cn")
    make_contact(old, "王伟", mobile="13912345678")
    other = make_customer(org.manager2, "别组的客户", phone="13700000000")  # outside the manager's scope
    rows = [HEADER,
            ["华东精密机械有限公司", "", "", "", "", "", "", "", "", ""],  # same name
            ["新名字有限公司", "", "138 1234 5678", "", "", "", "", "", "", ""],  # same phone (typed otherwise)
            ["另一家", "", "", "OLD@huadong.cn", "", "", "", "", "", ""],  # same e-mail, other case
            ["第四家", "", "", "", "张三", "13912345678", "", "", "", ""],  # a contact's mobile
            ["第五家", "", "13700000000", "", "", "", "", "", "", ""],  # outside the scope
            ["文件内重复", "", "13600000001", "", "", "", "", "", "", ""],
            ["文件内重复二", "", "13600000001", "", "", "", "", "", "", ""]]  # same phone as the line above
    data = csv_bytes(rows)
    job = run(org.manager, data, dry_only=True)
    assert (job.created, job.skipped, job.duplicate_rows, job.failed_rows) == (1, 6, 6, 0)
    by_line = {d["line"]: d for d in job.duplicates_found}
    assert by_line[2]["id"] == old.pk and "same name" in by_line[2]["reasons"][0]
    assert by_line[3]["id"] == old.pk and by_line[4]["id"] == old.pk and by_line[5]["id"] == old.pk
    assert by_line[6]["id"] is None and "outside your data scope" in by_line[6]["label"]  # no name shown
    assert "别组" not in by_line[6]["label"]
    assert by_line[8]["label"] == "line 7 of this file"

    job = run(org.manager, data, duplicates="create")
    assert (job.created, job.skipped) == (7, 0)
    jobs.undo(job, org.manager)
    assert Customer.objects.count() == 2

    update = [HEADER, ["华东精密机械有限公司", "信息技术", "", "", "", "", "", "", "", "升级, 华东"],
              ["第五家", "", "13700000000", "", "", "", "", "", "", ""]]
    job = run(org.manager, csv_bytes(update), duplicates="update")
    assert (job.updated, job.skipped, job.created) == (1, 1, 0)  # another's customer is never updated
    old.refresh_from_db()
    assert old.industry.code == "it" and old.phone == "+8613812345678"  # unmapped... kept
    assert {t.name for t in old.tags} == {"华东", "升级"}
    other.refresh_from_db()
    assert other.name == "别组的客户"
    result = jobs.undo(job, org.manager)
    assert result == {"removed": 0, "restored": 1, "kept": 0}
    old.refresh_from_db()
    assert old.industry is None and old.tags == [] and old.email == "old@huadong.cn"


@pytest.mark.django_db
def test_all_or_nothing_imports_nothing_when_a_row_is_bad(org):
    rows = [HEADER, ["好客户一", "", "", "", "", "", "", "", "", ""], ["坏客户", "", "12", "", "", "", "", "", "", ""]]
    job = run(org.manager, csv_bytes(rows), mode="all", dry_only=True)
    assert job.failed_rows == 1 and not job.may_import
    with pytest.raises(Exception, match="All or nothing"):
        start(job, False)
    # the file changed between check and import: the import itself rolls back
    job.failed_rows = 0
    job.save()
    start(job, False)
    assert job.status == ImportJob.Status.FAILED and "nothing was imported" in job.error
    assert Customer.objects.count() == 0 and job.created == 0


@pytest.mark.django_db
def test_unknown_dictionary_values_mapped_added_or_rejected(org):
    rows = [["客户名称", "行业", "客户来源"], ["甲公司", "半导体", "展会"], ["乙公司", "Semiconductors", "抖音"],
            ["丙公司", "制造", "抖音"]]
    job = run(org.manager, csv_bytes(rows), dry_only=True)
    assert job.failed_rows == 3
    assert job.unknown_values == {"industry": ["半导体", "Semiconductors", "制造"], "source": ["抖音"]}
    it = DictItem.objects.get(kind="industry", code="it")
    manufacturing = DictItem.objects.get(kind="industry", code="manufacturing")
    job.value_map = {"industry": {"半导体": it.pk, "semiconductors": it.pk, "制造": manufacturing.pk},
                     "source": {"抖音": "new"}}
    job.save()
    start(job, True)
    # an account manager may not add to the dictionary: 抖音 stays unknown
    assert job.failed_rows == 2 and job.unknown_values == {"source": ["抖音"]}
    job.user = org.admin
    job.save()
    start(job, True)
    assert job.failed_rows == 0
    start(job, False)
    assert job.created == 3
    douyin = DictItem.objects.get(kind="customer_source", label="抖音")
    assert set(Customer.objects.values_list("industry__code", "source_id")) == {
        ("it", DictItem.objects.get(kind="customer_source", code="exhibition").pk), ("it", douyin.pk),
        ("manufacturing", douyin.pk)}


@pytest.mark.django_db
def test_contacts_import_finds_their_customers_in_scope(org):
    mine = make_customer(org.manager, "华东精密机械有限公司")
    make_customer(org.manager2, "别组的客户")
    make_customer(org.manager, "同名公司")
    make_customer(org.manager, "同名公司")
    existing = make_contact(mine, "老联系人", mobile="13911112222")
    rows = [["姓名", "客户", "手机", "邮箱", "生日", "主联系人", "性别"],
            ["王伟", "华东精密机械有限公司", "13912345678", "ww@huadong.cn", "1985/3/2", "是", "男"],
            ["李娜", mine.number, "", "", "", "否", "Female"],
            ["赵六", "别组的客户", "", "", "", "", ""],
            ["钱七", "同名公司", "", "", "", "", ""],
            ["老联系人", "华东精密机械有限公司", "139 1111 2222", "", "", "", ""]]
    job = run(org.manager, csv_bytes(rows), "联系人.csv", key="contact")
    assert (job.created, job.failed_rows, job.skipped) == (2, 2, 1), job.errors
    messages = {e["line"]: e["message"] for e in job.errors}
    assert "No customer" in messages[4] and "Several customers" in messages[5]
    ww = Contact.objects.get(name="王伟")
    assert (ww.customer_id, ww.is_primary, ww.gender, str(ww.birthday), ww.owner_id) == (
        mine.pk, True, "male", "1985-03-02", org.manager.pk)
    assert Contact.objects.get(name="李娜").gender == "female"
    mine.refresh_from_db()
    assert "王伟" in mine.search_text and "李娜" in mine.search_text
    assert existing.pk in {d["id"] for d in job.duplicates_found}


@pytest.mark.django_db
def test_rights_import_needs_the_create_right_and_undo_the_importer_or_an_administrator(org):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        jobs.create(org.executive, "customer", "a.csv", data=csv_bytes([HEADER]))
    job = run(org.manager, csv_bytes([HEADER, ["甲公司"] + [""] * 9]))
    assert jobs.may_undo(org.manager, job) and jobs.may_undo(org.admin, job)
    assert not jobs.may_undo(org.manager2, job) and not jobs.may_undo(org.supervisor, job)
