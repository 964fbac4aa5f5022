"""Import of products (issue 15): Chinese and Odoo headers, categories by name or path, the code as
the duplicate key (update or skip, never created twice), the form's rules on every row, undo."""

from decimal import Decimal

import pytest

from kehu.catalog.models import Product
from kehu.catalog.testing import make_category, make_product
from kehu.core.imports import jobs
from kehu.core.models import ImportJob
from kehu.core.testing.imports import csv_bytes, run

pytestmark = pytest.mark.django_db
HEADER = ["产品编码", "产品名称", "分类", "单价", "成本", "税率", "库存下限"]


def test_products_checked_imported_and_undone(org):
    phones = make_category("手机")
    make_category("配件", parent=phones)
    other = make_category("电脑")
    make_category("配件", parent=other)  # a second "配件": the path tells them apart
    rows = [HEADER,
            ["SJ-001", "旗舰手机", "手机", "¥4,999.00", "3200", "13", "5"],
            ["PJ-001", "手机壳", "手机/配件", "39", "12", "13", ""],
            ["PJ-002", "键盘", "配件", "199", "80", "13", ""],  # ambiguous name
            ["XX-001", "未知分类商品", "家电", "10", "5", "13", ""],  # no such category
            ["BAD-001", "价格错误", "手机", "abc", "10", "", ""],  # not a number; no tax rate: the default 13 %
            ["SJ-001", "重复行", "手机", "1", "1", "13", ""]]  # the same code again in the file
    job = run(org.supervisor, csv_bytes(rows), key="product", dry_only=True)
    assert (job.created, job.failed_rows, job.skipped) == (2, 3, 1), job.errors
    by_line = {e["line"]: e for e in job.errors}
    assert "path" in by_line[4]["message"] and "家电" in by_line[5]["message"]
    assert by_line[6]["column"] == "单价" and len([e for e in job.errors if e["line"] == 6]) == 1
    assert not Product.objects.exists()
    job = run(org.supervisor, csv_bytes(rows), key="product")
    assert job.status == ImportJob.Status.DONE and job.created == 2
    phone = Product.objects.get(code="SJ-001")
    assert (phone.name, phone.category, phone.list_price, phone.cost) == ("旗舰手机", phones, Decimal("4999.00"),
                                                                          Decimal("3200"))
    assert phone.low_stock_threshold == 5 and Product.objects.get(code="PJ-001").category.parent == phones
    assert "qjsj" in phone.search_text or "旗舰" in phone.search_text  # as Product.save fills it
    jobs.undo(job, org.supervisor)
    assert not Product.objects.exists()


def test_a_known_code_is_updated_or_skipped_never_created_twice(org):
    make_product(org.supervisor, "旧名字", code="SJ-001", list_price=Decimal("100.00"))
    # Odoo's export columns
    rows = [["default_code", "name", "list_price", "standard_price"], ["SJ-001", "新名字", "120", "90"],
            ["SJ-002", "新产品", "50", "20"]]
    job = run(org.supervisor, csv_bytes(rows), key="product", duplicates="create")  # "create anyway"
    assert (job.created, job.skipped, job.failed_rows) == (1, 1, 0), job.errors
    assert Product.objects.filter(code="SJ-001").count() == 1
    assert job.duplicates_found[0]["label"].startswith("SJ-001")
    job = run(org.supervisor, csv_bytes(rows), key="product", duplicates="update")
    assert (job.updated, job.created) == (2, 0)  # SJ-002 is known now too
    updated = Product.objects.get(code="SJ-001")
    assert (updated.name, updated.list_price) == ("新名字", Decimal("120.00"))
    jobs.undo(job, org.supervisor)
    updated.refresh_from_db()
    assert (updated.name, updated.list_price) == ("旧名字", Decimal("100.00"))


def test_the_right_to_create_products_is_needed(org):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        run(org.manager, csv_bytes([HEADER, ["SJ-009", "手机", "", "1", "1", "13", ""]]), key="product")
