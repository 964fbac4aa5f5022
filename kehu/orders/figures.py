"""The figures kept on the customer 客户成交数据: first and last order date, order count, lifetime
revenue, gross profit, amount received and outstanding receivables.

They are derived data, kept for the lists, filters and the analysis (RFM, grading, churn) that read
them on every page: each is set, in the transaction of the order or payment that changes it, from
one aggregate over that customer's orders and payments (`refresh_customers`), not by adding deltas,
so a kept figure cannot drift from what `kehu recompute` (`recompute_all`) computes.

- An order counts from its creation until it is cancelled (or deleted); its date is the order date.
- Revenue is the orders' total, tax included (what the customer owes), gross profit their amount
  before tax less the cost kept on their lines.
- Received is every payment of the customer, refunds subtracted (payments of contracts included);
  receivables are what the customer's counted orders still owe, each at least zero."""

from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Count, DecimalField, F, Max, Min, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=18, decimal_places=2)
FIELDS = ("first_order_on", "last_order_on", "order_count", "revenue", "gross_profit", "amount_received",
          "receivables")


def _cents(value) -> Decimal:
    """An aggregate as money: SQLite computes sums of differences in floating point
    (0.00999999999999091), so the result is rounded to the cent it stands for."""
    return ZERO if value is None else Decimal(value).quantize(ZERO)


def _counted_orders():
    from .models import Order

    return Order.all_objects.filter(deleted_at__isnull=True).exclude(status=Order.Status.CANCELLED)


def computed(customer_ids) -> dict[int, dict]:
    """{customer id: {field: value}} as computed from the orders and payments now."""
    from .models import Payment

    ids = list(customer_ids)
    result = {pk: {"first_order_on": None, "last_order_on": None, "order_count": 0, "revenue": ZERO,
                   "gross_profit": ZERO, "amount_received": ZERO, "receivables": ZERO} for pk in ids}
    if not ids:
        return result
    rows = (_counted_orders().filter(customer_id__in=ids).order_by().values("customer_id")
            .annotate(first=Min("order_date"), last=Max("order_date"), n=Count("id"), revenue=Sum("total"),
                      profit=Sum(F("net_total") - F("cost_total"), output_field=MONEY),
                      owed=Sum(Greatest(F("total") - F("amount_received"), Value(ZERO), output_field=MONEY))))
    for row in rows:
        result[row["customer_id"]].update(first_order_on=row["first"], last_order_on=row["last"],
                                          order_count=row["n"], revenue=_cents(row["revenue"]),
                                          gross_profit=_cents(row["profit"]), receivables=_cents(row["owed"]))
    paid = (Payment.all_objects.filter(deleted_at__isnull=True, customer_id__in=ids).order_by()
            .values("customer_id").annotate(total=Sum("amount")))
    for row in paid:
        result[row["customer_id"]]["amount_received"] = _cents(row["total"])
    return result


def refresh_customers(customer_ids) -> None:
    """Set the kept figures of these customers from their orders and payments. Called inside the
    transaction that changed them; it locks nothing itself (the caller holds the document's row)."""
    from kehu.customers.models import Customer

    figures = computed({pk for pk in customer_ids if pk})
    for pk, values in figures.items():
        # an UPDATE of only these columns: no version bump, no change-log entry, no clash with an edit
        Customer.all_objects.filter(pk=pk).update(**values)


def recompute_all(batch: int = 2000, verbose=None) -> int:
    """Rebuild every customer's figures (and the orders' kept payment figures first) from the
    documents: `kehu recompute`. Returns the number of customers whose figures changed."""
    from kehu.customers.models import Customer

    from .models import Order, Payment, PaymentState

    # each order's received amount: the sum of its payments
    received = (Payment.all_objects.filter(deleted_at__isnull=True, order_id=OuterRef("pk")).order_by()
                .values("order_id").annotate(s=Sum("amount")).values("s"))
    Order.all_objects.update(amount_received=Coalesce(Subquery(received, output_field=MONEY), Value(ZERO)))
    # and its payment state from the amounts (payments.payment_figures: the same rule)
    Order.all_objects.update(payment_state=Case(
        When(amount_received__lte=ZERO, then=Value(PaymentState.UNPAID)),
        When(amount_received__gte=F("total"), then=Value(PaymentState.PAID)),
        default=Value(PaymentState.PARTLY_PAID)))
    changed = 0
    last = 0
    while True:
        ids = list(Customer.all_objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            break
        last = ids[-1]
        figures = computed(ids)
        kept = {row["pk"]: row for row in Customer.all_objects.filter(pk__in=ids).values("pk", *FIELDS)}
        with transaction.atomic():
            for pk, values in figures.items():
                if any(kept[pk][f] != v for f, v in values.items()):
                    Customer.all_objects.filter(pk=pk).update(**values)
                    changed += 1
        if verbose:
            verbose(last)
    return changed


def kept(customer_id) -> dict:
    from kehu.customers.models import Customer

    return Customer.all_objects.filter(pk=customer_id).values(*FIELDS).get()

