"""Opportunity actions: assignment and stage changes (won / lost). The form, the board, the API
and jobs all call these, so each rule lives once."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.models import DictItem
from kehu.customers.models import CUSTOMER_DEAL_FIELDS, won_deal_errors

from .models import OPPORTUNITY_DEAL_FIELDS, Opportunity, PlanStep, Stage, StageChange, close_errors

CLOSE_FIELDS = ("amount", "deal_products", "signed_on", "lost_reason", "won_competitor")
WON_DEAL_FIELDS = ("amount", "deal_products", "signed_on")
# A customer's field -> the opportunity's field the user fills in (the deal fields follow one rule,
# kehu.customers.models.won_deal_errors, already checked on the opportunity; the name can still fail)
CUSTOMER_FIELD_MAP = {"name": "prospect_name",
                      **{c: OPPORTUNITY_DEAL_FIELDS[k] for k, c in CUSTOMER_DEAL_FIELDS.items()}}


# --- assignment ------------------------------------------------------------------

def mark_assigned(opp: Opportunity, by) -> None:
    """What an assignment sets on the opportunity itself (OpportunityType.before_assign)."""
    opp.assigned_at = timezone.now()
    opp.assigned_by = by


def assignment_message(opp: Opportunity, by) -> tuple[str, str]:
    return (_("Opportunity assigned to you: %(title)s") % {"title": opp.title},
            _("%(user)s assigned the opportunity %(number)s “%(title)s” (%(party)s) to you.") % {
                "user": by, "number": opp.number, "title": opp.title, "party": opp.party or "—"})


def assign(opp: Opportunity, user, by) -> Opportunity:
    """Give an opportunity to an account manager through core's assign service: they are told
    in-app and by e-mail; the change log records the owner change (reassignment)."""
    from kehu.core.assignment import assign as assign_record

    if user is None or not user.is_active:
        raise ValidationError({"owner": _("Choose an active user.")})
    return assign_record(opp, user, by)


# --- stages ------------------------------------------------------------------------

def default_stage() -> Stage | None:
    return Stage.objects.filter(active=True, is_won=False, is_lost=False).order_by("order", "id").first()


def enter_stage(opp: Opportunity, stage: Stage, by, *, probability_given: bool = False) -> dict:
    """Apply what entering `stage` means to the (unsaved) opportunity: probability, closing date,
    and for a won stage the customer becoming "won" (created from the prospect if needed).
    Raises ValidationError naming the opportunity's fields. Returns what the transition log keeps
    (the customer as it was before a win, so that reopening can take the win back)."""
    opp.stage = stage
    if not probability_given:
        opp.probability = None  # Opportunity.save: the stage's probability
    errors = close_errors(opp)
    if errors:
        raise ValidationError(errors)
    if stage.is_closed:
        opp.closed_at = opp.closed_at or timezone.now()
    else:
        opp.closed_at = None
    if stage.is_won:
        return win_customer(opp, by)
    return {}


def deal_before_win(customer) -> dict:
    """The customer's type and deal fields as a win's log keeps them, for `unwin_customer`."""
    return {"customer_type": customer.type.code if customer.type_id else None,
            "deal_amount": str(customer.deal_amount) if customer.deal_amount is not None else None,
            "deal_products": customer.deal_products,
            "signed_on": customer.signed_on.isoformat() if customer.signed_on else None}


def win_customer(opp: Opportunity, by) -> dict:
    """The customer (or the prospect, who becomes a customer) turns into type "won". Returns the
    customer's type and deal fields as they were before."""
    from kehu.customers.models import Customer

    won = DictItem.objects.filter(kind="customer_type", code="won").first()
    if won is None:
        raise ValidationError(_("The data dictionary has no customer type “won”."))
    # a fresh, locked copy: never write back stale values of the customer
    customer = Customer.objects.select_for_update().filter(pk=opp.customer_id).first() if opp.customer_id else None
    if customer is None:
        customer = Customer(name=opp.prospect_name, owner=opp.owner, created_by=by, source_id=opp.source_id)
        before = {"customer_created": True}
    else:
        before = deal_before_win(customer)
    customer.type = won
    customer.deal_amount = opp.amount
    customer.deal_products = opp.deal_products
    customer.signed_on = opp.signed_on
    customer.updated_by = by
    try:
        if customer.pk is None:  # the prospect becomes a customer: every rule of a new customer
            customer.full_clean()
        else:  # the won-deal rule only: an old, imperfect phone number must not block the win
            errors = won_deal_errors(True, customer.deal_amount, customer.deal_products, customer.signed_on,
                                     CUSTOMER_DEAL_FIELDS)
            if errors:
                raise ValidationError(errors)
    except ValidationError as exc:
        errors: dict = {}
        for field, messages in exc.message_dict.items():
            target = CUSTOMER_FIELD_MAP.get(field, "__all__") if field != "name" or not opp.customer_id \
                else "customer"
            errors.setdefault(target, []).extend(
                messages if target != "__all__" else [_("Customer: %(msg)s") % {"msg": m} for m in messages])
        raise ValidationError(errors)
    customer.save()
    opp.customer = customer
    return {"customer_before": before}


def reopen(opp: Opportunity, by, from_state: str) -> dict:
    """A won or lost opportunity back in an open stage (the workflow's "reopen"): it is open again
    (no closing time, no lost reason, not signed) and takes its stage's probability. Reopening a
    won deal takes the win back from the customer (`unwin_customer`)."""
    was_won = Stage.objects.filter(pk=int(from_state) if str(from_state).isdigit() else 0, is_won=True).exists()
    opp.closed_at = None
    opp.probability = None
    opp.lost_reason = None
    opp.won_competitor = ""
    opp.signed_on = None
    if was_won and opp.customer_id:
        return {"customer_after": unwin_customer(opp, by)}
    return {}


def unwin_customer(opp: Opportunity, by, leaving=()) -> str:
    """What reopening the won opportunity `opp` does to its customer: if another won opportunity
    of the customer remains, the customer stays "won" with that deal's amount, products and
    signing date; otherwise the customer gets back the type and deal fields it had before this
    opportunity was won (from the transition log: its win, or the import that brought it in won;
    "intent" when the win predates the log).
    `leaving`: other opportunities being removed with it (an import's undo), which keep nothing won.
    Returns the customer type's code afterwards."""
    from django.contrib.contenttypes.models import ContentType

    from kehu.core.models import TransitionLog
    from kehu.customers.models import Customer

    customer = Customer.objects.select_for_update().filter(pk=opp.customer_id).first()
    if customer is None:
        return ""
    other = (Opportunity.objects.filter(customer_id=customer.pk, stage__is_won=True).exclude(pk__in={opp.pk, *leaving})
             .order_by("-signed_on", "-id").first())
    if other is not None:
        customer.deal_amount, customer.deal_products, customer.signed_on = \
            other.amount, other.deal_products, other.signed_on
    else:
        win = (TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(Opportunity),
                                            object_id=opp.pk, transition__in=("win", "import"))
               .order_by("-at", "-id").values_list("data", flat=True).first()) or {}
        before = win.get("customer_before") or {}
        code = before.get("customer_type") if "customer_type" in before else "intent"
        if code == "won":  # it was won by an earlier deal that is no longer won
            code = "intent"
        # a customer that had no type gets none back; a kept type that is gone: "intent"
        customer.type = None if code is None else (
            DictItem.objects.filter(kind="customer_type", code=code).first()
            or DictItem.objects.filter(kind="customer_type", code="intent").first())
        customer.deal_amount = before.get("deal_amount")
        customer.deal_products = before.get("deal_products") or ""
        customer.signed_on = before.get("signed_on")
    customer.updated_by = by
    customer.save()
    return customer.type.code if customer.type_id else ""


def record_change(opp: Opportunity, from_stage_id, to_stage: Stage, by) -> StageChange:
    return StageChange.objects.create(opportunity=opp, from_stage_id=from_stage_id, to_stage=to_stage,
                                      changed_by=by if by is not None and by.is_authenticated else None)


def workflow():
    from kehu.core.registry import registry

    return registry.get("opportunity").workflow


def change_stage(opp: Opportunity, stage: Stage, by, **close_data) -> Opportunity:
    """Move an opportunity to `stage` through the workflow's transition that leads there (move,
    win, lose or reopen: kehu/sales/workflows.py). A won stage needs amount, deal_products and
    signed_on; a lost stage needs lost_reason (won_competitor optional); reopening needs a
    `comment`. Raises TransitionRefused when no transition leads there now (won → lost)."""
    from kehu.core.api import to_form_value
    from kehu.core.workflow import TransitionRefused

    unknown = set(close_data) - set(CLOSE_FIELDS) - {"comment"}
    if unknown:
        raise TypeError(f"unknown close data: {sorted(unknown)}")
    if not stage.active:
        raise ValidationError({"stage": _("This stage is no longer in use.")})
    wf = workflow()
    t = wf.transition_to(opp, stage.pk)
    if t is None:
        current = wf.state(opp)
        raise TransitionRefused(stage_refusal(opp, stage), current, wf.state_label(current, opp),
                                [x.name for x in wf.available(opp, by)])
    data = {"to": str(stage.pk)}
    for field, value in close_data.items():
        if value is None:
            continue
        if field == "lost_reason":
            value = _lost_reason(value)
        data[field] = to_form_value(value)
    return wf.take(opp, t.name, by, data)


def stage_refusal(opp: Opportunity, stage: Stage) -> str:
    if opp.stage.is_closed and stage.is_closed:
        return _("“%(title)s” is %(state)s: reopen it before moving it to %(stage)s.") % {
            "title": opp.title, "state": opp.stage, "stage": stage}
    return _("“%(title)s” cannot move from %(state)s to %(stage)s.") % {
        "title": opp.title, "state": opp.stage, "stage": stage}


def _lost_reason(value):
    if isinstance(value, DictItem):
        item = value
    else:
        item = DictItem.objects.filter(pk=value if str(value).isdigit() else None, kind="lost_reason").first() \
            or DictItem.objects.filter(kind="lost_reason", code=str(value)).first()
    if item is None or item.kind != "lost_reason":
        raise ValidationError({"lost_reason": _("Choose a lost reason from the list.")})
    return item


def save_form(form, user) -> Opportunity:
    """Save the opportunity form through the same rules as the board and the API."""
    opp = form.instance
    creating = opp.pk is None
    old = None if creating else Opportunity.all_objects.filter(pk=opp.pk).values("stage_id", "owner_id").first()
    stage_changed = creating or old["stage_id"] != opp.stage_id
    # an owner change is an assignment: core's save_record checks it, marks and notifies
    with transaction.atomic():
        if creating and opp.owner_id is not None and opp.assigned_at is None:
            mark_assigned(opp, user)
        if stage_changed:
            enter_stage(opp, opp.stage, user, probability_given="probability" in form.changed_data)
        elif opp.stage.is_won and set(form.changed_data) & set(WON_DEAL_FIELDS):
            # a corrected amount, product list or signing date of a won deal reaches the customer
            enter_stage(opp, opp.stage, user, probability_given=True)
        obj = form.save()
        if stage_changed:
            record_change(obj, old["stage_id"] if old else None, obj.stage, user)
    return obj


# --- development plans -----------------------------------------------------------------

def overdue_plan_steps(now: datetime.datetime | None = None):
    """Undone plan steps whose date has passed, of opportunities that are alive and open
    (the worker reminds their responsible person)."""
    today = timezone.localdate(now or timezone.now())
    return (
        PlanStep.objects.filter(done_at__isnull=True, planned_on__lt=today)
        .filter(Q(opportunity__deleted_at__isnull=True), opportunity__closed_at__isnull=True)  # Opportunity.open_q
        .select_related("opportunity", "responsible")
        .order_by("planned_on", "id")
    )


def complete_step(step: PlanStep, result: str, by) -> PlanStep:
    result = (result or "").strip()
    if not result:
        raise ValidationError({"result": _("Describe the result of this step.")})
    step.result = result
    step.done_at = timezone.now()
    step.updated_by = by
    step.save()
    return step
