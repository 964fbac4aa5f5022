"""XLSX export writes the data rows' sheet XML itself (kehu/core/export.py `_cell_writers`): the file
must read back with the same values and types as through xlsxwriter's own per-cell writers, for
every kind of column, and the sheet XML must be the very bytes xlsxwriter wrote."""

import datetime
import zipfile
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.utils import timezone

from kehu.core import export, exports_jobs
from kehu.core.models import CustomField
from kehu.core.registry import Column
from kehu.customers.models import Contact, Customer
from kehu.customers.testing import make_contact, make_customer

UTC = datetime.UTC
OLD = datetime.datetime(1900, 2, 28, 23, 59, tzinfo=UTC)  # around Excel's false 1900-02-29
SHANGHAI = ZoneInfo("Asia/Shanghai")
AWARE = datetime.datetime(2024, 5, 1, 2, 30, 15, tzinfo=UTC)  # 10:30 in Asia/Shanghai
TEXTS = ["普通客户有限公司", "=1+1", "+86 10 1234", "-5", "@SUM(A1)", "\tTab", "  padded  ", "a & b <c> \"d\"",
         "bell\x07char", "_x0041_ literal", "line\nbreak", "x" * 40_000,
         "x" * 32_766 + " " + "y" * 10]  # cut at 32,767 UTF-16 units: ends with a space


def reference_xlsx(path, queryset, columns):
    """The export as it was written before, through xlsxwriter's per-cell writers (the oracle)."""
    import xlsxwriter

    plan = export.Plan(queryset.model, columns)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                               "strings_to_urls": False, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("Export")
    bold = workbook.add_format({"bold": True})
    date_fmt = workbook.add_format({"num_format": "yyyy-mm-dd"})
    dt_fmt = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    money_fmt = workbook.add_format({"num_format": "#,##0.00"})
    for c, col in enumerate(plan.columns):
        sheet.write_string(0, c, str(col.label), bold)
        sheet.set_column(c, c, 18)
    tz = timezone.get_current_timezone()

    def write(r, c, kind, v):
        if v is None or v == "":
            return
        if kind == export.MONEY:  # xlsxwriter writes a Decimal's digits with {:.16G}: the same for cents
            sheet.write_number(r, c, v, money_fmt)
        elif kind == export.BOOL or (kind == export.OTHER and isinstance(v, bool)):
            sheet.write_boolean(r, c, v)
        elif kind == export.NUMBER or (kind == export.OTHER and isinstance(v, (int, float, Decimal))):
            sheet.write_number(r, c, v)
        elif isinstance(v, datetime.datetime):
            sheet.write_datetime(r, c, (v.astimezone(tz) if v.tzinfo else v).replace(tzinfo=None), dt_fmt)
        elif isinstance(v, datetime.date):
            sheet.write_datetime(r, c, datetime.datetime(v.year, v.month, v.day), date_fmt)
        else:
            sheet.write_string(r, c, export.safe_cell(v))

    r = 0
    for batch in plan.batches(queryset):
        for row in batch:
            r += 1
            for c, v in enumerate(row):
                write(r, c, plan.kinds[c] if not plan.objects_needed else export.OTHER, v)
    workbook.close()


def parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}  # core.xml: a timestamp


@pytest.fixture
def customers(org):
    CustomField.objects.create(record_type="customers.customer", name="vip", label="重点", field_type="boolean")
    CustomField.objects.create(record_type="customers.customer", name="budget", label="预算", field_type="decimal")
    CustomField.objects.create(record_type="customers.customer", name="code", label="编码", field_type="text")
    made = [make_customer(org.manager, f"客户{i}有限公司") for i in range(3)]  # empty optional fields
    for i, text in enumerate(TEXTS):
        made.append(make_customer(
            org.manager, text[:200], address=text[:300], notes=text, employees=i, grade="A",
            annual_revenue=Decimal("1234567890123.45"), deal_amount=Decimal("0.10"),
            first_contact_date=datetime.date(2024, 5, 1), signed_on=datetime.date(1900, 2, 28),
            custom_fields={"vip": bool(i % 2), "budget": 12.5, "code": text[:50]}))
    Customer.objects.filter(pk__in=[c.pk for c in made[3:]]).update(
        created_at=AWARE, updated_at=OLD)
    return made


def test_xlsx_reads_back_the_same_values_and_types(org, customers, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 4)  # several batches
    rt = exports_jobs.registry.get("customer")
    columns = exports_jobs.export_columns(rt)
    qs = Customer.objects.all()
    with timezone.override("Asia/Shanghai"):
        assert export.write_xlsx(tmp_path / "new.xlsx", qs, columns) == len(customers)
        reference_xlsx(tmp_path / "old.xlsx", qs, columns)
    new, old = parts(tmp_path / "new.xlsx"), parts(tmp_path / "old.xlsx")
    assert new.keys() == old.keys()
    for name in new:
        assert new[name] == old[name], name  # the sheet's XML and the styles: byte for byte
    sheet_xml = new["xl/worksheets/sheet1.xml"].decode()
    assert "<v>1234567890123.45</v>" in sheet_xml and "<v>0.10</v>" in sheet_xml  # money: exact digits

    book = openpyxl.load_workbook(tmp_path / "new.xlsx")
    rows = list(book.active.iter_rows())
    header = [c.value for c in rows[0]]
    assert header == [str(c.label) for c in columns]
    assert len(rows) == 1 + len(customers)

    def cell(row, name):
        return rows[row][[c.name for c in columns].index(name)]

    empty = 1  # a customer without optional values: empty cells, no type
    for name in ("address", "employees", "annual_revenue", "first_contact_date", "signed_on", "cf_vip"):
        assert cell(empty, name).value is None, name
    for i, text in enumerate(TEXTS, start=4):
        name = cell(i, "name")
        assert name.data_type == "s"  # text, never a formula
        stored = customers[i - 1].name  # as saved (a form strips spaces and tabs)
        if stored.startswith(("=", "+", "-", "@")):
            assert name.value == "'" + stored
        elif "\x07" not in stored and "_x0041_" not in stored:
            assert name.value == stored
        assert cell(i, "notes").data_type == "s" and len(cell(i, "notes").value) >= min(len(text), 32_767)
        assert cell(i, "grade").value == "A" or cell(i, "grade").value  # a choice's label: text
        number = cell(i, "employees")
        assert number.value == i - 4 and number.data_type == "n" and isinstance(number.value, int)
        money = cell(i, "annual_revenue")
        assert money.data_type == "n" and money.value == pytest.approx(1234567890123.45, abs=0)
        assert cell(i, "deal_amount").value == 0.1
        date = cell(i, "first_contact_date")
        assert date.value == datetime.datetime(2024, 5, 1) and date.number_format == "yyyy-mm-dd"
        assert cell(i, "signed_on").value == datetime.datetime(1900, 2, 28)  # before Excel's 1900-02-29
        moment = cell(i, "created_at")
        assert moment.value == datetime.datetime(2024, 5, 1, 10, 30, 15)
        assert moment.number_format == "yyyy-mm-dd hh:mm"
        assert cell(i, "updated_at").value == OLD.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)
        vip = cell(i, "cf_vip")
        assert vip.data_type == "b" and vip.value is bool((i - 4) % 2)
        assert cell(i, "cf_budget").value == 12.5 and cell(i, "cf_budget").data_type == "n"
        assert cell(i, "cf_code").data_type == "s"
    assert cell(4 + TEXTS.index("  padded  "), "notes").value == "  padded  "  # whitespace kept
    assert cell(4 + TEXTS.index("a & b <c> \"d\""), "name").value == "a & b <c> \"d\""


def test_xlsx_boolean_field_and_object_columns(org, tmp_path):
    customer = make_customer(org.manager, "联系人客户有限公司")
    make_contact(customer, "张三", is_primary=True, birthday=datetime.date(1990, 2, 3))
    make_contact(customer, "=李四", is_primary=False)
    columns = [Column("name", "姓名"), Column("is_primary", "主联系人"), Column("birthday", "生日"),
               Column("customer", "客户"), Column("upper", "大写", accessor=lambda o: o.name.upper())]
    for cols in (columns[:4], columns):  # field rows, then model instances (an accessor column)
        with timezone.override("Asia/Shanghai"):
            export.write_xlsx(tmp_path / "new.xlsx", Contact.objects.all(), cols)
            reference_xlsx(tmp_path / "old.xlsx", Contact.objects.all(), cols)
        assert parts(tmp_path / "new.xlsx") == parts(tmp_path / "old.xlsx")
        rows = list(openpyxl.load_workbook(tmp_path / "new.xlsx").active.iter_rows(values_only=True))
        assert rows[1][:4] == ("张三", True, datetime.datetime(1990, 2, 3), "联系人客户有限公司")
        assert rows[2][:4] == ("'=李四", False, None, "联系人客户有限公司")


def test_xml_lookalike_text_is_text(org, tmp_path):
    """xlsxwriter wrote a text of the form <r>…</r> into the sheet unescaped (as rich text, or a
    broken file); the export writes it as the text it is."""
    make_customer(org.manager, "<r><t>x</t></r>")
    export.write_xlsx(tmp_path / "x.xlsx", Customer.objects.all(), [Column("name", "名称")])
    assert openpyxl.load_workbook(tmp_path / "x.xlsx").active["A2"].value == "<r><t>x</t></r>"
