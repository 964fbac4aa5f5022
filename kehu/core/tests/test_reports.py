"""The report layer (kehu/core/reports.py): grouping, time-zone buckets, data scope, the list's
filters, exact money sums, and rollup sources answering what they cover exactly like the rows."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext

from kehu.core.filters import InvalidFilters
from kehu.core.registry import registry
from kehu.core.reports import Bucket, bucket_label, bucket_start, report
from kehu.customers.models import Customer
from kehu.customers.testing import make_customer
from kehu.sales.models import Opportunity, Stage
from kehu.sales.reports import PIPELINE_MEASURES, PipelineFilterSet
from kehu.sales.testing import make_opportunity

D = Decimal
UTC = datetime.UTC
MEASURES = {"n": Count("id"), "total": Sum("amount")}


def opportunities():
    return registry.get("opportunity")


def stages():
    ordered = list(Stage.objects.order_by("order", "id"))
    return [s for s in ordered if not s.is_closed]


def test_buckets():
    day = datetime.date(2026, 11, 22)  # a Sunday
    assert bucket_start(day, "week") == datetime.date(2026, 11, 16) and bucket_label(day, "week") == "2026-W47"
    assert bucket_start(day, "quarter") == datetime.date(2026, 10, 1) and bucket_label(day, "quarter") == "2026-Q4"
    assert bucket_label(day, "month") == "2026-11" and bucket_label(day, "year") == "2026"
    with pytest.raises(ValueError):
        Bucket("created_at", "decade")


@pytest.mark.django_db
def test_grouped_counts_and_exact_money_sums_with_labels(org):
    first, second = stages()[:2]
    for amount in ("0.10", "0.20", "0.10", None):
        make_opportunity(org.manager, stage=first, amount=D(amount) if amount else None)
    make_opportunity(org.manager, stage=second, amount=D("9999999.99"))
    make_opportunity(org.manager2, stage=second, amount=D("0.01"))
    rows = report(opportunities(), org.admin, {}, group_by=["stage", "owner"], measures=MEASURES, rollups=False)
    got = [(r["stage"], r["stage_label"], r["owner_label"], r["n"], r["total"]) for r in rows]
    assert got == [
        (first.pk, str(first), str(org.manager), 4, D("0.40")),
        (second.pk, str(second), str(org.manager), 1, D("9999999.99")),
        (second.pk, str(second), str(org.manager2), 1, D("0.01")),
    ]
    assert all(type(r["total"]) is Decimal for r in rows)
    whole = report(opportunities(), org.admin, {}, measures=MEASURES, rollups=False)
    assert whole == [{"n": 6, "total": D("10000000.40")}]


@pytest.mark.django_db
def test_a_rep_counts_only_their_records_and_the_filters_apply(org):
    first, second = stages()[:2]
    make_opportunity(org.manager, stage=first, amount=D("100"), title="年度框架采购")
    make_opportunity(org.manager, stage=second, amount=D("50"))
    make_opportunity(org.manager2, stage=first, amount=D("7"))
    for rollups in (True, False):
        mine = report(opportunities(), org.manager, {}, group_by=["owner"], measures=MEASURES, rollups=rollups)
        assert [(r["owner"], r["n"], r["total"]) for r in mine] == [(org.manager.pk, 2, D("100.00") + D("50.00"))]
        theirs = report(opportunities(), org.admin, {"owner": org.manager2.pk}, measures=MEASURES, rollups=rollups)
        assert theirs == [{"n": 1, "total": D("7.00")}]
        staged = report(opportunities(), org.admin, {"stage": first.pk}, group_by=["owner"], measures=MEASURES,
                        rollups=rollups)
        assert [(r["owner"], r["n"]) for r in staged] == [(org.manager.pk, 1), (org.manager2.pk, 1)]
    searched = report(opportunities(), org.admin, {"q": "框架采购"}, measures=MEASURES)
    assert searched == [{"n": 1, "total": D("100.00")}]
    nobody = report(opportunities(), org.nobody, {}, measures=MEASURES)
    assert nobody in ([], [{"n": 0, "total": D("0.00")}])
    with pytest.raises(InvalidFilters):
        report(opportunities(), org.admin, {"open": "maybe"}, measures=MEASURES)


@pytest.mark.django_db
def test_date_time_buckets_are_local(org):
    late = make_customer(org.manager, "晚上十一点半")
    month_end = make_customer(org.manager, "月末")
    Customer.objects.filter(pk=late.pk).update(created_at=datetime.datetime(2026, 11, 21, 23, 30, tzinfo=UTC))
    Customer.objects.filter(pk=month_end.pk).update(created_at=datetime.datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    customers = registry.get("customer")
    by_day = [Bucket("created_at", "day")]
    with timezone.override("Asia/Shanghai"):  # 07:30 on the 22nd; 00:30 on 1 December
        rows = report(customers, org.admin, {"created_after": "2026-11-01", "created_before": "2026-12-31"},
                      group_by=by_day, measures={"n": Count("id")})
        assert [(r["created_at_day"], r["created_at_day_label"], r["n"]) for r in rows] == [
            (datetime.date(2026, 11, 22), "2026-11-22", 1), (datetime.date(2026, 12, 1), "2026-12-01", 1)]
        months = report(customers, org.admin, {"created_after": "2026-11-01"}, measures={"n": Count("id")},
                        group_by=[Bucket("created_at", "month", name="month")])
        assert [(r["month_label"], r["n"]) for r in months] == [("2026-11", 1), ("2026-12", 1)]
    with timezone.override("UTC"):
        rows = report(customers, org.admin, {"created_after": "2026-11-01", "created_before": "2026-12-31"},
                      group_by=by_day, measures={"n": Count("id")})
        assert [(r["created_at_day"], r["n"]) for r in rows] == [
            (datetime.date(2026, 11, 21), 1), (datetime.date(2026, 11, 30), 1)]


@pytest.mark.django_db
def test_date_buckets_without_a_function_per_row(org):
    first = stages()[0]
    for day, amount in (("2026-11-16", "1.00"), ("2026-11-22", "2.00"), ("2026-11-23", "4.00"), ("2026-12-31", "8.00"),
                        (None, "16.00")):
        make_opportunity(org.manager, stage=first, amount=D(amount),
                         expected_close=datetime.date.fromisoformat(day) if day else None)
    with CaptureQueriesContext(connection) as ctx:
        weeks = report(opportunities(), org.admin, {}, group_by=[Bucket("expected_close", "week")],
                       measures=MEASURES, rollups=False, labels=False)
    assert [(r["expected_close_week"], r["n"], r["total"]) for r in weeks] == [
        (datetime.date(2026, 11, 16), 2, D("3.00")), (datetime.date(2026, 11, 23), 1, D("4.00")),
        (datetime.date(2026, 12, 28), 1, D("8.00")), (None, 1, D("16.00"))]
    sql = " ".join(q["sql"] for q in ctx.captured_queries).lower()
    assert "date_trunc" not in sql and "strftime" not in sql
    quarters = report(opportunities(), org.admin, {}, group_by=[Bucket("expected_close", "quarter")],
                      measures=MEASURES, rollups=False)
    assert [(r["expected_close_quarter_label"], r["n"]) for r in quarters] == [("2026-Q4", 4), (gettext("No date"), 1)]


@pytest.mark.django_db
def test_the_pipeline_rollup_answers_like_the_rows(org):
    opens = stages()
    jan, feb, mar = datetime.date(2031, 1, 5), datetime.date(2031, 2, 20), datetime.date(2031, 3, 31)
    make_opportunity(org.manager, stage=opens[0], amount=D("1000.10"), expected_close=jan)
    make_opportunity(org.manager, stage=opens[1], amount=D("333.33"), expected_close=feb, probability=33)
    make_opportunity(org.manager2, stage=opens[0], amount=None)
    make_opportunity(org.supervisor, stage=opens[2], amount=D("0.01"), expected_close=jan.replace(day=31))
    make_opportunity(org.admin, stage=opens[0], amount=D("12345678.99"), expected_close=mar)
    rt = opportunities()
    groupings = [["stage"], ["owner"], ["stage", Bucket("expected_close", "month")], [Bucket("expected_close", "year")],
                 []]
    filters = [{}, {"owner": org.manager.pk}, {"department": org.sales1.pk}, {"open": "true"},
               {"close_from": "2031-01-10", "close_to": "2031-03-30"}, {"close_after": "2031-02-01"},
               {"stage": opens[0].pk, "close_before": "2031-01-31"}]
    for user in (org.admin, org.supervisor, org.manager):
        for group_by in groupings:
            for data in filters:
                kwargs = {"group_by": group_by, "measures": PIPELINE_MEASURES, "filterset": PipelineFilterSet}
                with CaptureQueriesContext(connection) as ctx:
                    fast = report(rt, user, data, **kwargs)
                slow = report(rt, user, data, rollups=False, **kwargs)
                assert fast == slow, (user, group_by, data)
                if "close_from" not in data:  # no edge days: the totals alone
                    reads = [q["sql"] for q in ctx.captured_queries if "sales_opportunity" in q["sql"]]
                    assert not [q for q in reads if "FROM \"sales_opportunity\"" in q], reads
    # a filter the totals do not hold (a search): the rows answer
    with CaptureQueriesContext(connection) as ctx:
        report(rt, org.admin, {"q": "机会"}, group_by=["stage"], measures=PIPELINE_MEASURES)
    assert any('FROM "sales_opportunity"' in q["sql"] for q in ctx.captured_queries)
    assert Opportunity.objects.count() == 5


@pytest.mark.django_db
def test_labels_of_choices_dictionary_values_and_relations(org):
    from django.utils import translation

    from kehu.core.models import DictItem

    it = DictItem.objects.filter(kind="industry").order_by("order", "id").first()
    make_customer(org.manager, industry=it, annual_revenue=D("10.05"))
    make_customer(org.manager, status=Customer.Status.DORMANT, annual_revenue=D("0.05"))
    make_opportunity(org.manager, customer=make_customer(org.manager, industry=it), amount=D("3"))
    with translation.override("zh-hans"):
        rows = report(registry.get("customer"), org.manager, {}, group_by=["status", "industry"],
                      measures={"n": Count("id"), "revenue": Sum("annual_revenue")})
        by = {(r["status_label"], r["industry_label"]): (r["n"], r["revenue"]) for r in rows}
        assert by[(str(Customer.Status.ACTIVE.label), str(it))] == (2, D("10.05"))
        dormant = [key for key in by if key[0] == str(Customer.Status.DORMANT.label)]
        assert [key[1] for key in dormant] in (["None"], ["无"]) and by[dormant[0]] == (1, D("0.05"))
        through = report(opportunities(), org.manager, {}, group_by=["customer__industry"], measures=MEASURES)
        assert [(r["customer__industry_label"], r["n"], r["total"]) for r in through] == [(str(it), 1, D("3.00"))]
