"""Contracts 合同: the generic record-type tests, then the rules (contracts.py) through the API
and the pages: transitions allowed and refused, renewal, the kept ordered amount, the 30/60/90-day
expiry lists, data scope and the expiry reminder."""

import datetime
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from kehu.core.models import TransitionLog
from kehu.core.testing.factories import auth
from kehu.core.testing.records import BusinessRecordTests
from kehu.customers.testing import make_customer
from kehu.orders import contracts, services
from kehu.orders.contract_testing import make_contract
from kehu.orders.models import Contract, Order
from kehu.orders.testing import make_order, service_line

pytestmark = pytest.mark.django_db


class TestContract(BusinessRecordTests):
    key = "contract"
    update = {"title": "年度维保合同（续）"}
    invalid = {"ends_on": "not-a-date"}

    def make(self, org, owner):
        return make_contract(owner)

    def form_data(self, org):
        customer = make_customer(org.manager)
        return {"title": "CRM 软件采购合同", "customer": customer.pk, "signed_on": "2026-01-05",
                "starts_on": "2026-01-10", "ends_on": "2027-01-09", "amount": "120000.00", "terms": "分三期付款",
                "owner": org.manager.pk}


def api(user):
    return Client(**auth(user))


def post(client, url, data=None):
    return client.post(url, json.dumps(data if data is not None else {}), content_type="application/json")


def ui(user):
    client = Client()
    client.force_login(user)
    return client


def fresh(contract):
    return Contract.all_objects.get(pk=contract.pk)


# --- transitions ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name,state,data,target", [
    ("activate", "draft", {}, "active"),
    ("complete", "active", {}, "completed"),
    ("terminate", "draft", {"comment": "客户取消采购"}, "terminated"),
    ("terminate", "active", {"comment": "客户违约"}, "terminated"),
])
def test_allowed_transitions(org, name, state, data, target):
    contract = make_contract(org.manager, status=state)
    r = post(api(org.manager), f"/api/v1/contracts/{contract.pk}/transitions/{name}", data)
    assert r.status_code == 200, r.content
    got = fresh(contract)
    assert got.status == target
    if target == "active":
        assert got.activated_at is not None
    else:
        assert got.closed_at is not None
    log = TransitionLog.objects.filter(object_id=contract.pk, transition=name).get()
    assert (log.from_state, log.to_state, log.by_id) == (state, target, org.manager.pk)


@pytest.mark.parametrize("name,state", [
    ("activate", "active"), ("activate", "completed"), ("activate", "terminated"),
    ("complete", "draft"), ("complete", "completed"), ("complete", "terminated"),
    ("terminate", "completed"), ("terminate", "terminated"),
])
def test_refused_transitions_are_409_and_change_nothing(org, name, state):
    contract = make_contract(org.manager, status=state)
    data = {"comment": "原因"} if name == "terminate" else {}
    r = post(api(org.manager), f"/api/v1/contracts/{contract.pk}/transitions/{name}", data)
    assert r.status_code == 409 and r.json()["state"] == state
    got = fresh(contract)
    assert (got.status, got.version) == (state, contract.version)
    assert not TransitionLog.objects.filter(object_id=contract.pk, transition=name).exists()


@pytest.mark.parametrize("missing", ["signed_on", "starts_on", "ends_on", "amount"])
def test_putting_in_force_needs_signing_date_term_and_amount(org, missing):
    contract = make_contract(org.manager)
    Contract.all_objects.filter(pk=contract.pk).update(**{missing: Decimal(0) if missing == "amount" else None})
    r = post(api(org.manager), f"/api/v1/contracts/{contract.pk}/transitions/activate")
    assert r.status_code == 409
    assert "生效" in r.json()["detail"] or r.json()["detail"]  # a clear message, in Chinese by default
    assert fresh(contract).status == "draft"


def test_the_page_shows_put_in_force_disabled_with_what_is_missing(org):
    """A draft without its signing date shows "Put in force" disabled, saying what to fill in,
    instead of leaving the user without a way to find it; complete, it is the working button."""
    contract = make_contract(org.manager)
    Contract.all_objects.filter(pk=contract.pk).update(signed_on=None)
    page = ui(org.manager).get(f"/contracts/{contract.pk}/").content.decode()
    assert 'data-testid="transition-activate-blocked"' in page and 'data-testid="transition-activate"' not in page
    reason = contracts.activate_refusal(fresh(contract), org.manager)
    assert 'data-testid="blocked-reason"' in page and reason in page
    Contract.all_objects.filter(pk=contract.pk).update(signed_on=timezone.localdate())
    page = ui(org.manager).get(f"/contracts/{contract.pk}/").content.decode()
    assert 'data-testid="transition-activate"' in page and "blocked" not in page
    # a user without the right sees neither
    assert 'transition-activate' not in ui(org.executive).get(f"/contracts/{contract.pk}/").content.decode()


def test_termination_needs_a_reason(org):
    contract = make_contract(org.manager, status="active")
    r = post(api(org.manager), f"/api/v1/contracts/{contract.pk}/transitions/terminate", {})
    assert r.status_code == 422 and "comment" in r.json()["errors"]
    assert fresh(contract).status == "active"


def test_a_contract_in_force_freezes_its_commercial_fields(org):
    contract = make_contract(org.manager, status="active")
    client = api(org.manager)
    url = f"/api/v1/contracts/{contract.pk}"
    for field, value in (("amount", "1.00"), ("ends_on", "2030-01-01"), ("terms", "改了")):
        r = client.patch(url, json.dumps({field: value}), content_type="application/json")
        assert r.status_code == 422 and field in r.json()["errors"], (field, r.content)
    r = client.patch(url, json.dumps({"notes": "已收到盖章原件", "title": "新标题"}), content_type="application/json")
    assert r.status_code == 200, r.content
    done = make_contract(org.manager, status="completed")
    r = client.patch(f"/api/v1/contracts/{done.pk}", json.dumps({"title": "x"}), content_type="application/json")
    assert r.status_code == 422 and "title" in r.json()["errors"]


def test_form_refuses_end_before_start_and_signing_in_the_future(org):
    customer = make_customer(org.manager)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    r = ui(org.manager).post("/contracts/add/", {
        "title": "合同", "customer": customer.pk, "signed_on": tomorrow.isoformat(), "starts_on": "2026-05-01",
        "ends_on": "2026-04-30", "amount": "10", "owner": org.manager.pk})
    assert r.status_code == 200
    errors = r.context["form"].errors
    assert "ends_on" in errors and "signed_on" in errors
    assert not Contract.objects.filter(customer=customer).exists()


# --- renewal ------------------------------------------------------------------------------------
def test_renewal_creates_the_linked_successor_draft_once(org):
    contract = make_contract(org.manager, status="active", starts_on=datetime.date(2026, 1, 1),
                             ends_on=datetime.date(2026, 12, 31), signed_on=datetime.date(2025, 12, 20),
                             terms="按季度付款")
    r = ui(org.manager).post(f"/contracts/{contract.pk}/actions/renew/")
    successor = Contract.objects.get(previous=contract)
    assert r.status_code == 302 and r["Location"] == f"/contracts/{successor.pk}/"
    assert (successor.status, successor.customer_id, successor.title, successor.amount, successor.terms) == (
        "draft", contract.customer_id, contract.title, contract.amount, "按季度付款")
    assert (successor.starts_on, successor.ends_on) == (datetime.date(2027, 1, 1), datetime.date(2027, 12, 31))
    assert successor.signed_on is None and successor.number != contract.number
    # renewed once: refused, nothing more created
    r = post(api(org.manager), f"/api/v1/contracts/{contract.pk}/actions/renew")
    assert r.status_code == 409 and successor.number in r.json()["detail"]
    assert Contract.objects.filter(previous=contract).count() == 1
    page = ui(org.manager).get(f"/contracts/{contract.pk}/").content.decode()
    assert 'data-testid="contract-renewal"' in page and 'data-testid="transition-renew"' not in page


def test_renewal_refused_for_a_draft_or_terminated_contract(org):
    for state in ("draft", "terminated"):
        contract = make_contract(org.manager, status=state)
        r = post(api(org.manager), f"/api/v1/contracts/{contract.pk}/actions/renew")
        assert r.status_code == 409
        assert not Contract.objects.filter(previous=contract).exists()


def test_renewal_term_keeps_whole_months_or_days():
    d = datetime.date
    assert contracts.renewal_term(d(2026, 3, 15), d(2026, 6, 14)) == (d(2026, 6, 15), d(2026, 9, 14))
    assert contracts.renewal_term(d(2027, 3, 1), d(2028, 2, 29)) == (d(2028, 3, 1), d(2029, 2, 28))
    assert contracts.renewal_term(d(2026, 1, 1), d(2026, 1, 10)) == (d(2026, 1, 11), d(2026, 1, 20))


# --- execution: the ordered amount ---------------------------------------------------------------
def test_ordered_amount_follows_order_create_line_change_cancel_and_unlink(org):
    contract = make_contract(org.manager, status="active")
    client = api(org.manager)
    r = post(client, "/api/v1/orders/", {"title": "首批", "customer": contract.customer_id, "contract": contract.pk})
    assert r.status_code in (200, 201), r.content
    order = Order.objects.get(pk=r.json()["id"])
    r = post(client, f"/api/v1/orders/{order.pk}/lines", [{"description": "实施", "quantity": "2",
                                                          "unit_price": "500.00", "tax_rate": "0"}])
    assert r.status_code == 201, r.content
    assert fresh(contract).amount_ordered == Decimal("1000.00")
    line = order.lines.get()
    r = client.patch(f"/api/v1/orders/{order.pk}/lines/{line.pk}", json.dumps({"quantity": "3"}),
                     content_type="application/json")
    assert r.status_code == 200
    assert fresh(contract).amount_ordered == Decimal("1500.00")
    second = make_order(org.manager, customer=contract.customer, contract=contract,
                        lines=[service_line(unit_price="200.00", tax_rate="0")])
    assert fresh(contract).amount_ordered == Decimal("1700.00")
    r = post(client, f"/api/v1/orders/{order.pk}/transitions/cancel", {"comment": "客户取消"})
    assert r.status_code == 200, r.content
    assert fresh(contract).amount_ordered == Decimal("200.00")
    # unlinked through the form: back to zero; deleted and restored: counted again
    r = client.patch(f"/api/v1/orders/{second.pk}", json.dumps({"contract": None}), content_type="application/json")
    assert r.status_code == 200, r.content
    assert fresh(contract).amount_ordered == Decimal("0.00")
    client.patch(f"/api/v1/orders/{second.pk}", json.dumps({"contract": contract.pk}), content_type="application/json")
    assert fresh(contract).amount_ordered == Decimal("200.00")
    from kehu.core.registry import registry
    from kehu.core.relations import delete_record, restore_record

    delete_record(registry.get("order"), Order.objects.get(pk=second.pk), org.manager)
    assert fresh(contract).amount_ordered == Decimal("0.00")
    restore_record(registry.get("order"), Order.all_objects.get(pk=second.pk), org.manager)
    assert fresh(contract).amount_ordered == Decimal("200.00")


def test_an_orders_contract_must_be_its_customers(org):
    contract = make_contract(org.manager)
    other = make_customer(org.manager)
    r = post(api(org.manager), "/api/v1/orders/", {"title": "订单", "customer": other.pk, "contract": contract.pk})
    assert r.status_code == 422 and "contract" in r.json()["errors"]
    assert not Order.objects.filter(customer=other).exists()


def test_detail_page_shows_progress_bars(org):
    contract = make_contract(org.manager, status="active", amount=Decimal("1000.00"))
    make_order(org.manager, customer=contract.customer, contract=contract,
               lines=[service_line(unit_price="250.00", tax_rate="0")])
    page = ui(org.manager).get(f"/contracts/{contract.pk}/").content.decode()
    assert 'data-testid="progress-ordered"' in page and "width: 25%" in page
    tab = ui(org.manager).get(f"/contracts/{contract.pk}/related/orders/")
    assert tab.status_code == 200


# --- expiry ---------------------------------------------------------------------------------------
def test_expires_within_30_60_90_days(org):
    today = timezone.localdate()
    ends = {d: make_contract(org.manager, status="active", starts_on=today - datetime.timedelta(days=300),
                             ends_on=today + datetime.timedelta(days=d)) for d in (0, 20, 45, 80, 120)}
    make_contract(org.manager, status="completed", starts_on=today - datetime.timedelta(days=300),
                  ends_on=today + datetime.timedelta(days=10))  # not in force: never in the list
    make_contract(org.manager, status="active", starts_on=today - datetime.timedelta(days=300),
                  ends_on=today - datetime.timedelta(days=1))  # ended yesterday
    client = api(org.manager)
    for window, expected in ((30, {0, 20}), (60, {0, 20, 45}), (90, {0, 20, 45, 80})):
        got = {row["id"] for row in client.get(f"/api/v1/contracts/?expires_within={window}").json()["results"]}
        assert got == {ends[d].pk for d in expected}, window
        page = ui(org.manager).get(f"/contracts/?expires_within={window}").content.decode()
        assert all(ends[d].number in page for d in expected) and ends[120].number not in page


def test_expiry_filter_at_a_fixed_date(org):
    d = datetime.date
    c = make_contract(org.manager, status="active", starts_on=d(2026, 1, 1), ends_on=d(2026, 3, 1),
                      signed_on=d(2025, 12, 1))
    at = Contract.objects.filter(pk=c.pk)
    assert at.filter(contracts.expiring_q(30, d(2026, 1, 31))).exists()
    assert not at.filter(contracts.expiring_q(30, d(2026, 1, 29))).exists()
    assert at.filter(contracts.expiring_q(60, d(2026, 1, 1))).exists()
    assert not at.filter(contracts.expiring_q(90, d(2026, 3, 2))).exists()


def test_expiry_reminder_is_sent_once_to_the_owner(org, settings):
    from kehu.activities.models import Reminder
    from kehu.activities.services import run_reminders
    from kehu.core.models import Notification

    settings.KEHU_CONTRACT_EXPIRY_DAYS = 30
    today = timezone.localdate()
    soon = make_contract(org.manager, status="active", starts_on=today - datetime.timedelta(days=300),
                         ends_on=today + datetime.timedelta(days=12))
    later = make_contract(org.manager, status="active", starts_on=today - datetime.timedelta(days=300),
                          ends_on=today + datetime.timedelta(days=45))
    make_contract(org.manager, starts_on=today, ends_on=today + datetime.timedelta(days=5))  # a draft
    run_reminders()
    sent = Reminder.objects.filter(kind=contracts.CONTRACT_EXPIRY)
    assert [(r.object_id, r.user_id) for r in sent] == [(soon.pk, org.manager.pk)]
    assert Notification.objects.filter(user=org.manager, title__contains=soon.number).count() == 1
    run_reminders()
    run_reminders()
    assert sent.count() == 1
    assert Notification.objects.filter(user=org.manager, title__contains=soon.number).count() == 1
    assert fresh(soon).expiry_reminded_on == today and fresh(later).expiry_reminded_on is None


def test_my_day_panel_lists_my_contracts_expiring(org):
    today = timezone.localdate()
    mine = make_contract(org.manager, status="active", starts_on=today - datetime.timedelta(days=300),
                         ends_on=today + datetime.timedelta(days=9))
    theirs = make_contract(org.manager2, status="active", starts_on=today - datetime.timedelta(days=300),
                           ends_on=today + datetime.timedelta(days=9))
    r = ui(org.manager).get("/?panel=contracts_expiring")
    assert r.status_code == 200
    page = r.content.decode()
    assert mine.number in page and theirs.number not in page
    Contract.all_objects.filter(pk=mine.pk).update(ends_on=today + datetime.timedelta(days=200))
    assert ui(org.manager).get("/?panel=contracts_expiring").status_code == 404


# --- data scope -----------------------------------------------------------------------------------
def test_another_managers_contract_is_404_and_absent_from_lists_and_exports(org):
    theirs = make_contract(org.manager2, title="别人的合同")
    mine = make_contract(org.manager, title="我的合同")
    client = api(org.manager)
    assert client.get(f"/api/v1/contracts/{theirs.pk}").status_code == 404
    assert post(client, f"/api/v1/contracts/{theirs.pk}/transitions/activate").status_code == 404
    ids = {row["id"] for row in client.get("/api/v1/contracts/").json()["results"]}
    assert mine.pk in ids and theirs.pk not in ids
    browser = ui(org.manager)
    assert browser.get(f"/contracts/{theirs.pk}/").status_code == 404
    export = b"".join(browser.get("/contracts/?format=csv").streaming_content).decode("utf-8-sig")
    assert mine.number in export and theirs.number not in export
    customer_tab = browser.get(f"/customers/{mine.customer_id}/related/contracts/")
    assert customer_tab.status_code == 200 and mine.number in customer_tab.content.decode()


def test_finance_and_executive_read_contracts(org):
    contract = make_contract(org.manager)
    assert api(org.executive).get(f"/api/v1/contracts/{contract.pk}").status_code == 200
    assert post(api(org.executive), f"/api/v1/contracts/{contract.pk}/transitions/activate").status_code == 403


def test_a_customer_with_contracts_is_not_deleted(org):
    contract = make_contract(org.manager)
    r = api(org.supervisor).delete(f"/api/v1/customers/{contract.customer_id}")
    assert r.status_code in (409, 422), r.content


def test_services_keep_a_quotation_without_contract_working(org):
    from kehu.orders.testing import make_quotation

    q = make_quotation(org.manager)
    services.save_line(q, org.manager, service_line())
    assert q.lines.count() == 2


def test_transitions_appear_on_the_customer_timeline(org):
    contract = make_contract(org.manager)
    client = api(org.manager)
    assert post(client, f"/api/v1/contracts/{contract.pk}/transitions/activate").status_code == 200
    page = ui(org.manager).get(f"/customers/{contract.customer_id}/timeline/").content.decode()
    assert contract.number in page


def test_renewal_through_the_api(org):
    contract = make_contract(org.manager, status="completed", starts_on=datetime.date(2025, 7, 1),
                             ends_on=datetime.date(2026, 6, 30), signed_on=datetime.date(2025, 6, 20))
    r = post(api(org.manager), f"/api/v1/contracts/{contract.pk}/actions/renew")
    assert r.status_code == 200, r.content
    successor = Contract.objects.get(previous=contract)
    assert (r.json()["id"], r.json()["number"]) == (successor.pk, successor.number)  # the successor made
    assert (successor.starts_on, successor.ends_on, successor.status) == (
        datetime.date(2026, 7, 1), datetime.date(2027, 6, 30), "draft")
    assert post(api(org.executive), f"/api/v1/contracts/{successor.pk}/actions/renew").status_code == 403


def test_a_new_order_from_the_contracts_tab_takes_its_customer(org):
    contract = make_contract(org.manager)
    page = ui(org.manager).get(f"/orders/add/?contract={contract.pk}")
    form = page.context["form"]
    assert form.initial["customer"] == contract.customer_id and form.initial["title"] == contract.title
    tab = ui(org.manager).get(f"/contracts/{contract.pk}/related/orders/").content.decode()
    assert f"/orders/?contract={contract.pk}" in tab and f"/orders/add/?contract={contract.pk}" in tab
    order = make_order(org.manager, customer=contract.customer, contract=contract)
    other = make_order(org.manager)
    ids = {row["id"] for row in api(org.manager).get(f"/api/v1/orders/?contract={contract.pk}").json()["results"]}
    assert ids == {order.pk} and other.pk not in ids


def test_demo_contracts_in_every_state(db):
    from django.core.management import call_command

    call_command("demo", customers=30)
    states = set(Contract.objects.values_list("status", flat=True))
    assert states == {"draft", "active", "completed", "terminated"}
    assert Contract.objects.filter(previous__isnull=False).exists()
    assert Contract.objects.filter(contracts.expiring_q(90)).exists()
