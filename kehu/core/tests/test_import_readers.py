"""Import files (issue 15): encodings, delimiters, header rows, merged header cells, .xls, and the
coercion of cells (float phones, Excel dates, numbers, full-width forms, yes/no). The files are
written by the tests."""

import csv
import datetime
import io

import openpyxl
import pytest

from kehu.core.imports import coerce, readers

ROWS = [["客户名称", "电话", "备注"],
        ["北京华联商贸", "13812345678", "多行\n备注"],
        ["Café Zürich AG", "+41 44 123 45 67", "naïve"],
        ["臺灣電子公司", "02-2345-6789", ""]]


def write_csv(tmp_path, rows, encoding, delimiter=",", name="t.csv"):
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path = tmp_path / name
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def read_all(path, fmt="csv"):
    table = readers.open_table(path, fmt)
    return table, [(line, [readers.cell_text(v) for v in row]) for line, row in table.rows()]


@pytest.mark.parametrize("encoding,expected,rows", [
    ("utf-8", "utf-8", ROWS),
    ("utf-8-sig", "utf-8-sig", ROWS),
    ("utf-16", "utf-16", ROWS),
    ("gbk", "gb18030", [r for r in ROWS if "Café" not in r[0] and "臺灣" not in r[0]]),
    ("gb18030", "gb18030", [r for r in ROWS if "Café" not in r[0] and "臺灣" not in r[0]] + [["㐀㐁企业", "", ""]]),
    ("big5", "big5", [["客戶名稱", "電話", "備註"], ["臺灣電子股份有限公司", "02-2345-6789", "總經理親自洽談"],
                      ["高雄港務物流", "07-5551234", "請於週一來電聯繫業務部門"]]),
    ("cp1252", "cp1252", [["Customer", "Phone", "Notes"], ["Café Zürich AG", "+41 44 123 45 67", "naïve façade"],
                          ["Señor Muñoz SA", "+34 91 123 45 67", "Über grün"]]),
])
def test_encodings_are_detected(tmp_path, encoding, expected, rows):
    path = write_csv(tmp_path, rows, encoding)
    table, read = read_all(path)
    assert table.encoding == expected
    assert table.headers == rows[0]
    assert [r for _line, r in read] == [list(r) for r in rows[1:]]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_and_quoted_newlines(tmp_path, delimiter):
    path = write_csv(tmp_path, ROWS, "utf-8", delimiter)
    table, read = read_all(path)
    assert table.delimiter == delimiter
    assert read[0][1][2] == "多行\n备注"
    # the line numbers are the spreadsheet's: the quoted newline makes the next record start on line 4
    assert [line for line, _r in read] == [2, 4, 5]


def test_header_below_title_and_instruction_rows_and_trailing_empty_columns(tmp_path):
    rows = [["2026 年第一季度客户名单", "", "", "", ""],
            ["说明：请勿修改表头；电话填手机或座机", "", "", "", ""],
            ["", "", "", "", ""],
            ["客户名称", "电话", "行业", "", ""],
            ["华东机械", "13812345678", "制造业", "", ""],
            ["", "", "", "", ""],
            ["西南能源", "13912345678", "能源电力", "", ""]]
    path = write_csv(tmp_path, rows, "utf-8")
    table, read = read_all(path)
    assert table.header_line == 4
    assert table.headers == ["客户名称", "电话", "行业"]
    assert read == [(5, ["华东机械", "13812345678", "制造业"]), (7, ["西南能源", "13912345678", "能源电力"])]


def test_xlsx_header_found_merged_cells_filled_across_and_typed_cells(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["客户导入模板"])
    sheet.append(["客户名称", "联系电话", None, "首次联系"])
    sheet.append(["华东机械", 13812345678.0, 2105551234, datetime.datetime(2026, 1, 5)])
    sheet.merge_cells("A1:D1")
    sheet.merge_cells("B2:C2")  # one header over two columns
    path = tmp_path / "t.xlsx"
    book.save(path)
    table, read = read_all(path, "xlsx")
    assert table.header_line == 2
    assert table.headers == ["客户名称", "联系电话", "联系电话 (2)", "首次联系"]
    assert read == [(3, ["华东机械", "13812345678", "2105551234", "2026-01-05"])]


def test_legacy_xls(tmp_path):
    """A .xls (Excel 97-2003, BIFF8, written by xlwt, a test dependency) read with xlrd: the float
    phone as digits, the date cell as a date."""
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("客户")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for c, v in enumerate(["客户名称", "电话", "首次联系"]):
        sheet.write(0, c, v)
    sheet.write(1, 0, "华东机械")
    sheet.write(1, 1, 13812345678.0)
    sheet.write(1, 2, datetime.date(2026, 1, 5), date_style)
    path = tmp_path / "t.xls"
    book.save(str(path))
    table, read = read_all(path, "xls")
    assert table.headers == ["客户名称", "电话", "首次联系"]
    assert read == [(2, ["华东机械", "13812345678", "2026-01-05"])]


def test_format_of():
    assert [readers.format_of(n) for n in ("a.XLSX", "a.xls", "a.csv", "a.txt", "a.pdf")] == \
        ["xlsx", "xls", "csv", "csv", ""]


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"  \r\n")
    with pytest.raises(readers.ReadError):
        readers.open_table(path, "csv")


# --- coercion -----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,expected", [
    (1.38123456789e10, "13812345678"), ("1.38123456789E10", "13812345678"), ("13812345678.0", "13812345678"),
    (13812345678, "13812345678"), ("１３８ １２３４ ５６７８", "138 1234 5678"), ("010-8888 6666", "010-8888 6666"),
    (None, ""),
])
def test_phones(raw, expected):
    assert coerce.phone(raw) == expected


@pytest.mark.parametrize("raw,expected", [
    ("1,234,567.50", "1234567.50"), ("¥1,234", "1234"), ("￥12,000元", "12000"), ("RMB 3,000.5", "3000.5"),
    ("$1,000.00", "1000.00"), ("1.234,56", "1234.56"), ("12,5", "12.5"), ("(1,200)", "-1200"), ("１２３", "123"),
    (1234.5, "1234.5"), (42, "42"), ("", ""),
])
def test_numbers(raw, expected):
    assert coerce.number(raw) == expected


def test_not_a_number_and_whole_numbers():
    with pytest.raises(ValueError):
        coerce.number("abc")
    assert coerce.integer("1,200") == "1200"
    with pytest.raises(ValueError):
        coerce.integer("12.5")


@pytest.mark.parametrize("raw", ["2026/1/5", "2026-01-05", "2026年1月5日", "05.01.2026", "1/5/2026", "20260105",
                                 46027, 46027.0, "46027", datetime.datetime(2026, 1, 5, 0, 0),
                                 datetime.date(2026, 1, 5), "２０２６－０１－０５"])
def test_dates(raw):
    assert coerce.date(raw) == "2026-01-05"


def test_bad_dates():
    for raw in ("2026-13-01", "next week", "31.02.2026"):
        with pytest.raises(ValueError):
            coerce.date(raw)


@pytest.mark.parametrize("raw,expected", [
    ("2026-01-05 14:30", "2026-01-05 14:30"), ("2026/1/5 9:05", "2026-01-05 09:05"),
    ("2026-01-05T14:30:15", "2026-01-05 14:30:15"), ("2026年1月5日 14:30", "2026-01-05 14:30"),
    ("2026年1月5日14:30", "2026-01-05 14:30"), ("1/5/2026 2:30 PM", "2026-01-05 14:30"),
    ("2026-01-05 下午2:30", "2026-01-05 14:30"), ("2026-01-05 12:10 am", "2026-01-05 00:10"),
    ("2026-01-05", "2026-01-05"), (46027.5, "2026-01-05 12:00"), ("46027.25", "2026-01-05 06:00"),
    (datetime.datetime(2026, 1, 5, 14, 29, 59, 600000), "2026-01-05 14:30"),  # an XLSX cell's float error
    (datetime.datetime(2026, 1, 5, 14, 30, 15), "2026-01-05 14:30:15"), (datetime.date(2026, 1, 5), "2026-01-05"),
    ("", ""), (None, "")])
def test_dates_with_a_time_of_day(raw, expected):
    assert coerce.date_time(raw) == expected


def test_bad_times_of_day():
    for raw in ("2026-01-05 25:00", "2026-01-05 13:00 PM", "2026-13-01 10:00", "soon"):
        with pytest.raises(ValueError):
            coerce.date_time(raw)


@pytest.mark.parametrize("raw,expected", [("是", "true"), ("否", "false"), ("yes", "true"), ("No", "false"),
                                          ("Y", "true"), ("1", "true"), (0, "false"), (True, "true"), ("", "false")])
def test_booleans(raw, expected):
    assert coerce.boolean(raw) == expected


def test_text_is_half_width_and_trimmed():
    assert coerce.text("　ＡＢＣ　公司  １号 ") == "ABC 公司 1号"
    assert coerce.key("Company Name") == coerce.key("company_name") == coerce.key("COMPANY-NAME")
