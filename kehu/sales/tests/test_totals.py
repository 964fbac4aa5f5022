"""The running pipeline totals (kehu.sales.totals) always equal a direct aggregate of the
opportunities: after creates, stage changes (board, services), amount and probability edits,
owner changes, soft deletes and restores, hard deletes, QuerySet.update() and bulk inserts; and
the board and the forecast show exactly what aggregating the visible opportunities shows."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, DecimalField, F, Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kehu.core.models import DictItem
from kehu.core.money import round_money
from kehu.core.registry import registry
from kehu.sales import services, totals
from kehu.sales.models import Opportunity, PipelineTotal, Stage
from kehu.sales.testing import make_opportunity
from kehu.sales.views import forecast_rows

CENT = Decimal("0.01")


def money(value):
    return round_money(Decimal(value or 0))  # half up, the one rule (kehu/core/money.py)


def weighted():
    return Sum(F("amount") * F("probability"), output_field=DecimalField(max_digits=24, decimal_places=2))


def direct_board(user, **filters):
    """{stage id: (count, total, weighted)} aggregated from the visible opportunities, as the board
    computed them before the running totals."""
    qs = registry.get("opportunity").visible(user).select_related(None)
    if filters.get("owner"):
        qs = qs.filter(owner=filters["owner"])
    if filters.get("department"):
        qs = qs.filter(owner__department__path__startswith=filters["department"].path)
    if filters.get("close_from"):
        qs = qs.filter(expected_close__gte=filters["close_from"])
    if filters.get("close_to"):
        qs = qs.filter(expected_close__lte=filters["close_to"])
    rows = qs.order_by().values("stage_id").annotate(n=Count("id"), total=Sum("amount"), w=weighted())
    out = {s.pk: (0, money(0), money(0)) for s in Stage.objects.filter(active=True)}
    for r in rows:
        out[r["stage_id"]] = (r["n"], money(r["total"]), money((r["w"] or 0) / Decimal(100)))
    return out


def direct_forecast(user, **filters):
    qs = registry.get("opportunity").visible(user).select_related(None).filter(
        closed_at__isnull=True, stage__is_won=False, stage__is_lost=False)
    if filters.get("close_from"):
        qs = qs.filter(expected_close__gte=filters["close_from"])
    if filters.get("close_to"):
        qs = qs.filter(expected_close__lte=filters["close_to"])
    months = {}
    for o in qs:
        month = o.expected_close.replace(day=1) if o.expected_close else None
        line = months.setdefault(month, [0, Decimal(0), Decimal(0)])
        line[0] += 1
        line[1] += o.amount or 0
        line[2] += (o.amount or 0) * (o.probability or 0) if o.probability is not None and o.amount is not None else 0
    order = sorted(months, key=lambda m: (m is None, m or 0))
    return [(m, months[m][0], money(months[m][1]), money(months[m][2] / 100)) for m in order]


def board(user, **params):
    client = Client()
    client.force_login(user)
    response = client.get(reverse("sales:opportunity_board"), {k: v.pk if hasattr(v, "pk") else v
                                                                for k, v in params.items()})
    assert response.status_code == 200
    return {c["stage"].pk: (c["count"], c["total"], c["weighted"]) for c in response.context["columns"]}


def check(org):
    assert totals.verify() == []
    for user in (org.admin, org.supervisor, org.manager, org.manager2):
        assert board(user) == direct_board(user), user
        got = [(r["month"], r["count"], r["total"], r["weighted"]) for r in forecast_rows(user)]
        assert got == direct_forecast(user), user
    jan10, mar31 = datetime.date(2031, 1, 10), datetime.date(2031, 3, 31)
    assert board(org.admin, close_from=jan10, close_to=mar31) == direct_board(
        org.admin, close_from=jan10, close_to=mar31)
    assert board(org.admin, department=org.sales1) == direct_board(org.admin, department=org.sales1)
    assert board(org.supervisor, owner=org.manager) == direct_board(org.supervisor, owner=org.manager)
    got = [(r["month"], r["count"], r["total"], r["weighted"])
           for r in forecast_rows(org.admin, close_from=jan10, close_to=mar31)]
    assert got == direct_forecast(org.admin, close_from=jan10, close_to=mar31)


def stages():
    ordered = list(Stage.objects.order_by("order", "id"))
    opens = [s for s in ordered if not s.is_closed]
    return opens, next(s for s in ordered if s.is_won), next(s for s in ordered if s.is_lost)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_totals_follow_every_kind_of_write(org):
    opens, won, lost = stages()
    jan, feb = datetime.date(2031, 1, 5), datetime.date(2031, 2, 20)
    a = make_opportunity(org.manager, stage=opens[0], amount=Decimal("1000.10"), expected_close=jan)
    b = make_opportunity(org.manager, stage=opens[1], amount=Decimal("333.33"), expected_close=feb, probability=33)
    c = make_opportunity(org.manager2, stage=opens[0], amount=None)  # no amount, no date
    d = make_opportunity(org.supervisor, stage=opens[2], amount=Decimal("0.01"), expected_close=jan.replace(day=31))
    e = make_opportunity(org.admin, stage=opens[0], amount=Decimal("12345678.99"), expected_close=jan)
    check(org)

    # stage changes: the board's drag and drop, a won and a lost close
    client = Client()
    client.force_login(org.manager)
    response = client.post(reverse("sales:opportunity_stage", args=[a.pk]), {"stage": opens[2].pk},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    check(org)
    a.refresh_from_db()
    services.change_stage(a, won, org.manager, amount=Decimal("1200.00"), deal_products="软件",
                          signed_on=datetime.date(2025, 1, 1))
    services.change_stage(b, lost, org.manager, lost_reason=DictItem.objects.filter(kind="lost_reason").first())
    check(org)

    # amount, probability and expected close edits through the edit form
    client = Client()
    client.force_login(org.admin)
    form = {"title": d.title, "customer": d.customer_id, "stage": d.stage_id, "amount": "777.77",
            "probability": "45", "expected_close": "2031-02-01", "owner": d.owner_id}
    response = client.post(reverse("sales:opportunity_edit", args=[d.pk]), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    d.refresh_from_db()
    assert d.amount == Decimal("777.77")
    check(org)

    # owner changes: the assign service, and the edit form
    services.assign(c, org.manager, org.admin)
    c.refresh_from_db()
    form = {"title": e.title, "customer": e.customer_id, "stage": e.stage_id, "amount": "12345678.99",
            "probability": str(e.probability), "expected_close": "2031-01-05", "owner": org.manager2.pk}
    assert client.post(reverse("sales:opportunity_edit", args=[e.pk]), form).status_code == 302
    check(org)

    # soft delete (the recycle bin), restore, hard delete
    assert client.post(reverse("sales:opportunity_delete", args=[e.pk])).status_code == 302
    assert not Opportunity.objects.filter(pk=e.pk).exists()
    check(org)
    assert client.post(reverse("sales:opportunity_restore", args=[e.pk])).status_code == 302
    check(org)
    Opportunity.all_objects.filter(pk=c.pk).delete()
    check(org)

    # writes that bypass the models: QuerySet.update(), bulk_create, a deleted row edited
    Opportunity.objects.filter(pk=d.pk).update(amount=Decimal("5.55"), owner=org.manager2, stage=opens[1])
    e.refresh_from_db()
    e.soft_delete(org.admin)
    Opportunity.all_objects.filter(pk=e.pk).update(amount=Decimal("1"))  # in the recycle bin: counts nothing
    Opportunity.objects.bulk_create([
        Opportunity(number=f"SJB{i}", title=f"批量{i}", prospect_name="潜在", owner=org.manager, stage=opens[i % 2],
                    amount=(Decimal(i) / 7).quantize(CENT), probability=i * 10 % 100, expected_close=jan + datetime.timedelta(days=9 * i))
        for i in range(1, 9)])
    check(org)


@pytest.mark.django_db
def test_rebuild_and_verify(org):
    opens, _won, _lost = stages()
    make_opportunity(org.manager, stage=opens[0], amount=Decimal("10"))
    assert totals.verify() == []
    PipelineTotal.objects.update(n=99)
    assert totals.verify()
    totals.rebuild()
    assert totals.verify() == []


@pytest.mark.django_db
def test_board_reads_totals_and_cards_in_a_fixed_number_of_queries(org):
    opens, _won, _lost = stages()
    for user in (org.manager, org.manager2, org.supervisor):
        make_opportunity(user, stage=opens[0], amount=Decimal("10"))
    client = Client()
    client.force_login(org.admin)
    client.get(reverse("sales:opportunity_board"))  # warm the per-process caches
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("sales:opportunity_board")).status_code == 200
    aggregates = [q["sql"] for q in ctx.captured_queries if "sales_opportunity" in q["sql"] and "GROUP BY" in q["sql"]]
    assert aggregates == []  # the columns' totals come from the running totals
    assert any("sales_pipelinetotal" in q["sql"] for q in ctx.captured_queries)
    # one query per column with cards, none per card (owners and customers are read with them)
    cards = [q for q in ctx.captured_queries if 'FROM "sales_opportunity"' in q["sql"]]
    assert len(cards) == 1
