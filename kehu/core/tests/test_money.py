"""Money (kehu/core/money.py): one rounding rule, the currency's symbol and grouping in both
languages, strings in the API, exact digits in CSV and XLSX, and no float on the way."""

import csv
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.template import Context, Template
from django.test import Client
from django.utils import translation

from kehu.core import api_input, export
from kehu.core.money import (
    MoneyField,
    document_total,
    format_money,
    line_total,
    round_money,
    to_money,
)
from kehu.core.registry import registry
from kehu.core.testing.factories import auth
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer

D = Decimal


# --- rounding ------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("0.005", "0.01"), ("0.004", "0.00"), ("0.015", "0.02"), ("0.025", "0.03"),  # half up, not half even
    ("-0.005", "-0.01"), ("-1.235", "-1.24"), ("-0.004", "0.00"),  # away from zero
    ("2.675", "2.68"),  # a float would say 2.67 (2.67499999...)
    ("1234567890123456.785", "1234567890123456.79"), (7, "7.00"), ("1.1", "1.10"),
])
def test_round_money_half_up_to_the_cent(value, expected):
    assert str(round_money(value)) == expected


def test_money_is_never_a_float():
    with pytest.raises(TypeError):
        to_money(0.1)
    with pytest.raises(TypeError):
        round_money(2.675)
    with pytest.raises(TypeError):
        line_total(1, 19.99)
    with pytest.raises(ValueError):
        to_money("NaN")
    assert to_money("1234.50") == D("1234.50") and to_money(3) == D(3) and to_money(None) is None


def test_line_total_rounds_each_line_once_and_taxes_per_line():
    line = line_total(3, D("19.99"), discount_pct=10, tax_pct=13)
    # 3 × 19.99 × 0.9 = 53.973 → 53.97; tax 53.97 × 13 % = 7.0161 → 7.02
    assert line == (D("53.97"), D("7.02"), D("60.99"))
    assert line_total("2.5", "0.01") == (D("0.03"), D("0.00"), D("0.03"))  # 0.025 → 0.03, half up once
    assert line_total(1, "0.05", tax_pct="10").tax == D("0.01")  # 0.005 → 0.01
    assert line_total(-1, "10.00", tax_pct=13) == (D("-10.00"), D("-1.30"), D("-11.30"))  # a credit line
    # the document is the sum of its rounded lines: three lines of 0.333... each round to 0.33
    lines = [line_total(1, D(1) / D(3), tax_pct=13) for _ in range(3)]
    assert document_total(lines) == (D("0.99"), D("0.12"), D("1.11"))
    assert all(isinstance(v, Decimal) for v in document_total(lines))


# --- display -------------------------------------------------------------------------------

def test_format_money_in_both_languages(settings):
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            assert format_money(D("1234567.5")) == "¥1,234,567.50"
            assert format_money(D("-1234.005")) == "-¥1,234.01"  # rounded half up, not cut
            assert format_money(D("0")) == "¥0.00" and format_money(D("999")) == "¥999.00"
            assert format_money(None) == ""
    settings.KEHU_CURRENCY = "USD"
    with translation.override("en"):
        assert format_money(D("1000")) == "$1,000.00"
        assert format_money(D("1000"), "EUR") == "€1,000.00"


def test_money_filter():
    template = Template("{% load kehu %}[{{ a|money }}][{{ b|money }}]")
    with translation.override("zh-hans"):
        html = template.render(Context({"a": D("12345.6"), "b": None}))
    assert html.startswith("[¥12,345.60][") and "—" in html


@pytest.mark.django_db
def test_money_columns_in_the_list_and_detail(org):
    from kehu.sales.testing import make_opportunity

    opp = make_opportunity(org.manager, amount=D("1234567.80"), discount=D("5.50"))
    rt = registry.get("opportunity")
    assert rt.available_columns()["amount"].money and not rt.available_columns()["discount"].money
    client = Client()
    client.force_login(org.manager)
    for lang in ("zh-hans", "en"):
        client.cookies["django_language"] = lang
        with translation.override(lang):
            html = client.get("/opportunities/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
            assert "¥1,234,567.80" in html
            detail = client.get(f"/opportunities/{opp.pk}/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
            assert "¥1,234,567.80" in detail
            assert "5.50" in detail and "¥5.50" not in detail  # a percentage is not money
    customer = make_customer(org.manager, annual_revenue=D("88000000"))
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "¥88,000,000.00" in html


@pytest.mark.django_db
def test_board_and_forecast_show_the_currency(org):
    import datetime

    from kehu.sales.testing import make_opportunity

    make_opportunity(org.manager, amount=D("4321.50"), expected_close=datetime.date(2031, 5, 1))
    client = Client()
    client.force_login(org.manager)
    assert "¥4,321.50" in client.get("/opportunities/board/").content.decode()
    assert "¥4,321.50" in client.get("/opportunities/forecast/").content.decode()


# --- the model field ---------------------------------------------------------------------

def test_money_field_is_the_same_column():
    field = MoneyField("amount", null=True)
    assert (field.max_digits, field.decimal_places) == (18, 2)
    name, path, args, kwargs = field.deconstruct()
    assert path == "kehu.core.money.MoneyField" and "max_digits" not in kwargs
    for model, name in ((Customer, "deal_amount"), (Customer, "annual_revenue")):
        assert isinstance(model._meta.get_field(name), MoneyField)
    from kehu.sales.models import Opportunity

    assert isinstance(Opportunity._meta.get_field("amount"), MoneyField)


@pytest.mark.django_db
def test_a_float_is_refused_on_save(org):
    customer = make_customer(org.manager)
    customer.annual_revenue = 0.1
    with pytest.raises(TypeError):
        customer.save()


# --- API ----------------------------------------------------------------------------------

def test_json_numbers_are_parsed_as_decimals():
    data = api_input.loads(b'{"amount": 9999999999999999.99, "n": 3, "x": [1.10, {"y": 0.1}]}')
    assert data["amount"] == D("9999999999999999.99") and type(data["amount"]) is Decimal
    assert data["n"] == 3 and type(data["n"]) is int
    assert data["x"][0] == D("1.10") and data["x"][1]["y"] == D("0.1")
    with pytest.raises(ValueError):
        api_input.loads(b'{"amount": NaN}')


@pytest.mark.django_db
def test_openapi_money_is_a_string(client):
    import kehu.urls  # noqa: F401 - registers the routers
    from kehu.core.api import api

    schema = api.get_openapi_schema()["components"]["schemas"]
    for name, field in (("OpportunityOut", "amount"), ("CustomerOut", "deal_amount"),
                        ("CustomerOut", "annual_revenue")):
        prop = schema[name]["properties"][field]
        types = [s.get("type") for s in prop.get("anyOf", [prop])]
        assert "string" in types and "number" not in types and "integer" not in types, prop
    paths = api.get_openapi_schema()["paths"]
    body = paths["/api/v1/customers/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    accepted = str(body["properties"]["deal_amount"])
    assert "'string'" in accepted and "'number'" in accepted and "integer" not in accepted


@pytest.mark.django_db
def test_api_takes_strings_and_numbers_and_answers_strings(org):
    from kehu.core.models import DictItem

    client = Client(**auth(org.manager))
    base = {"name": "金额接口客户有限公司", "country": "中国", "status": "active",
            "type": DictItem.objects.get(kind="customer_type", code="potential").pk}
    created = client.post("/api/v1/customers/", {**base, "annual_revenue": "1234.5", "deal_amount": 0.1},
                          content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["annual_revenue"] == "1234.50" and body["deal_amount"] == "0.10"
    customer = Customer.objects.get(pk=body["id"])
    assert customer.annual_revenue == D("1234.50") and customer.deal_amount == D("0.10")
    changed = client.patch(f"/api/v1/customers/{customer.pk}", b'{"annual_revenue": 1234567890123.45}',
                           content_type="application/json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["annual_revenue"] == "1234567890123.45"
    too_fine = client.patch(f"/api/v1/customers/{customer.pk}", {"annual_revenue": "1.005"},
                            content_type="application/json")
    assert too_fine.status_code == 422 and "annual_revenue" in too_fine.json()["errors"]
    if connection.vendor == "postgresql":  # SQLite keeps a decimal column's values as floats
        big = client.patch(f"/api/v1/customers/{customer.pk}", b'{"annual_revenue": 9999999999999999.99}',
                           content_type="application/json")
        assert big.json()["annual_revenue"] == "9999999999999999.99"


# --- exports -----------------------------------------------------------------------------

def _columns(names):
    rt = registry.get("customer")
    cols = rt.available_columns()
    from kehu.core.registry import Column

    return [cols.get(n) or Column(n, rt.field_label(n)) for n in names]


@pytest.mark.django_db
def test_xlsx_money_cells_are_exact_numbers_with_a_money_format(org, tmp_path):
    make_customer(org.manager, "甲", annual_revenue=D("0.10"), deal_amount=D("1234567890123.45"))
    make_customer(org.manager, "乙", annual_revenue=D("2.68"), deal_amount=None)
    if connection.vendor == "postgresql":
        make_customer(org.manager, "丙", annual_revenue=D("9999999999999999.99"))
    path = tmp_path / "money.xlsx"
    qs = Customer.objects.order_by("pk")
    export.write_xlsx(path, qs, _columns(["name", "annual_revenue", "deal_amount"]))
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>0.10</v>" in sheet and "<v>1234567890123.45</v>" in sheet and "<v>2.68</v>" in sheet
    book = openpyxl.load_workbook(path)
    rows = list(book.active.iter_rows(min_row=2))
    revenue, deal = rows[0][1], rows[0][2]
    assert revenue.data_type == "n" and revenue.number_format == "#,##0.00"
    assert D(str(revenue.value)) == D("0.10") and D(str(deal.value)) == D("1234567890123.45")
    assert D(str(rows[1][1].value)) == D("2.68") and rows[1][2].value is None
    if connection.vendor == "postgresql":  # more digits than Excel keeps: the exact digits, as text
        assert rows[2][1].data_type == "s" and rows[2][1].value == "9999999999999999.99"


def test_money_digits_never_use_an_exponent():
    assert export.money_digits(D("0.00")) == "0.00"
    assert export.money_digits(D("1E+3").quantize(D("0.01"))) == "1000.00"
    assert export.money_digits(D("-5.50")) == "-5.50"
    assert export.money_digits(D("999999999999999")) == "999999999999999"
    assert export.money_digits(D("9999999999999.99")) == "9999999999999.99"  # 15 digits: Excel's limit
    assert export.money_digits(D("99999999999999.99")) is None


@pytest.mark.django_db
def test_csv_writes_the_decimal_string(org):
    make_customer(org.manager, "甲", annual_revenue=D("1234.50"), deal_amount=D("0.10"))
    text = "".join(export.csv_chunks(Customer.objects.all(), _columns(["name", "annual_revenue", "deal_amount"])))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[1] == ["甲", "1234.50", "0.10"]
