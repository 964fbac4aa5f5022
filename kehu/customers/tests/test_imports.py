"""Imports of customers (with their primary contact) and contacts (issue 15): the engine from
upload to undo, duplicates, coercion through the forms, presets, the export round trip, rights
and the API. Every file is written by the test itself."""

import json

import openpyxl
import pytest
from django.test import TestCase
from django.utils import translation

from kehu.core.imports import jobs
from kehu.core.models import DictItem, ImportJob
from kehu.core.testing.imports import csv_bytes, run, start, xlsx_bytes  # noqa: F401
from kehu.customers.models import Contact, Customer
from kehu.customers.testing import make_contact, make_customer

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
    assert c.name_key == "华东精密机械"  # as save() fills it: the scan's similar names see imported customers
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
    with pytest.raises(Exception, match="All or nothing"), translation.override("en"):
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


# Each CRM's export layout, as its export writes it (the columns and their order; values made up)
CRM_CUSTOMERS = {
    "salesforce": (["Account ID", "Account Name", "Type", "Industry", "Phone", "Website", "Billing Street",
                    "Billing City", "Billing State/Province", "Billing Country", "Annual Revenue", "Employees",
                    "Description", "Account Owner"],
                   ["0015g00000ABCDE", "Acme Trading Ltd", "Potential", "Manufacturing", "(021) 6234 5678",
                    "https://acme.example.com", "1 Nanjing Road", "Shanghai", "Shanghai", "China", "$1,500,000",
                    "250", "Key account", "manager"]),
    "odoo": (["Display Name", "Phone", "Mobile", "Email", "Website", "Street", "City", "State", "Country",
              "Salesperson", "Tags"],
             ["Acme Trading Ltd", "+86 21 6234 5678", "+86 139 1234 5678", "info@acme.example.com",
              "https://acme.example.com", "1 Nanjing Road", "Shanghai", "Shanghai (CN)", "China", "manager",
              "VIP,Shanghai"]),
    "hubspot": (["Record ID", "Company name", "Company Domain Name", "Phone Number", "Industry", "City",
                 "State/Region", "Country/Region", "Number of Employees", "Annual Revenue", "Company owner"],
                ["9876543", "Acme Trading Ltd", "acme.example.com", "021-62345678", "Manufacturing", "Shanghai",
                 "Shanghai", "China", "250", "1500000", "manager"]),
    "zoho": (["Record Id", "Account Owner", "Account Name", "Phone", "Website", "Account Type", "Industry",
              "Employees", "Annual Revenue", "Billing City", "Billing State", "Billing Country", "Description"],
             ["zcrm_4000000012345", "manager", "Acme Trading Ltd", "021 6234 5678", "https://acme.example.com",
              "Potential", "Manufacturing", "250", "1,500,000.00", "Shanghai", "Shanghai", "China", "Key account"]),
    "krayin": (["ID", "Name", "Address", "Sales Owner"],
               ["12", "Acme Trading Ltd", "1 Nanjing Road, Shanghai", "manager"]),
    "generic": (["序号", "公司名称", "所属行业", "座机", "联系人", "手机号码", "职务", "负责人", "备注"],
                ["1", "Acme Trading Ltd", "制造业", "021-62345678", "王伟", "13912345678", "采购经理", "manager",
                 "重点客户"]),
}

CRM_CONTACTS = {
    "salesforce": (["Contact ID", "First Name", "Last Name", "Account Name", "Title", "Email", "Phone", "Mobile"],
                   ["0035g0000", "Wei", "Wang", "Acme Trading Ltd", "Buyer", "wang@acme.example.com",
                    "021-62345678", "13912345678"]),
    "odoo": (["Name", "Related Company", "Job Position", "Email", "Phone", "Mobile"],
             ["Wang Wei", "Acme Trading Ltd", "Buyer", "wang@acme.example.com", "021-62345678", "13912345678"]),
    "hubspot": (["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number", "Job Title",
                 "Company Name"],
                ["501", "Wei", "Wang", "wang@acme.example.com", "021-62345678", "13912345678", "Buyer",
                 "Acme Trading Ltd"]),
    "zoho": (["Record Id", "First Name", "Last Name", "Account Name", "Email", "Phone", "Mobile", "Title"],
             ["zcrm_1", "Wei", "Wang", "Acme Trading Ltd", "wang@acme.example.com", "021-62345678", "13912345678",
              "Buyer"]),
    "krayin": (["ID", "Name", "Emails", "Contact Numbers", "Organization", "Job Title"],
               ["3", "Wang Wei", "wang@acme.example.com, w.wang@example.org", "13912345678, 02162345678",
                "Acme Trading Ltd", "Buyer"]),
    "generic": (["姓名", "所属客户", "手机", "邮箱", "职位"],
                ["Wang Wei", "Acme Trading Ltd", "13912345678", "wang@acme.example.com", "Buyer"]),
}


@pytest.mark.django_db
@pytest.mark.parametrize("preset", list(CRM_CUSTOMERS))
def test_each_crm_preset_imports_its_customer_export(org, preset):
    header, row = CRM_CUSTOMERS[preset]
    job = run(org.manager, csv_bytes([header, row]), f"{preset}.csv", preset=preset)
    assert (job.created, job.failed_rows) == (1, 0), job.errors
    c = Customer.objects.get()
    assert c.name == "Acme Trading Ltd" and c.owner == org.manager
    if preset != "krayin":
        assert c.phone.startswith("+86")
    if preset in ("salesforce", "hubspot", "zoho", "generic"):
        assert c.industry.code == "manufacturing"
    if preset in ("salesforce", "hubspot", "zoho"):
        assert (c.employees, str(c.annual_revenue)) == (250, "1500000.00")
    if preset == "odoo":
        assert {t.name for t in c.tags} == {"VIP", "Shanghai"}
    if preset == "generic":
        contact = c.contacts.get()
        assert (contact.name, contact.title, contact.is_primary) == ("王伟", "采购经理", True)
    unmapped = {job.headers[int(i)] for i in job.mapping} ^ set(header)
    assert unmapped <= {"Account ID", "Record ID", "Record Id", "ID", "序号", "Company Domain Name", "Website",
                        "Billing Street", "Street", "Mobile"}


@pytest.mark.django_db
@pytest.mark.parametrize("preset", list(CRM_CONTACTS))
def test_each_crm_preset_imports_its_contact_export(org, preset):
    customer = make_customer(org.manager, "Acme Trading Ltd")
    header, row = CRM_CONTACTS[preset]
    job = run(org.manager, csv_bytes([header, row]), f"{preset}-contacts.csv", key="contact", preset=preset)
    assert (job.created, job.failed_rows) == (1, 0), job.errors
    contact = Contact.objects.get()
    assert (contact.customer, contact.name, contact.mobile) == (customer, "Wei Wang" if preset in (
        "salesforce", "hubspot", "zoho") else "Wang Wei", "+8613912345678")
    assert contact.email == "wang@acme.example.com"
    if preset != "generic":
        assert contact.title == "Buyer"


@pytest.mark.django_db
def test_export_then_import_reproduces_customers_and_contacts(org):
    """Export (the list's CSV and XLSX writers, with the import's column names) -> delete -> import:
    the same records, dictionary values, custom fields and tags."""
    import datetime
    from decimal import Decimal

    from kehu.core import export
    from kehu.core.exports_jobs import export_columns
    from kehu.core.models import CustomField
    from kehu.core.registry import registry

    CustomField.objects.create(record_type="customers.customer", name="erp_code", label="ERP编码",
                               label_en="ERP code", field_type="text")
    CustomField.objects.create(record_type="customers.customer", name="credit", label="信用额度",
                               label_en="Credit limit", field_type="decimal")
    CustomField.objects.create(record_type="customers.contact", name="hobby", label="爱好", label_en="Hobby",
                               field_type="text")
    from kehu.core import customfields

    customfields._CACHE.clear()
    industry = DictItem.objects.get(kind="industry", code="finance")
    level = DictItem.objects.get(kind="customer_level", code="vip")
    a = make_customer(org.manager, "往返测试甲公司", phone="13812345678", email="a@example.com", industry=industry,
                      level=level, grade="A", status="dormant", employees=12, annual_revenue=Decimal("1234.50"),
                      first_contact_date=datetime.date(2026, 1, 5), notes="第一行\n第二行",
                      custom_fields={"erp_code": "=ERP-001", "credit": "5000.5"})
    a.set_tags(["重点", "华东"])
    b = make_customer(org.manager, "Round Trip Ltd", phone="+41 44 123 45 67", website="https://rt.example.com")
    make_contact(a, "王伟", mobile="13912345678", email="ww@example.com", gender="male", is_primary=True,
                 birthday=datetime.date(1985, 3, 2), custom_fields={"hobby": "围棋"})
    make_contact(b, "Mary Turner", phone="+41 44 123 45 68", title="CEO")

    fields = ["name", "phone", "email", "website", "industry_id", "level_id", "grade", "status", "employees",
              "annual_revenue", "first_contact_date", "notes", "custom_fields", "owner_id"]
    contact_fields = ["name", "mobile", "phone", "email", "gender", "birthday", "title", "is_primary",
                      "custom_fields", "customer__name", "owner_id"]
    before = sorted(Customer.objects.values_list(*fields))
    before_tags = {c.name: {t.name for t in c.tags} for c in Customer.objects.all()}
    before_contacts = sorted(Contact.objects.values_list(*contact_fields))

    for fmt in ("csv", "xlsx"):
        with translation.override("zh-hans"):
            rt = registry.get("customer")
            path = export.exports_dir() / f"customers.{fmt}"
            qs = rt.visible(org.manager)
            (export.write_csv if fmt == "csv" else export.write_xlsx)(path, qs, export_columns(rt),
                                                                      *(["客户"] if fmt == "xlsx" else []))
            crt = registry.get("contact")
            cpath = export.exports_dir() / f"contacts.{fmt}"
            (export.write_csv if fmt == "csv" else export.write_xlsx)(
                cpath, crt.visible(org.manager), export_columns(crt), *(["联系人"] if fmt == "xlsx" else []))
        Contact.all_objects.all().delete()
        Customer.all_objects.all().delete()
        job = run(org.manager, path.read_bytes(), f"customers.{fmt}")
        assert (job.created, job.failed_rows) == (2, 0), job.errors
        job = run(org.manager, cpath.read_bytes(), f"contacts.{fmt}", key="contact")
        assert (job.created, job.failed_rows) == (2, 0), job.errors
        assert sorted(Customer.objects.values_list(*fields)) == before, fmt
        assert {c.name: {t.name for t in c.tags} for c in Customer.objects.all()} == before_tags
        assert sorted(Contact.objects.values_list(*contact_fields)) == before_contacts, fmt


@pytest.mark.django_db
def test_api_upload_check_import_and_undo(org):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from kehu.core.testing.factories import auth

    client = Client(**auth(org.manager))
    rows = [["Company", "Phone", "Ignored"], ["API 甲公司", "13812345678", "x"], ["", "13800000000", "y"]]
    upload = SimpleUploadedFile("api.csv", csv_bytes(rows, "utf-16"), content_type="text/csv")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/api/v1/imports/", {"file": upload, "record_type": "customer",
                                                    "mapping": json.dumps({"Ignored": ""})})
    assert response.status_code == 201, response.content
    body = response.json()
    job_id = body["id"]
    assert body["status"] == "queued"  # the check runs in the worker: poll
    body = client.get(f"/api/v1/imports/{job_id}").json()
    assert (body["status"], body["created"], body["bad_rows"]) == ("checked", 1, 1)
    assert body["errors"][0]["line"] == 3 and body["mapping"] == {"0": "name", "1": "phone"}
    assert Customer.objects.count() == 0
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(f"/api/v1/imports/{job_id}/run").status_code == 200
    assert client.get(f"/api/v1/imports/{job_id}").json()["status"] == "done"
    assert Customer.objects.filter(name="API 甲公司").exists()
    # another user's job is a 404; the undo is the importer's
    other = Client(**auth(org.manager2))
    assert other.get(f"/api/v1/imports/{job_id}").status_code == 404
    assert other.post(f"/api/v1/imports/{job_id}/undo").status_code == 404
    assert client.post(f"/api/v1/imports/{job_id}/undo").json() == {"removed": 1, "restored": 0, "kept": 0}
    assert client.post(f"/api/v1/imports/{job_id}/undo").status_code == 422
    assert not Customer.objects.exists()
    # one step, no check; bad input named; no right
    upload = SimpleUploadedFile("api.csv", csv_bytes(rows), content_type="text/csv")
    with TestCase.captureOnCommitCallbacks(execute=True):
        body = client.post("/api/v1/imports/", {"file": upload, "record_type": "customer", "dry_run": "false"}).json()
    assert client.get(f"/api/v1/imports/{body['id']}").json()["created"] == 1
    for data, field in [({"record_type": "nothing"}, "record_type"), ({"record_type": "customer", "mode": "x"}, "mode"),
                        ({"record_type": "customer", "mapping": "[1]"}, "mapping"),
                        ({"record_type": "customer", "mapping": '{"Phone": "nope"}'}, "mapping")]:
        upload = SimpleUploadedFile("api.csv", csv_bytes(rows), content_type="text/csv")
        response = client.post("/api/v1/imports/", {"file": upload, **data})
        assert response.status_code == 422 and field in response.content.decode(), (data, response.content)
    upload = SimpleUploadedFile("api.pdf", b"%PDF", content_type="application/pdf")
    assert client.post("/api/v1/imports/", {"file": upload, "record_type": "customer"}).status_code == 422
    upload = SimpleUploadedFile("api.csv", csv_bytes(rows), content_type="text/csv")
    response = Client(**auth(org.executive)).post("/api/v1/imports/", {"file": upload, "record_type": "customer"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_rejected_values_xlsx_error_file_and_cancel(org):
    from kehu.core.imports import engine, files

    rows = [["客户导入"], ["客户名称", "行业", "电话", "首次联系"],
            ["甲公司", "半导体", 13812345678.0, 46027], ["乙公司", "制造业", "123", "2026-02-30"]]
    job = run(org.manager, xlsx_bytes(rows, merges=["A1:D1"]), "客户.xlsx", value_map={"industry": {"半导体": "reject"}},
              dry_only=True)
    assert job.header_line == 2 and job.failed_rows == 2 and job.unknown_values == {}
    assert job.errors_file.endswith(".xlsx")
    sheet = openpyxl.load_workbook(files.imports_dir() / job.errors_file, read_only=True).active
    got = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert got[0] == ["Line", "客户名称", "行业", "电话", "首次联系", "Reason"]
    assert got[1][:4] == [3, "甲公司", "半导体", "13812345678"] and "半导体" in got[1][-1]
    assert got[2][0] == 4 and "电话" in got[2][-1] and "首次联系" in got[2][-1]

    # cancel: a good-rows import sees its row; an all-or-nothing import its cancel file
    for mode in ("good", "all"):
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, mode=mode, dry_run=False)
        job.refresh_from_db()
        progress = engine.Progress(job, in_transaction=mode == "all")
        progress({"rows_done": 1}, force=True)
        assert jobs.cancel(job)
        with pytest.raises(engine.Cancelled):
            progress({"rows_done": 2}, force=True)
        files.clear_run_files(job)


@pytest.mark.django_db
def test_saved_mapping_is_reused_and_pages_follow_the_rights(org):
    from django.test import Client

    rows = [["单位全称", "对接人手机"], ["甲公司", "13912345678"]]
    job = jobs.create(org.manager, "customer", "a.csv", data=csv_bytes(rows))
    assert job.mapping == {}  # neither name is known
    job.mapping = {"0": "name", "1": "contact_mobile"}
    job.save()
    jobs.save_mapping(job)
    again = jobs.create(org.manager, "customer", "b.csv", data=csv_bytes(rows))
    assert again.mapping == {"0": "name", "1": "contact_mobile"}
    assert jobs.create(org.manager2, "customer", "c.csv", data=csv_bytes(rows)).mapping == {}  # per user

    manager, other, executive = Client(), Client(), Client()
    manager.force_login(org.manager)
    other.force_login(org.manager2)
    executive.force_login(org.executive)
    assert manager.get(f"/imports/{job.pk}/").status_code == 200
    assert other.get(f"/imports/{job.pk}/").status_code == 404
    assert executive.get("/imports/new/?type=customer").status_code == 403
    assert manager.get("/imports/new/?type=nothing").status_code == 404
    assert 'data-testid="import-link"' in manager.get("/customers/").content.decode()
    assert 'data-testid="import-link"' not in executive.get("/customers/").content.decode()
    history = Client()
    history.force_login(org.admin)
    assert history.get("/imports/").status_code == 200
