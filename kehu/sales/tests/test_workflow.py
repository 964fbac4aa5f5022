"""The opportunity's workflow: what reopening a deal does to the customer, what is refused and
how it shows (API 409 naming the state, the board, the History tab)."""

import json
from decimal import Decimal

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.core.models import DictItem, TransitionLog
from kehu.core.testing.factories import auth
from kehu.core.workflow import TransitionRefused
from kehu.customers.models import Customer
from kehu.sales import services
from kehu.sales.models import Opportunity, Stage, StageChange
from kehu.sales.testing import make_opportunity

TODAY = timezone.localdate


def won():
    return Stage.objects.get(is_won=True)


def lost():
    return Stage.objects.get(is_lost=True)


def first_open():
    return Stage.objects.filter(is_won=False, is_lost=False, active=True).order_by("order", "id").first()


def win(opp, user, amount="1000", products="软件"):
    return services.change_stage(opp, won(), user, amount=Decimal(amount), deal_products=products,
                                 signed_on=TODAY())


def reopen_api(user, opp, **body):
    return Client(**auth(user)).post(f"/api/v1/opportunities/{opp.pk}/transitions/reopen", json.dumps(body),
                                     content_type="application/json")


def test_reopening_the_only_won_deal_gives_the_customer_back_its_type_and_deal(org):
    customer_type = DictItem.objects.get(kind="customer_type", code="intent")
    opp = make_opportunity(org.manager)
    Customer.objects.filter(pk=opp.customer_id).update(type=customer_type)
    win(opp, org.manager, "5000")
    customer = Customer.objects.get(pk=opp.customer_id)
    assert customer.type.code == "won" and customer.deal_amount == Decimal("5000")

    response = reopen_api(org.manager, opp, to=str(first_open().pk))
    assert response.status_code == 422 and "comment" in response.json()["errors"]  # a reason is required
    assert Opportunity.objects.get(pk=opp.pk).stage == won()

    response = reopen_api(org.manager, opp, to=str(first_open().pk), comment="客户撤回了合同")
    assert response.status_code == 200, response.content
    opp.refresh_from_db()
    assert opp.stage == first_open() and opp.closed_at is None and opp.signed_on is None
    assert opp.probability == first_open().probability
    customer.refresh_from_db()
    assert customer.type.code == "intent" and customer.deal_amount is None and customer.deal_products == ""
    log = TransitionLog.objects.filter(object_id=opp.pk, transition="reopen").get()
    assert log.comment == "客户撤回了合同" and log.by == org.manager
    assert log.data["customer_after"] == "intent"
    assert StageChange.objects.filter(opportunity=opp, from_stage=won(), to_stage=first_open()).exists()


def test_reopening_one_of_two_won_deals_keeps_the_customer_won_with_the_other(org):
    first = make_opportunity(org.manager)
    second = make_opportunity(org.manager, customer=first.customer)
    win(first, org.manager, "1000", "甲产品")
    win(second, org.manager, "2000", "乙产品")
    services.change_stage(second, first_open(), org.manager, comment="数量有误，重新谈")
    customer = Customer.objects.get(pk=first.customer_id)
    assert customer.type.code == "won"
    assert (customer.deal_amount, customer.deal_products) == (Decimal("1000"), "甲产品")


def test_won_cannot_become_lost_without_reopening(org):
    opp = make_opportunity(org.manager)
    win(opp, org.manager)
    response = Client(**auth(org.manager)).post(
        f"/api/v1/opportunities/{opp.pk}/transitions/lose", json.dumps({"lost_reason": DictItem.objects.filter(
            kind="lost_reason").first().pk}), content_type="application/json")
    assert response.status_code == 409
    body = response.json()
    assert body["state"] == str(won().pk) and body["state_label"] == str(won()) and "reopen" in body["allowed"]
    try:
        services.change_stage(opp, lost(), org.manager, lost_reason=DictItem.objects.filter(kind="lost_reason").first())
    except TransitionRefused as exc:
        assert "reopen" in exc.message.lower() or "重新打开" in exc.message
    else:
        raise AssertionError("won → lost was allowed")
    # the board: the drop is refused with the reason, the card stays
    client = Client()
    client.force_login(org.manager)
    response = client.post(reverse("sales:opportunity_stage", args=[opp.pk]), {"stage": lost().pk},
                           HTTP_HX_REQUEST="true")
    assert response["HX-Retarget"] == "#board" and 'data-testid="board-error"' in response.content.decode()
    assert Opportunity.objects.get(pk=opp.pk).stage == won()


def test_transitions_listing_and_history_tab(org):
    opp = make_opportunity(org.manager)
    api = Client(**auth(org.manager))
    listing = api.get(f"/api/v1/opportunities/{opp.pk}/transitions").json()
    assert {t["name"] for t in listing["available"]} == {"move", "win", "lose"}
    move = next(t for t in listing["available"] if t["name"] == "move")
    assert str(opp.stage_id) not in {x["value"] for x in move["targets"]}
    target = move["targets"][0]["value"]
    response = api.post(f"/api/v1/opportunities/{opp.pk}/transitions/move",
                        json.dumps({"to": target, "comment": "需求已确认"}), content_type="application/json")
    assert response.status_code == 200 and str(response.json()["stage"]) == target
    # a state that is not a target of the transition
    response = api.post(f"/api/v1/opportunities/{opp.pk}/transitions/move",
                        json.dumps({"to": str(won().pk)}), content_type="application/json")
    assert response.status_code == 422 and "to" in response.json()["errors"]
    ui = Client()
    ui.force_login(org.manager)
    history = ui.get(reverse("sales:opportunity_history", args=[opp.pk])).content.decode()
    assert 'data-testid="transition-log"' in history and "需求已确认" in history
    detail = ui.get(reverse("sales:opportunity_detail", args=[opp.pk])).content.decode()
    assert 'data-testid="transition-win"' in detail and 'data-testid="transition-reopen"' not in detail


def test_a_user_with_view_only_sees_no_transition_and_cannot_take_one(org):
    from kehu.accounts.models import Role
    from kehu.core.testing.factories import make_user

    opp = make_opportunity(org.manager)
    viewer = make_user("viewer-opp", department=org.team)
    viewer.roles.add(Role.objects.create(code="opp-viewer", name="只读", data_scope="all",
                                         rights=["opportunity.view"]))
    ui = Client()
    ui.force_login(viewer)
    detail = ui.get(reverse("sales:opportunity_detail", args=[opp.pk]))
    assert detail.status_code == 200 and 'data-testid="transition-' not in detail.content.decode()
    assert ui.post(reverse("sales:opportunity_transition", args=[opp.pk, "move"]),
                   {"to": str(won().pk)}).status_code == 403
    response = Client(**auth(viewer)).post(f"/api/v1/opportunities/{opp.pk}/transitions/win", "{}",
                                           content_type="application/json")
    assert response.status_code == 403
    assert Opportunity.objects.get(pk=opp.pk).stage_id == opp.stage_id


def test_an_old_invalid_phone_of_the_customer_does_not_block_the_win(org):
    """Imported customers may carry numbers the form would refuse today; winning checks the deal."""
    opp = make_opportunity(org.manager)
    Customer.objects.filter(pk=opp.customer_id).update(phone="+8615484548879")
    win(opp, org.manager, "800")
    customer = Customer.objects.get(pk=opp.customer_id)
    assert customer.type.code == "won" and customer.deal_amount == Decimal("800")
    assert customer.phone == "+8615484548879"  # left as it was


def test_services_take_the_records_current_values_for_fields_not_given(org):
    """A transition asked by a service (or the API) keeps what it does not name: the amount
    already on the opportunity satisfies the win."""
    opp = make_opportunity(org.manager, amount=Decimal("4200"))
    services.change_stage(opp, won(), org.manager, deal_products="软件", signed_on=TODAY())
    assert Opportunity.objects.get(pk=opp.pk).amount == Decimal("4200")
    assert Customer.objects.get(pk=opp.customer_id).deal_amount == Decimal("4200")
