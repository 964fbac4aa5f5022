"""Payments 回款, refunds and invoices 开票: the service rules (kehu/orders/payments.py), the API and
the pages, the Finance role and the data scope."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from kehu.core.registry import registry
from kehu.core.testing.factories import auth
from kehu.orders import figures, payments
from kehu.orders.models import Invoice, Order, Payment, PaymentState
from kehu.orders.testing import make_order, service_line

D = Decimal


def order_of(owner, amount="1000.00", **extra):
    """An order whose total is exactly `amount` (one line without tax)."""
    return make_order(owner, lines=[service_line(unit_price=amount, tax_rate="0")], **extra)


def fresh(order):
    return Order.all_objects.get(pk=order.pk)


def assert_customer_figures(customer_id):
    assert figures.kept(customer_id) == figures.computed([customer_id])[customer_id]


# --- payments ----------------------------------------------------------------------------------
def test_status_goes_unpaid_partly_paid_paid_and_customer_figures_follow(org):
    order = order_of(org.manager)
    assert order.total == D("1000.00") and fresh(order).payment_status == PaymentState.UNPAID
    payments.record_payment(order, D("400.00"), org.manager, reference="TX1")
    o = fresh(order)
    assert (o.amount_received, o.payment_state, o.outstanding) == (D("400.00"), "partly_paid", D("600.00"))
    assert_customer_figures(order.customer_id)
    assert figures.kept(order.customer_id)["amount_received"] == D("400.00")
    assert figures.kept(order.customer_id)["receivables"] == D("600.00")
    payments.record_payment(order, "600.00", org.manager)
    o = fresh(order)
    assert (o.amount_received, o.payment_state, o.outstanding, o.payment_due_on) == (D("1000.00"), "paid", 0, None)
    assert_customer_figures(order.customer_id)


def test_overpayment_is_refused_and_nothing_is_written(org):
    order = order_of(org.manager)
    payments.record_payment(order, D("999.99"), org.manager)
    with pytest.raises(ValidationError) as exc:
        payments.record_payment(order, D("0.02"), org.manager)
    message = " ".join(exc.value.message_dict["amount"])
    assert "1,000.00" in message and "999.99" in message and "0.01" in message
    assert Payment.objects.filter(order=order).count() == 1
    assert fresh(order).amount_received == D("999.99")
    assert_customer_figures(order.customer_id)


@pytest.mark.parametrize("amount", [D("0"), D("-5"), "abc", D("1.001")])
def test_zero_negative_or_bad_amounts_are_refused(org, amount):
    order = order_of(org.manager)
    with pytest.raises(ValidationError) as exc:
        payments.record_payment(order, amount, org.manager)
    assert "amount" in exc.value.message_dict
    assert not Payment.objects.filter(order=order).exists()


def test_a_float_is_never_money(org):
    with pytest.raises(ValidationError):
        payments.record_payment(order_of(org.manager), 0.1, org.manager)


def test_no_payment_on_a_cancelled_order(org):
    order = order_of(org.manager)
    registry.get("order").workflow.take(order, "cancel", org.manager, {"comment": "客户取消"})
    with pytest.raises(ValidationError):
        payments.record_payment(fresh(order), D("10"), org.manager)
    assert not Payment.objects.filter(order=order).exists()


def test_decimal_exactness_three_times_a_tenth(org):
    order = order_of(org.manager, amount="0.30")
    for _i in range(3):
        payments.record_payment(order, "0.1", org.manager)
    o = fresh(order)
    assert o.amount_received == D("0.30") and o.payment_state == "paid"
    assert_customer_figures(order.customer_id)


def test_decimal_exactness_a_third_discounted_order(org):
    # 33.33 % off 100.00 = 66.67, 13 % tax = 8.67: total 75.34, paid in three exact instalments
    order = make_order(org.manager, lines=[service_line(unit_price="100.00", tax_rate="13", discount_pct="33.33")])
    assert order.total == D("75.34")
    today = timezone.localdate()
    payments.set_plan(order, [{"due_on": today, "amount": "25.11"}, {"due_on": today, "amount": "25.11"},
                              {"due_on": today + datetime.timedelta(days=30), "amount": "25.12"}], org.manager)
    payments.record_payment(order, D("25.11"), org.manager)
    payments.record_payment(order, D("50.23"), org.manager)
    assert fresh(order).payment_state == "paid"
    with pytest.raises(ValidationError):
        payments.record_payment(order, D("0.01"), org.manager)


# --- refunds ------------------------------------------------------------------------------------
def test_refund_is_negative_and_never_more_than_received(org):
    order = order_of(org.manager)
    with pytest.raises(ValidationError):
        payments.record_refund(order, D("1"), org.manager)  # nothing received yet
    payments.record_payment(order, D("1000.00"), org.manager)
    with pytest.raises(ValidationError) as exc:
        payments.record_refund(order, D("1000.01"), org.manager)
    assert "amount" in exc.value.message_dict
    refund = payments.record_refund(order, D("300.00"), org.manager, notes="退货")
    assert (refund.kind, refund.amount) == ("refund", D("-300.00"))
    o = fresh(order)
    assert (o.amount_received, o.payment_state) == (D("700.00"), "partly_paid")
    payments.record_refund(order, D("700.00"), org.manager)
    with pytest.raises(ValidationError):
        payments.record_refund(order, D("0.01"), org.manager)
    assert fresh(order).payment_state == "unpaid"
    assert_customer_figures(order.customer_id)


# --- the plan -----------------------------------------------------------------------------------
def test_plan_must_add_up_to_the_total_and_nothing_is_written_otherwise(org):
    order = order_of(org.manager)
    day = datetime.date(2027, 1, 31)
    with pytest.raises(ValidationError) as exc:
        payments.set_plan(order, [{"due_on": day, "amount": "300"}, {"due_on": day, "amount": "600"}], org.manager)
    assert "instalments" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        payments.set_plan(order, [{"due_on": "", "amount": "1000"}], org.manager)
    assert "instalments.0.due_on" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        payments.set_plan(order, [{"due_on": day, "amount": "-1"}, {"due_on": day, "amount": "1001"}], org.manager)
    assert "instalments.0.amount" in exc.value.message_dict
    assert not order.instalments.exists()
    payments.set_plan(order, [{"due_on": day, "amount": "300"}, {"due_on": day, "amount": "700"}], org.manager)
    assert [i.amount for i in order.instalments.all()] == [D("300.00"), D("700.00")]
    assert fresh(order).payment_due_on == day


def test_overdue_when_an_instalment_date_passed(org):
    order = order_of(org.manager)
    today = timezone.localdate()
    past, future = today - datetime.timedelta(days=3), today + datetime.timedelta(days=30)
    payments.set_plan(order, [{"due_on": past, "amount": "400"}, {"due_on": future, "amount": "600"}], org.manager)
    o = fresh(order)
    assert (o.payment_state, o.payment_due_on, o.payment_status) == ("unpaid", past, PaymentState.OVERDUE)
    payments.record_payment(order, D("399.99"), org.manager)
    assert fresh(order).payment_status == PaymentState.OVERDUE  # the first instalment is not covered yet
    payments.record_payment(order, D("0.01"), org.manager)
    o = fresh(order)
    assert (o.payment_state, o.payment_due_on, o.payment_status) == ("partly_paid", future, "partly_paid")
    # the order list's filter and the My day panel
    api = Client(**auth(org.manager))
    payments.set_plan(order, [{"due_on": past, "amount": "500"}, {"due_on": future, "amount": "500"}], org.manager)
    rows = api.get("/api/v1/orders/?payment=overdue").json()["results"]
    assert [r["id"] for r in rows] == [order.pk]
    assert api.get("/api/v1/orders/?payment=paid").json()["results"] == []
    page = Client()
    page.force_login(org.manager)
    assert order.number in page.get("/?panel=overdue_receivables").content.decode()


def test_overdue_panel_reads_the_due_date_index_with_the_scope_inline(org):
    """Issue 17: the scope as `id IN (SELECT ...)` made SQLite list every visible order first
    (1.2 s for an administrator at 2M orders); inline, the panel walks the due-date index."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kehu.core.testing.plans import assert_indexed
    from kehu.orders.home_fin import overdue_orders

    order = order_of(org.manager)
    today = timezone.localdate()
    payments.set_plan(order, [{"due_on": today - datetime.timedelta(days=2), "amount": "1000"}], org.manager)
    other = order_of(org.manager2)
    payments.set_plan(other, [{"due_on": today - datetime.timedelta(days=2), "amount": "1000"}], org.admin)
    page = Client()
    page.force_login(org.manager)
    with CaptureQueriesContext(connection) as ctx:
        html = page.get("/?panel=overdue_receivables").content.decode()
    assert order.number in html and other.number not in html  # the scope still applies
    sql = next(q["sql"] for q in ctx.captured_queries if 'FROM "orders_order"' in q["sql"])
    assert "SELECT U0" not in sql, sql
    assert_indexed(overdue_orders(Order.objects.visible_to(org.admin)).order_by("payment_due_on", "id")[:30],
                   "order_pay_due_idx", sorted_by_index=False, table="orders_order")


def test_overdue_instalment_reminds_the_owner_once(org):
    from kehu.activities.services import run_reminders
    from kehu.core.models import Notification

    order = order_of(org.manager)
    today = timezone.localdate()
    payments.set_plan(order, [{"due_on": today - datetime.timedelta(days=1), "amount": "1000"}], org.manager)
    before = Notification.objects.filter(user=org.manager).count()
    run_reminders()
    run_reminders()
    notes = Notification.objects.filter(user=org.manager)
    assert notes.count() == before + 1
    assert order.number in notes.order_by("-id").first().title
    run_reminders()  # the instalment is marked reminded now
    assert order.instalments.get().reminded_on == today


# --- invoices -----------------------------------------------------------------------------------
def test_invoice_amount_limit_and_workflow(org):
    order = order_of(org.manager)
    inv = payments.request_invoice(order, D("600.00"), D("69.03"), "special", org.manager)
    assert (inv.status, inv.title, fresh(order).amount_invoiced) == ("requested", order.customer.name, D("600.00"))
    with pytest.raises(ValidationError) as exc:
        payments.request_invoice(order, D("400.01"), D("0"), "ordinary", org.manager)
    assert "amount" in exc.value.message_dict and Invoice.objects.filter(order=order).count() == 1
    wf = registry.get("invoice").workflow
    with pytest.raises(PermissionDenied):  # an account manager requests, finance issues
        wf.take(inv, "issue", org.manager, {"invoice_number": "044001900111"})
    with pytest.raises(ValidationError) as exc:
        wf.take(inv, "issue", org.finance, {})
    assert "invoice_number" in exc.value.message_dict
    inv = wf.take(inv, "issue", org.finance, {"invoice_number": "044001900111"})
    assert inv.status == "issued" and inv.issued_at is not None
    with pytest.raises(ValidationError):
        wf.take(inv, "cancel", org.finance, {})  # a reason is required
    inv = wf.take(inv, "cancel", org.finance, {"comment": "抬头有误"})
    assert inv.status == "cancelled" and fresh(order).amount_invoiced == D("0.00")
    payments.request_invoice(order, D("1000.00"), D("115.04"), "special", org.finance)
    assert fresh(order).amount_invoiced == D("1000.00")


def test_invoice_transitions_refused_through_the_api_change_nothing(org):
    order = order_of(org.manager)
    inv = payments.request_invoice(order, D("100.00"), D("0"), "ordinary", org.manager)
    api = Client(**auth(org.finance))
    url = f"/api/v1/invoices/{inv.pk}/transitions"
    assert api.post(f"{url}/issue", "{}", content_type="application/json").status_code == 422
    assert api.post(f"{url}/issue", json.dumps({"invoice_number": "N1"}), content_type="application/json").status_code == 200
    assert api.post(f"{url}/issue", json.dumps({"invoice_number": "N2"}),
                    content_type="application/json").status_code == 409
    inv.refresh_from_db()
    assert (inv.status, inv.invoice_number) == ("issued", "N1")
    assert Client(**auth(org.manager)).post(f"{url}/cancel", json.dumps({"comment": "x"}),
                                            content_type="application/json").status_code == 403
    inv.refresh_from_db()
    assert inv.status == "issued"


# --- the API -------------------------------------------------------------------------------------
def test_api_payment_overpayment_is_422_and_nothing_written(org):
    order = order_of(org.manager)
    api = Client(**auth(org.manager))
    url = f"/api/v1/orders/{order.pk}/payments"
    response = api.post(url, json.dumps({"amount": "400.00", "reference": "TX9"}), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == "400.00"
    response = api.post(url, json.dumps({"amount": "600.01"}), content_type="application/json")
    assert response.status_code == 422 and "amount" in response.json()["errors"]
    response = api.post(url, json.dumps({"amount": "abc"}), content_type="application/json")
    assert response.status_code == 422
    assert Payment.objects.filter(order=order).count() == 1 and fresh(order).amount_received == D("400.00")
    response = api.post(f"/api/v1/orders/{order.pk}/refunds", json.dumps({"amount": "400.01"}),
                        content_type="application/json")
    assert response.status_code == 422 and "amount" in response.json()["errors"]
    response = api.post(f"/api/v1/orders/{order.pk}/refunds", json.dumps({"amount": "100"}),
                        content_type="application/json")
    assert response.status_code == 201 and response.json()["amount"] == "-100.00"
    assert [p["amount"] for p in api.get(url).json()] == ["-100.00", "400.00"]


def test_api_plan_get_and_put(org):
    order = order_of(org.manager)
    api = Client(**auth(org.manager))
    url = f"/api/v1/orders/{order.pk}/plan"
    assert api.get(url).json() == {"total": "1000.00", "instalments": []}
    bad = {"instalments": [{"due_on": "2027-01-31", "amount": "999.99"}]}
    response = api.put(url, json.dumps(bad), content_type="application/json")
    assert response.status_code == 422 and "instalments" in response.json()["errors"]
    good = {"instalments": [{"due_on": "2027-01-31", "amount": "333.33"}, {"due_on": "2027-02-28", "amount": "666.67"}]}
    response = api.put(url, json.dumps(good), content_type="application/json")
    assert response.status_code == 200, response.content
    assert [i["amount"] for i in api.get(url).json()["instalments"]] == ["333.33", "666.67"]


# --- finance, rights and scope --------------------------------------------------------------------
def test_finance_records_payments_and_invoices_of_any_department_but_edits_no_order(org):
    orders = [order_of(org.manager), order_of(org.manager2)]
    api = Client(**auth(org.finance))
    for order in orders:
        assert api.post(f"/api/v1/orders/{order.pk}/payments", json.dumps({"amount": "100"}),
                        content_type="application/json").status_code == 201
        assert api.post("/api/v1/invoices/", json.dumps({"order": order.pk, "amount": "100", "type": "ordinary"}),
                        content_type="application/json").status_code == 201
    response = api.patch(f"/api/v1/orders/{orders[0].pk}", json.dumps({"title": "改"}), content_type="application/json")
    assert response.status_code == 403
    ui = Client()
    ui.force_login(org.finance)
    assert ui.get(f"/orders/{orders[1].pk}/edit/").status_code == 403
    assert ui.post(f"/orders/{orders[1].pk}/edit/", {"title": "改"}).status_code == 403
    assert fresh(orders[0]).title != "改"
    response = ui.post(f"/orders/{orders[1].pk}/payments/payment/",
                       {"pay-amount": "50", "pay-received_on": "2026-12-01"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and fresh(orders[1]).amount_received == D("150.00")
    with pytest.raises(PermissionDenied):
        payments.record_payment(orders[0], D("1"), org.executive)


def test_another_managers_payments_and_invoices_are_out_of_scope(org):
    mine, theirs = order_of(org.manager), order_of(org.manager2)
    payments.record_payment(theirs, D("10"), org.manager2)
    inv = payments.request_invoice(theirs, D("10"), D("0"), "ordinary", org.manager2)
    payments.record_payment(mine, D("20"), org.manager)
    other_payment = Payment.objects.get(order=theirs)
    api = Client(**auth(org.manager))
    assert api.get(f"/api/v1/payments/{other_payment.pk}").status_code == 404
    assert api.get(f"/api/v1/invoices/{inv.pk}").status_code == 404
    assert [p["id"] for p in api.get("/api/v1/payments/").json()["results"]] == [Payment.objects.get(order=mine).pk]
    assert api.get("/api/v1/invoices/").json()["results"] == []
    assert api.post(f"/api/v1/orders/{theirs.pk}/payments", json.dumps({"amount": "1"}),
                    content_type="application/json").status_code == 404
    ui = Client()
    ui.force_login(org.manager)
    assert ui.get(f"/payments/{other_payment.pk}/").status_code == 404
    assert ui.get(f"/invoices/{inv.pk}/").status_code == 404
    assert ui.get(f"/orders/{theirs.pk}/payments/").status_code == 404
    assert other_payment.number not in ui.get("/payments/").content.decode()
    # an invoice of an order out of scope cannot be requested through the generic form either
    response = api.post("/api/v1/invoices/", json.dumps({"order": theirs.pk, "amount": "1", "type": "ordinary"}),
                        content_type="application/json")
    assert response.status_code == 422 and "order" in response.json()["errors"]


def test_payments_and_invoices_follow_their_documents_owner(org):
    """Whoever records them (finance here), payments and invoices are the document's owner's; the
    order's or the contract's assignment moves them, so they stay seen with it."""
    from kehu.core.assignment import assign
    from kehu.orders.contract_testing import make_contract

    order = order_of(org.manager)
    payment = payments.record_payment(order, D("10"), org.finance)
    invoice = payments.request_invoice(order, D("10"), D("0"), "ordinary", org.finance)
    contract = make_contract(org.manager, status="active")
    contract_payment = payments.record_payment(contract, D("5"), org.finance)
    assert {Payment.objects.get(pk=payment.pk).owner_id, Invoice.objects.get(pk=invoice.pk).owner_id,
            Payment.objects.get(pk=contract_payment.pk).owner_id} == {org.manager.pk}
    assign(fresh(order), org.manager2, by=org.admin)
    assert Payment.objects.get(pk=payment.pk).owner_id == org.manager2.pk
    assert Invoice.objects.get(pk=invoice.pk).owner_id == org.manager2.pk
    assert Payment.objects.get(pk=contract_payment.pk).owner_id == org.manager.pk  # another document
    api = Client(**auth(org.manager))
    assert api.get(f"/api/v1/payments/{payment.pk}").status_code == 404
    assert api.get(f"/api/v1/payments/{contract_payment.pk}").status_code == 200
    assert Client(**auth(org.manager2)).get(f"/api/v1/invoices/{invoice.pk}").status_code == 200
    # an owner change through the order's edit (the API's PATCH) moves them too
    response = Client(**auth(org.admin)).patch(f"/api/v1/orders/{order.pk}", json.dumps({"owner": org.manager.pk}),
                                               content_type="application/json")
    assert response.status_code == 200, response.content
    assert Payment.objects.get(pk=payment.pk).owner_id == org.manager.pk


# --- the page -----------------------------------------------------------------------------------------
def test_order_page_panel_shows_figures_and_field_errors(org):
    order = order_of(org.manager)
    ui = Client()
    ui.force_login(org.manager)
    page = ui.get(f"/orders/{order.pk}/").content.decode()
    assert f"/orders/{order.pk}/payments/" in page
    panel = ui.get(f"/orders/{order.pk}/payments/").content.decode()
    assert 'data-testid="fig-outstanding"' in panel and 'data-status="unpaid"' in panel
    response = ui.post(f"/orders/{order.pk}/payments/payment/", {"pay-amount": "1000.01", "pay-received_on": "2026-12-01"},
                       HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'data-testid="error-amount"' in body and not Payment.objects.exists()
    response = ui.post(f"/orders/{order.pk}/payments/payment/", {"pay-amount": "250", "pay-received_on": "2026-12-01"},
                       HTTP_HX_REQUEST="true")
    assert 'data-status="partly_paid"' in response.content.decode()
    response = ui.post(f"/orders/{order.pk}/payments/plan/", {"due_on": ["2027-01-01", "2027-02-01"],
                                                             "amount": ["500", "400"], "notes": ["", ""]},
                       HTTP_HX_REQUEST="true")
    assert 'data-testid="error-instalments"' in response.content.decode() and not order.instalments.exists()
    response = ui.post(f"/orders/{order.pk}/payments/invoice/", {"inv-type": "ordinary", "inv-amount": "1000",
                                                                "inv-tax": "0"}, HTTP_HX_REQUEST="true")
    assert 'data-testid="invoice-row"' in response.content.decode()
    assert fresh(order).amount_invoiced == D("1000.00")


def test_order_list_payment_filter_and_columns(org):
    paid, partly = order_of(org.manager), order_of(org.manager)
    payments.record_payment(paid, D("1000"), org.manager)
    payments.record_payment(partly, D("1"), org.manager)
    api = Client(**auth(org.manager))
    assert [r["id"] for r in api.get("/api/v1/orders/?payment=paid").json()["results"]] == [paid.pk]
    assert [r["id"] for r in api.get("/api/v1/orders/?payment=partly_paid").json()["results"]] == [partly.pk]
    assert api.get("/api/v1/orders/?payment=nonsense").status_code == 422
    ui = Client()
    ui.force_login(org.manager)
    page = ui.get("/orders/?payment=paid").content.decode()
    assert paid.number in page and partly.number not in page



def test_payments_on_the_customer_timeline_and_tab_within_scope(org):
    order = order_of(org.manager)
    payments.record_payment(order, D("400.00"), org.manager, reference="TX-TL")
    payments.record_refund(order, D("100.00"), org.manager)
    ui = Client()
    ui.force_login(org.manager)
    html = ui.get(f"/customers/{order.customer_id}/timeline/").content.decode()
    assert "TX-TL" in html and order.number in html
    tab = ui.get(f"/customers/{order.customer_id}/related/payments/").content.decode()
    assert Payment.objects.filter(order=order, kind="refund").get().number in tab
    other = Client()
    other.force_login(org.manager2)
    assert "TX-TL" not in other.get(f"/customers/{order.customer_id}/timeline/").content.decode()


def test_the_status_follows_a_changed_total_and_a_cancelled_order_is_never_overdue(org):
    from kehu.orders import services

    order = order_of(org.manager)
    payments.record_payment(order, D("1000.00"), org.manager)
    assert fresh(order).payment_state == "paid"
    services.save_line(fresh(order), org.manager, service_line(description="加项", unit_price="500.00", tax_rate="0"))
    o = fresh(order)
    assert (o.total, o.payment_state, o.outstanding) == (D("1500.00"), "partly_paid", D("500.00"))
    other = order_of(org.manager)
    payments.set_plan(other, [{"due_on": timezone.localdate() - datetime.timedelta(days=1), "amount": "1000"}],
                      org.manager)
    assert fresh(other).payment_status == "overdue"
    registry.get("order").workflow.take(fresh(other), "cancel", org.manager, {"comment": "客户取消"})
    assert fresh(other).payment_due_on is None and fresh(other).payment_status == "unpaid"


def test_an_issued_invoice_is_cancelled_not_deleted(org):
    order = order_of(org.manager)
    inv = payments.request_invoice(order, D("100.00"), D("0"), "ordinary", org.manager)
    inv = registry.get("invoice").workflow.take(inv, "issue", org.finance, {"invoice_number": "N-1"})
    api = Client(**auth(org.finance))
    assert api.delete(f"/api/v1/invoices/{inv.pk}").status_code in (409, 422)
    assert Invoice.objects.filter(pk=inv.pk).exists() and fresh(order).amount_invoiced == D("100.00")
    other = payments.request_invoice(order, D("50.00"), D("0"), "ordinary", org.manager)
    assert api.delete(f"/api/v1/invoices/{other.pk}").status_code == 204
    assert fresh(order).amount_invoiced == D("100.00")  # the deleted request no longer counts


def test_random_payments_refunds_and_invoices_keep_every_figure_exact(org):
    """A seeded random sequence of payments, refunds, plans and invoices (refusals included): the
    order's kept figures equal its rows, the customer's equal the recomputation, at every step."""
    import random

    from kehu.customers.testing import make_customer

    rng = random.Random(11)
    customer = make_customer(org.manager)
    orders = [order_of(org.manager, amount=a, customer=customer) for a in ("0.30", "75.34", "1000.00")]
    for _step in range(40):
        order = fresh(rng.choice(orders))
        amount = D(rng.choice(["0.01", "0.1", "0.3", "25.11", "33.33", "100", "999.99"]))
        op = rng.choice(["pay", "pay", "refund", "invoice", "plan"])
        try:
            if op == "pay":
                payments.record_payment(order, amount, org.finance)
            elif op == "refund":
                payments.record_refund(order, amount, org.finance)
            elif op == "invoice":
                payments.request_invoice(order, amount, D("0"), "ordinary", org.manager)
            else:
                half = (order.total / 2).quantize(D("0.01"))
                payments.set_plan(order, [{"due_on": "2026-01-01", "amount": half},
                                          {"due_on": "2027-01-01", "amount": order.total - half}], org.manager)
        except ValidationError:
            pass
        o = fresh(order)
        rows = sum((p.amount for p in Payment.objects.filter(order=o)), D("0"))
        assert o.amount_received == rows and 0 <= rows <= o.total
        assert o.amount_invoiced == payments.invoiced_total(o) <= o.total
        expected = "unpaid" if rows == 0 else "paid" if rows == o.total else "partly_paid"
        assert o.payment_state == expected
        assert_customer_figures(customer.pk)
    assert figures.recompute_all() == 0  # `kehu recompute` finds nothing to change


def test_recompute_rebuilds_the_payment_state(org):
    order = order_of(org.manager)
    payments.record_payment(order, D("400"), org.manager)
    Order.all_objects.filter(pk=order.pk).update(amount_received=D("0"), payment_state="paid")
    figures.recompute_all()
    o = fresh(order)
    assert (o.amount_received, o.payment_state) == (D("400.00"), "partly_paid")


def test_a_contract_has_the_same_payments_panel_plan_and_api(org):
    """A contract in force is paid like an order: its page loads the panel, the plan and payments
    go through the same service and API, and its kept figures and the customer's follow."""
    from kehu.orders.contract_testing import make_contract

    contract = make_contract(org.manager, status="active", amount=D("90000.00"))
    ui = Client()
    ui.force_login(org.manager)
    page = ui.get(f"/contracts/{contract.pk}/").content.decode()
    assert f"/contracts/{contract.pk}/payments/" in page
    response = ui.post(f"/contracts/{contract.pk}/payments/payment/",
                       {"pay-amount": "90000.01", "pay-received_on": "2026-12-01"}, HTTP_HX_REQUEST="true")
    assert 'data-testid="error-amount"' in response.content.decode() and not Payment.objects.exists()
    response = ui.post(f"/contracts/{contract.pk}/payments/payment/",
                       {"pay-amount": "27000", "pay-received_on": "2026-12-01"}, HTTP_HX_REQUEST="true")
    assert 'data-status="partly_paid"' in response.content.decode()
    api = Client(**auth(org.manager))
    plan = {"instalments": [{"due_on": "2026-12-01", "amount": "27000.00"}, {"due_on": "2027-06-01", "amount": "63000"}]}
    response = api.put(f"/api/v1/contracts/{contract.pk}/plan", json.dumps(plan), content_type="application/json")
    assert response.status_code == 200, response.content
    response = api.post(f"/api/v1/contracts/{contract.pk}/payments",
                        json.dumps({"amount": "63000.00", "received_on": "2026-12-02"}), content_type="application/json")
    assert response.status_code == 201, response.content
    contract.refresh_from_db()
    assert (contract.amount_received, contract.payment_status) == (D("90000.00"), PaymentState.PAID)
    assert_customer_figures(contract.customer_id)
    tab = ui.get(f"/contracts/{contract.pk}/related/payments/").content.decode()
    assert tab.count('href="/payments/') >= 2
    # another manager sees neither the panel nor the API
    other = Client(**auth(org.manager2))
    assert other.get(f"/api/v1/contracts/{contract.pk}/plan").status_code == 404
    ui2 = Client()
    ui2.force_login(org.manager2)
    assert ui2.get(f"/contracts/{contract.pk}/payments/").status_code == 404


def test_a_plan_that_no_longer_adds_up_after_a_line_change_is_flagged_on_the_panel(org):
    from kehu.orders import services
    from kehu.orders.testing import service_line

    order = order_of(org.manager)
    payments.set_plan(order, [{"due_on": "2027-01-01", "amount": "500"}, {"due_on": "2027-02-01", "amount": "500"}],
                      org.manager)
    ui = Client()
    ui.force_login(org.manager)
    assert 'data-testid="plan-mismatch"' not in ui.get(f"/orders/{order.pk}/payments/").content.decode()
    services.save_line(fresh(order), org.manager, service_line("追加服务", unit_price="200.00", tax_rate="0"))
    panel = ui.get(f"/orders/{order.pk}/payments/").content.decode()
    assert 'data-testid="plan-mismatch"' in panel and "¥1,200.00" in panel
    # a plan that adds up again clears it
    payments.set_plan(fresh(order), [{"due_on": "2027-01-01", "amount": "600"}, {"due_on": "2027-02-01", "amount": "600"}],
                      org.manager)
    assert 'data-testid="plan-mismatch"' not in ui.get(f"/orders/{order.pk}/payments/").content.decode()
