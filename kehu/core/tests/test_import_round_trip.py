"""Export → import round trip of every importable record type (issue 15): the list export's own
writers and columns (`exports_jobs.export_columns`, `export.write_csv` / `write_xlsx`), Chinese
headers in CSV and XLSX and English headers in XLSX; the records of the type are deleted (what
they refer to stays), the file is imported, and the records come back the same: every concrete
field but those listed below with the reason they differ, custom fields, tags (and an order's lines).

Each importer needs a sample maker in SAMPLES: a new importer without one fails here."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from kehu.core import customfields, export
from kehu.core.exports_jobs import export_columns
from kehu.core.imports.base import all_importers
from kehu.core.models import CustomField, DictItem, tags_by_id
from kehu.core.testing.imports import run

# what no import keeps: the record's identity and bookkeeping, given anew by the import
COMMON_EXCLUDED = {
    "id": "a new row",
    "created_at": "the import's time", "updated_at": "the import's time",
    "created_by": "the importing user", "updated_by": "the importing user",
    "version": "a new record's first version",
    "search_text": "rebuilt from the fields (compared through them)",
    "deleted_at": "not deleted", "deleted_by": "not deleted",
}

ROUNDS = [("csv", "zh-hans"), ("xlsx", "zh-hans"), ("xlsx", "en")]  # (format, language of the headers)


@dataclass
class Sample:
    records: list  # the records of the importer's type
    excluded: dict[str, str] = field(default_factory=dict)  # field -> why it differs after the round trip
    children: dict | None = None  # {"relation": "lines", "excluded": {...}}: rows compared with their record
    not_exported: dict[str, str] = field(default_factory=dict)  # import fields without a column: why


def _dict(model, name, n=0):
    """The n-th active value of the dictionary behind `model.name`."""
    kind = model._meta.get_field(name).get_limit_choices_to()["kind"]
    items = list(DictItem.objects.filter(kind=kind, active=True).order_by("order", "id"))
    assert len(items) > n, f"the dictionary {kind} has no value {n}"
    return items[n]


def _custom_fields(model) -> dict:
    """A text and a decimal custom field of the record type; values for two records."""
    record_type = model._meta.label_lower
    CustomField.objects.create(record_type=record_type, name="erp_code", label="ERP编码", label_en="ERP code",
                               field_type="text")
    CustomField.objects.create(record_type=record_type, name="credit", label="信用额度", label_en="Credit limit",
                               field_type="decimal")
    customfields._CACHE.clear()
    return {"erp_code": "=ERP-001", "credit": "5000.5"}


def _minute(days=0, hour=14, minute=30):
    base = timezone.localtime().replace(second=0, microsecond=0)
    return base.replace(hour=hour, minute=minute) - datetime.timedelta(days=days)


# --- one sample maker per importer -----------------------------------------------------------------

def customer_sample(org):
    from kehu.customers.models import Customer
    from kehu.customers.testing import make_customer

    cf = _custom_fields(Customer)
    a = make_customer(org.manager, "往返测试甲公司", phone="13812345678", email="a@example.com",
                      industry=_dict(Customer, "industry"), level=_dict(Customer, "level", 1),
                      type=_dict(Customer, "type"), source=_dict(Customer, "source"), region=_dict(Customer, "region"),
                      grade="A", status="dormant", country="中国", province="上海", city="上海市",
                      address="浦东新区张江路 88 号", website="https://a.example.com", employees=12,
                      annual_revenue=Decimal("1234.50"), needs="需要 CRM\n和报表", first_contact_date=datetime.date(2026, 1, 5),
                      deal_amount=Decimal("98000.00"), deal_products="=SUM(A1)", signed_on=datetime.date(2026, 2, 1),
                      notes="第一行\n第二行", custom_fields=cf)
    a.set_tags(["重点", "华东"])
    # a type, as the form gives one (an empty cell of a new record is the form's default type)
    b = make_customer(org.manager2, "Round Trip Ltd", phone="+41 44 123 45 67", website="https://rt.example.com",
                      type=_dict(Customer, "type", 1), custom_fields={"erp_code": "ERP-002"})
    b.set_tags(["export"])
    primary_contact = {f.name: "the primary contact's columns: contacts are exported and imported on their own"
                       for f in all_importers()["customer"].fields() if f.target == "contact"}
    return Sample([a, b], {
        "number": "a new customer number (KH…) is given",
        "last_activity_at": "the public pool's idle clock starts when the customer is created: the import's time",
    }, not_exported=primary_contact)


def contact_sample(org):
    from kehu.customers.models import Contact
    from kehu.customers.testing import make_contact, make_customer

    cf = _custom_fields(Contact)
    a = make_customer(org.manager, "往返联系人甲公司")
    b = make_customer(org.manager2, "Contact Trip Ltd")
    one = make_contact(a, "王伟", mobile="13912345678", phone="021-62345678", email="ww@example.com", gender="male",
                       title="=采购经理", wechat="wangwei88", birthday=datetime.date(1985, 3, 2), is_primary=True,
                       notes="喜欢围棋\n周末不接电话", custom_fields=cf)
    one.set_tags(["决策人"])
    two = make_contact(b, "Mary Turner", phone="+41 44 123 45 68", title="CEO", gender="female",
                       custom_fields={"credit": "12"})
    return Sample([one, two])


def opportunity_sample(org):
    from kehu.customers.testing import make_customer
    from kehu.sales.models import Opportunity, Stage
    from kehu.sales.testing import make_opportunity

    cf = _custom_fields(Opportunity)
    stages = list(Stage.objects.filter(active=True, is_won=False, is_lost=False).order_by("order"))
    a = make_opportunity(org.manager, customer=make_customer(org.manager, "往返机会客户"), title="年度框架协议",
                         source=_dict(Opportunity, "source"), stage=stages[1], amount=Decimal("120000.50"),
                         discount=Decimal("7.50"), probability=40, expected_close=datetime.date(2026, 9, 30),
                         competitors="=Salesforce\n纷享销客", description="第一阶段\n第二阶段",
                         deal_products="CRM 软件", custom_fields=cf)
    a.set_tags(["大单"])
    b = make_opportunity(org.manager2, customer=make_customer(org.manager2, "Deal Trip Ltd"), title="Pilot project",
                         stage=stages[0], amount=Decimal("5000.00"))
    return Sample([a, b], {
        "number": "a new opportunity number is given",
        "assigned_at": "stamped when an owner is given: the import's time",
        "assigned_by": "who gave the owner: the importing user",
    })


def followup_sample(org):
    from kehu.activities.models import FollowUp
    from kehu.activities.testing import make_followup
    from kehu.customers.testing import make_contact, make_customer
    from kehu.sales.testing import make_opportunity

    cf = _custom_fields(FollowUp)
    a = make_customer(org.manager, "往返跟进客户")
    contact = make_contact(a, "李娜", mobile="13987654321")
    opp = make_opportunity(org.manager, customer=a, title="跟进的机会")
    b = make_customer(org.manager2, "Follow Trip Ltd")
    one = make_followup(a, org.admin, contact=contact, opportunity=opp, occurred_at=_minute(3, 9, 15),
                        method=_dict(FollowUp, "method", 1), participants="王伟、李娜", topic="=需求沟通",
                        content="客户要报表\n和审批", customer_feedback="满意", result="约定演示",
                        next_action="发送报价", next_action_at=_minute(-2, 10, 0), next_action_by=org.manager,
                        custom_fields=cf)
    one.set_tags(["演示"])
    two = make_followup(b, org.admin, occurred_at=_minute(1, 16, 45), topic="Phone call", content="Asked for a demo")
    return Sample([one, two], {
        "owner": "a follow-up is owned by who recorded it: the importing user (no owner column)",
    })


def product_sample(org):
    from kehu.catalog.models import Product
    from kehu.catalog.testing import make_category, make_product

    cf = _custom_fields(Product)
    parent = make_category("电子产品")
    phones = make_category("手机", parent)
    a = make_product(org.admin, "智能手机 X1", code="SJ-X1", category=phones, kind="goods",
                     unit=_dict(Product, "unit", 1), list_price=Decimal("2999.00"), cost=Decimal("1800.50"),
                     tax_rate=Decimal("13.00"), low_stock_threshold=Decimal("5"), allow_backorder=True,
                     description="=双卡双待\n5G", custom_fields=cf)
    a.set_tags(["新品"])
    b = make_product(org.admin, "Installation service", code="SVC-01", kind="service", list_price=Decimal("500.00"),
                     cost=Decimal("0"), tax_rate=Decimal("6.00"), active=False)
    return Sample([a, b])


def order_sample(org):
    from kehu.catalog.testing import make_product
    from kehu.customers.testing import make_contact, make_customer
    from kehu.orders.models import Order
    from kehu.orders.testing import make_order, product_line, service_line

    cf = _custom_fields(Order)
    a = make_customer(org.manager, "往返订单客户")
    contact = make_contact(a, "赵敏", mobile="13711112222")
    b = make_customer(org.manager2, "Order Trip Ltd")
    phone = make_product(org.admin, "智能手机 X1", code="SJ-X1", list_price=Decimal("2999.00"))
    cable = make_product(org.admin, "数据线", code="=C-01", list_price=Decimal("19.90"))
    one = make_order(org.manager, [product_line(phone, "2", discount_pct=Decimal("5")),
                                   product_line(cable, "10", description="加长数据线 2m"),
                                   service_line("上门安装", "1", "300.00", "6")],
                     customer=a, contact=contact, title="首批设备", order_date=datetime.date(2026, 3, 1),
                     promised_date=datetime.date(2026, 3, 20), delivery_address="上海市浦东新区张江路 88 号",
                     payment_method=_dict(Order, "payment_method"), notes="=分两批发货\n先付 30%", custom_fields=cf)
    one.set_tags(["首单"])
    # delivered in Kehu: the export's status and dates bring it back delivered, its goods shipped
    shanghai = datetime.timezone(datetime.timedelta(hours=8))
    Order.all_objects.filter(pk=one.pk).update(
        status="delivered", shipped_at=datetime.datetime(2026, 3, 18, 9, 30, tzinfo=shanghai),
        delivered_at=datetime.datetime(2026, 3, 19, 16, 0, tzinfo=shanghai))
    for line in one.lines.all():
        if line.stocked:
            type(line).objects.filter(pk=line.pk).update(shipped_quantity=line.quantity)
    one.refresh_from_db()
    two = make_order(org.manager2, [service_line("Annual support", "1.5", "1000.00", "6", discount_pct=Decimal("10"))],
                     customer=b, title="Support contract", order_date=datetime.date(2026, 4, 2))
    return Sample([one, two], {
        "number": "a new order number is given; the old one is the import's reference",
        "external_number": "the reference column holds the exported order's number (checked below)",
    }, children={"relation": "lines", "excluded": {"id": "a new row", "order": "the new order (compared with it)"}})


def campaignmember_sample(org):
    from kehu.campaigns.models import CampaignMember
    from kehu.campaigns.testing import make_campaign, make_member
    from kehu.customers.testing import make_contact, make_customer

    cf = _custom_fields(CampaignMember)
    show = make_campaign(org.manager, "上海春季展会")
    mail = make_campaign(org.manager, "Spring mailing")
    a = make_customer(org.manager, "往返活动客户")
    contact = make_contact(a, "孙丽", mobile="13600001111")
    b = make_customer(org.manager2, "Member Trip Ltd")
    one = make_member(show, a, status="invited", contact=contact, notes="=展位 A12\n带两人", custom_fields=cf)
    one.set_tags(["VIP"])
    two = make_member(mail, b, status="declined", notes="Not this year")
    return Sample([one, two], {
        "owner": "a member is owned by who added it: the importing user (no owner column)",
        "responded_at": "stamped by the status change (services.stamp_status): the import's time",
        "converted_at": "stamped by the status change (services.stamp_status): the import's time",
    })


SAMPLES = {
    "customer": customer_sample,
    "contact": contact_sample,
    "opportunity": opportunity_sample,
    "followup": followup_sample,
    "product": product_sample,
    "order": order_sample,
    "campaignmember": campaignmember_sample,
}


# --- the round trip -----------------------------------------------------------------------------------

def _state(model, excluded, children):
    """Every record of `model` as comparable values: its compared fields, tags, children's rows."""
    names = [f.attname for f in model._meta.concrete_fields
             if f.name not in COMMON_EXCLUDED and f.name not in excluded]
    objs = list(model._base_manager.order_by("pk"))
    tags = tags_by_id(model, [o.pk for o in objs], names=True)
    out = []
    for obj in objs:
        values = {n: getattr(obj, n) for n in names}
        values["tags"] = sorted(tags.get(obj.pk, ()))
        if children:
            related = getattr(obj, children["relation"])
            child_names = [f.attname for f in related.model._meta.concrete_fields
                           if f.name not in children["excluded"]]
            values[children["relation"]] = [{n: getattr(c, n) for n in child_names} for c in related.all()]
        out.append(values)
    return sorted(out, key=repr)


def _differences(before, after) -> list:
    """What differs, field by field, between the records before and after (in the same order)."""
    if len(before) != len(after):
        return [f"{len(before)} records before, {len(after)} after"]
    out = []
    for i, (b, a) in enumerate(zip(before, after, strict=True)):
        for name in sorted({*b, *a}):
            if b.get(name) == a.get(name):
                continue
            if isinstance(b.get(name), list) and b[name] and isinstance(b[name][0], dict):  # children
                out += [(i, name, *more) for more in _differences(b[name], a.get(name) or [])]
            else:
                out.append((i, name, b.get(name), a.get(name)))
    return out


@pytest.fixture(autouse=True)
def _fresh_custom_fields():
    yield
    customfields._CACHE.clear()  # the test's custom fields are rolled back: so is the cache


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(all_importers()))
def test_export_then_import_reproduces_the_records(org, key, tmp_path):
    assert key in SAMPLES, f"the importer {key!r} has no round-trip sample: add one to SAMPLES"
    importer = all_importers()[key]
    rt, model = importer.rt, importer.model
    sample = SAMPLES[key](org)
    for name, reason in sample.excluded.items():
        assert reason and name in {f.name for f in model._meta.concrete_fields}, name
    assert len(sample.records) >= 2
    before = _state(model, sample.excluded, sample.children)
    assert any(v["tags"] for v in before), "the sample has no tags"
    numbers = sorted(getattr(o, "number", "") for o in sample.records)

    for fmt, language in ROUNDS:
        path = tmp_path / f"{key}-{language}.{fmt}"
        with translation.override(language):
            qs = rt.visible(org.admin)
            if fmt == "csv":
                written = export.write_csv(path, qs, export_columns(rt))
            else:
                written = export.write_xlsx(path, qs, export_columns(rt), str(rt.label_plural))
        assert written >= len(sample.records)
        model._base_manager.all().delete()
        job = run(org.admin, path.read_bytes(), path.name, key=key)
        assert (job.created, job.failed_rows) == (len(sample.records), 0), (fmt, language, job.errors, job.mapping)
        # every field the import reads has its column in the export (found by the headers alone)
        unmapped = {f.name for f in importer.fields()} - set(job.mapping.values()) - set(sample.not_exported)
        assert not unmapped, (fmt, language, unmapped, job.headers)
        after = _state(model, sample.excluded, sample.children)
        assert after == before, (fmt, language, _differences(before, after), job.mapping)
        if key == "order":  # the order's number came back as its reference
            assert sorted(model._base_manager.values_list("external_number", flat=True)) == numbers
            numbers = sorted(model._base_manager.values_list("number", flat=True))
