"""The import's compiled form (kehu/core/imports/plan.py) validates a row exactly as the record's
form does (issue 15: "the importer validates every row through the same form and rules as the UI
and the API"). Every row of a varied file — good and bad values for each field, custom fields,
rows with and without each column — goes through a fresh CustomerForm / PrimaryContactForm (what
the UI binds) and through the run's plan; the cleaned data, the instance's values and the error
messages must be the same, for a user who may assign owners and one who may not."""

import itertools
import random

import pytest
from django.utils import translation

from kehu.core.imports import engine
from kehu.core.imports.plan import FormPlan
from kehu.core.models import CustomField, DictItem
from kehu.customers.forms import CustomerForm
from kehu.customers.imports import PrimaryContactForm

TIMES = {"created_at", "updated_at", "last_activity_at"}  # defaults of the moment each instance is made

# good and bad values of each column (None: the key is absent from the row's data)
CUSTOMER_VALUES = {
    "name": ["华东精密机械有限公司", "  北方\u3000物流  集团 ", "", "x" * 201, None, "ACME Co., Ltd."],
    "type": ["{potential}", "{won}", "999999", "abc", "", None],
    "level": ["", "{level}", "12.5", None],
    "grade": ["A", "Z", "", None],
    "industry": ["{industry}", "{won}", "0", "", None],
    "status": ["active", "lost", "bogus", "", None],
    "country": ["中国", "", "y" * 61, None],
    "province": ["浙江", None],
    "phone": ["13812345678", "+8613912345678", "021-62345678", "not a phone", "12345678901", "", None],
    "email": ["sales@HUADONG.cn", "bad@", "a b@c.cn", "", None],
    "website": ["https://kehu.example.com", "not a url", "", None],
    "employees": ["10", "-1", "abc", "1.5", "", None],
    "annual_revenue": ["1234.50", "-1", "abc", "1e400", "12345678901234567890", "", None],
    "first_contact_date": ["2026-01-05", "2026-13-01", "0999-01-01", "05/01/2026", "", None],
    "owner": ["{me}", "{other}", "abc", "", None],
    "deal_amount": ["100.00", "", None],
    "deal_products": ["软件", "", None],
    "signed_on": ["2026-01-05", "2999-01-01", "", None],
    "needs": ["更快的交付\n和培训", None],
    "tags_text": ["重点, 华东，VIP", "", None],
    "cf_erp": ["ERP-1", "", None],
    "cf_size": ["12", "x", "", None],
    "cf_tier": ["gold", "tin", "", None],
    "cf_since": ["2025-02-03", "nope", None],
    "cf_vip": ["on", "", None],
}
CONTACT_VALUES = {
    "name": ["王伟", " 李 娜 ", "", None, "z" * 101],
    "gender": ["male", "other", "", None],
    "title": ["经理", None],
    "mobile": ["13912345678", "1391234567", "+86 139 1234 5678", "", None],
    "phone": ["010-12345678", "abc", "", None],
    "email": ["wang@EXAMPLE.com", "wang@", "", None],
    "wechat": ["wx_wang", None],
    "birthday": ["1990-02-03", "2999-01-01", "1990-02-30", "", None],
    "notes": ["备注", None],
}


def rows_of(values: dict, n: int, seed: int, subs: dict):
    """n rows: every value of every column at least once, the others chosen at random; the
    placeholders ({me}, {won}...) replaced by the test's ids."""
    rng = random.Random(seed)
    longest = max(len(v) for v in values.values())
    for i in range(n):
        row = {}
        for name, options in values.items():
            value = options[i] if i < longest and i < len(options) else rng.choice(options)
            if value is None:
                continue
            row[name] = value.format(**subs) if "{" in value else value
        yield row


def outcome(form_or_row):
    errors = {name: [str(m) for m in messages] for name, messages in form_or_row.errors.items()}
    instance = form_or_row.instance
    values = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields
              if f.name not in TIMES}
    return errors, dict(form_or_row.cleaned_data), values


def compare(form_class, user, rows):
    template = form_class(None, user=user)
    engine._preload(template, {}, {})  # as the engine's run prepares the plan's form
    plan = FormPlan(template)
    assert plan.compiled
    checked = bad = 0
    for data in rows:
        form = form_class(data, user=user)  # the UI's form, bound to the row
        valid = form.is_valid()
        row = plan.clean(data)
        assert outcome(row) == outcome(form), data
        assert row.is_valid() == valid
        if valid:
            saved, expected = row.save(commit=False), form.save(commit=False)
            assert (saved.created_by_id, saved.updated_by_id) == (expected.created_by_id, expected.updated_by_id)
        bad += not valid
        checked += 1
    assert len(plan.variants) > 1  # rows with different columns: several compiled variants
    return checked, bad


@pytest.fixture
def setup(org):
    CustomField.objects.create(record_type="customers.customer", name="erp", label="ERP编码", required=False)
    CustomField.objects.create(record_type="customers.customer", name="size", label="规模", field_type="integer")
    CustomField.objects.create(record_type="customers.customer", name="tier", label="等级", field_type="choice",
                               choices=["gold", "silver"])
    CustomField.objects.create(record_type="customers.customer", name="since", label="起始", field_type="date")
    CustomField.objects.create(record_type="customers.customer", name="vip", label="VIP", field_type="boolean")
    from kehu.core import customfields

    customfields._CACHE.clear()
    subs = {
        "potential": DictItem.objects.get(kind="customer_type", code="potential").pk,
        "won": DictItem.objects.get(kind="customer_type", code="won").pk,
        "level": DictItem.objects.filter(kind="customer_level").first().pk,
        "industry": DictItem.objects.filter(kind="industry").first().pk,
        "other": org.manager2.pk,
    }
    return org, subs


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["admin", "manager"])  # may assign owners / may not (owner field disabled)
def test_customer_rows_plan_equals_form(setup, who):
    org, subs = setup
    user = getattr(org, who)
    with translation.override("en"):
        checked, bad = compare(CustomerForm, user, rows_of(CUSTOMER_VALUES, 400, 15, {**subs, "me": user.pk}))
    assert checked == 400 and 50 < bad < 400  # good and bad rows both


@pytest.mark.django_db
def test_contact_rows_plan_equals_form(setup):
    org, subs = setup
    with translation.override("zh-hans"):  # the messages in Chinese too
        checked, bad = compare(PrimaryContactForm, org.manager, rows_of(CONTACT_VALUES, 300, 16, subs))
    assert checked == 300 and 30 < bad < 300


@pytest.mark.django_db
def test_every_column_absent_and_present(setup):
    """The variants of a plan (absent columns folded) on every combination of a few columns."""
    org, subs = setup
    names = ["name", "phone", "country", "status", "cf_vip", "owner"]
    rows = []
    for mask in itertools.product([False, True], repeat=len(names)):
        rows.append({n: {"name": "甲公司", "phone": "13812345678", "country": "", "status": "lost", "cf_vip": "on",
                         "owner": str(org.admin.pk)}[n] for n, on in zip(names, mask, strict=True) if on})
    checked, _bad = compare(CustomerForm, org.admin, rows)
    assert checked == 64
