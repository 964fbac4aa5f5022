"""The rules of contracts 合同 (seed 000 FAQ 9), in one place: the workflow's guards and effects,
renewal, the kept execution progress (amount ordered) and the expiry reminders and lists. The UI,
the API, the jobs and the tests all call these.

- A contract is put in force (draft → active) only when it is signed (signing date), has a term
  (start and end date) and an amount above zero.
- `amount_ordered` is the sum of the totals of the contract's orders that count: not cancelled,
  not deleted. It is set by `refresh_contract_ordered` in the transaction of every change that
  moves it (an order's lines, its cancellation, its contract link, its delete and restore), from
  one aggregate, never by adding deltas. `amount_received` / `amount_invoiced` are kept by the
  payments and invoices (payments.py).
- A contract in force ends on its end date: the owner is reminded `KEHU_CONTRACT_EXPIRY_DAYS`
  (default 30) days before, once (the reminder ledger of activities, plus `expiry_reminded_on`).
"""

from __future__ import annotations

import calendar
import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kehu.core.assignment import acting_as

ZERO = Decimal("0.00")
EXPIRY_WINDOWS = (30, 60, 90)  # the list's "expires within" choices
CONTRACT_EXPIRY = "contract_expiry"  # the reminder kind


def expiry_days() -> int:
    return int(getattr(settings, "KEHU_CONTRACT_EXPIRY_DAYS", 30))


# --- workflow (workflows.ContractWorkflow) ------------------------------------------------------
def activate_refusal(contract, user) -> str | None:
    """Why the contract cannot be put in force yet: what it still lacks, named."""
    missing = []
    if not contract.signed_on:
        missing.append(_("the signing date"))
    if not contract.starts_on:
        missing.append(_("the start date"))
    if not contract.ends_on:
        missing.append(_("the end date"))
    if not contract.amount or contract.amount <= ZERO:
        missing.append(_("an amount above zero"))
    if missing:
        return _("A contract in force needs %(missing)s: enter them first.") % {"missing": "、".join(missing)}
    if contract.ends_on < contract.starts_on:
        return _("The end date is before the start date.")
    return None


def contract_activated(contract, user, ctx) -> None:
    contract.activated_at = timezone.now()


def contract_closed(contract, user, ctx) -> None:
    contract.closed_at = timezone.now()


# --- renewal ------------------------------------------------------------------------------------
def _add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def renewal_term(starts_on: datetime.date, ends_on: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The successor's term: from the day after `ends_on`, as long as this one. A term of whole
    months (1 Jan – 31 Dec, 15 Mar – 14 Jun) stays whole months (leap years, short months);
    any other term keeps its number of days."""
    start = ends_on + datetime.timedelta(days=1)
    months = (start.year - starts_on.year) * 12 + start.month - starts_on.month
    if months > 0 and _add_months(starts_on, months) == start:
        return start, _add_months(start, months) - datetime.timedelta(days=1)
    return start, start + (ends_on - starts_on)


def renew_refusal(contract, user) -> str | None:
    from .models import Contract

    if contract.status not in (Contract.Status.ACTIVE, Contract.Status.COMPLETED):
        return _("Only a contract in force or completed can be renewed.")
    successor = Contract._base_manager.filter(previous=contract).first()
    if successor is not None:
        return _("This contract was renewed already: %(number)s.") % {"number": successor.number}
    if not (contract.starts_on and contract.ends_on):
        return _("The contract has no start and end date to renew from.")
    return None


def renew_contract(contract, user, data=None):
    """The linked successor draft: same customer, contact, title, amount and terms, its term right
    after this one's (renewal_term). Refused (ValidationError) when renewed already. Returns it."""
    from .models import Contract

    with acting_as(user), transaction.atomic():
        contract = Contract._base_manager.select_for_update().get(pk=contract.pk)
        reason = renew_refusal(contract, user)
        if reason:
            raise ValidationError({"previous": reason})
        starts_on, ends_on = renewal_term(contract.starts_on, contract.ends_on)
        successor = Contract(previous=contract, title=contract.title, customer_id=contract.customer_id,
                             contact_id=contract.contact_id, amount=contract.amount, terms=contract.terms,
                             starts_on=starts_on, ends_on=ends_on,
                             owner_id=contract.owner_id or getattr(user, "pk", None),
                             created_by=user, updated_by=user)
        successor.save()
        return successor


# --- execution progress -------------------------------------------------------------------------
def counted_orders():
    from .models import Order

    return Order.all_objects.filter(deleted_at__isnull=True).exclude(status=Order.Status.CANCELLED)


def refresh_contract_ordered(contract_id, *, without=None) -> None:
    """Set the contract's kept `amount_ordered` from its orders that count. Called inside the
    transaction that changed them; `without`: an order being cancelled in it (not saved yet)."""
    from .models import Contract

    if not contract_id:
        return
    orders = counted_orders().filter(contract_id=contract_id)
    if without is not None:
        orders = orders.exclude(pk=without)
    total = orders.order_by().aggregate(s=Sum("total"))["s"] or ZERO
    # only this column: no version bump, no change-log entry, no clash with an edit of the contract
    Contract.all_objects.filter(pk=contract_id).update(amount_ordered=total)


def progress(contract) -> list[dict]:
    """The execution bars of the detail page: ordered and received against the amount."""
    rows = []
    for key, label, value in (("ordered", _("Amount ordered"), contract.amount_ordered),
                              ("received", _("Amount received"), contract.amount_received)):
        pct = int(min(value / contract.amount * 100, 100)) if contract.amount > 0 else 0
        rows.append({"key": key, "label": label, "value": value, "pct": pct,
                     "over": contract.amount > 0 and value > contract.amount})
    return rows


@receiver(post_save, sender="orders.Order", dispatch_uid="contract_order_deleted_or_restored")
def _order_deleted_or_restored(sender, instance, update_fields=None, **kwargs):
    """An order going to the recycle bin or back (KehuModel.soft_delete / restore) moves its
    contract's ordered amount; other saves go through the services that refresh it themselves."""
    if update_fields and "deleted_at" in update_fields and instance.contract_id:
        refresh_contract_ordered(instance.contract_id)


# --- expiry -------------------------------------------------------------------------------------
def in_force_q() -> Q:
    return Q(status="active")


def expiring_q(days: int, today: datetime.date | None = None) -> Q:
    """Contracts in force that end within `days` days from `today` (today included)."""
    today = today or timezone.localdate()
    return in_force_q() & Q(ends_on__gte=today, ends_on__lte=today + datetime.timedelta(days=days))


def expiring_contracts(user, today=None, days=None, limit=20) -> list:
    """The user's visible contracts in force ending within the reminder window, soonest first."""
    from .models import Contract

    today = today or timezone.localdate()
    rows = list(Contract.objects.visible_to(user).filter(expiring_q(days or expiry_days(), today), owner=user)
                .select_related("customer").order_by("ends_on", "id")[:limit])
    for c in rows:
        c.days_left = (c.ends_on - today).days
    return rows


def contract_expiry_reminders(now, ledger) -> list:
    """The reminder kind's producer: each contract in force whose end is at most N days away
    reminds its owner once (due at the start of the day N days before its end). A contract whose
    reminder the ledger holds as sent is marked `expiry_reminded_on` and not looked at again."""
    from kehu.core.registries import Due

    from .models import Contract

    today = timezone.localdate(now)
    days = expiry_days()
    rows = list(Contract.objects.filter(expiring_q(days, today), expiry_reminded_on__isnull=True,
                                        owner__isnull=False, owner__is_active=True)
                .select_related("owner", "customer").order_by("ends_on", "id")[:500])
    if not rows:
        return []
    tz = timezone.get_current_timezone()
    due_at = {c.pk: timezone.make_aware(datetime.datetime.combine(
        c.ends_on - datetime.timedelta(days=days), datetime.time.min), tz) for c in rows}
    sent = ledger.sent_keys(CONTRACT_EXPIRY, Contract, [c.pk for c in rows])
    done, out = [], []
    for c in rows:
        if (c.pk, due_at[c.pk], c.owner_id) in sent:
            done.append(c.pk)
            continue
        out.append(Due(CONTRACT_EXPIRY, c, due_at[c.pk], c.owner,
                       _("Contract expiring: %(contract)s") % {"contract": c},
                       _("Customer: %(customer)s. It ends on %(date)s.") % {
                           "customer": c.customer, "date": formats.date_format(c.ends_on, "Y-m-d")},
                       reverse("orders:contract_detail", args=[c.pk])))
    if done:
        Contract.all_objects.filter(pk__in=done).update(expiry_reminded_on=today)
    return out


# --- My day -------------------------------------------------------------------------------------
def expiring_panel(request, ctx):
    ctx["expiring_contracts"] = expiring_contracts(request.user)
    ctx["expiry_days"] = expiry_days()
    return "orders/home_contracts.html" if ctx["expiring_contracts"] else None


# --- the order form's contract (forms.OrderForm) ------------------------------------------------
def setup_order_contract_field(form) -> None:
    """The order's contract: one of the user's visible contracts, chosen by number or title
    among the order's customer's (an autocomplete: there may be half a million)."""
    from django.urls import reverse_lazy

    from kehu.core.widgets import AutocompleteSelect

    from .models import Contract

    field = form.fields.get("contract")
    if field is None:
        return
    if form.user is not None:
        field.queryset = Contract.objects.visible_to(form.user)
    form.contract_before = form.instance.contract_id if form.instance.pk else None
    if not field.disabled:
        field.widget = AutocompleteSelect(lookup_url=reverse_lazy("orders:contract_lookup"), narrow_by=("customer",))
        field.widget.choices = field.choices


def check_order_contract(form, data) -> None:
    """The contract of an order is one of its customer's, not terminated (a field error)."""
    contract, customer = data.get("contract"), data.get("customer")
    if contract is None:
        return
    if customer is not None and contract.customer_id != customer.pk:
        form.add_error("contract", _("This contract belongs to another customer."))
    elif contract.status == "terminated" and "contract" in form.changed_data:
        form.add_error("contract", _("Contract %(number)s was terminated: orders cannot be added to it.") % {
            "number": contract.number})


def order_form_saved(form, order):
    """After the order form saved `order`: the ordered amount of its contract, and of the contract
    it left, in the same transaction."""
    if order.pk is not None:
        before = getattr(form, "contract_before", None)
        for contract_id in {before, order.contract_id} - {None}:
            refresh_contract_ordered(contract_id)
    return order


def initial_from_contract(form) -> None:
    """A new order from a contract's Orders tab (?contract=): the contract's customer and contact."""
    from .models import Contract

    contract_id = str(form.initial.get("contract") or "")
    if contract_id.isdigit() and not form.initial.get("customer") and form.user is not None:
        contract = Contract.objects.visible_to(form.user).filter(pk=contract_id).first()
        if contract is not None:
            form.initial["customer"] = contract.customer_id
            form.initial.setdefault("contact", contract.contact_id)
            if not form.initial.get("title"):
                form.initial["title"] = contract.title
