from django.core.management import call_command

from kehu.customers.models import Customer
from kehu.orders import figures
from kehu.orders.models import Order, Quotation, Shipment


def test_the_demo_has_orders_in_every_state_loaded_once(db):
    call_command("demo", customers=60)
    orders = Order.objects.count()
    assert orders >= 30
    assert set(Order.objects.values_list("status", flat=True)) == {"created", "processing", "shipped", "delivered",
                                                                   "cancelled"}
    assert Order.objects.filter(status="processing", lines__shipped_quantity__gt=0).exists()  # partly shipped
    assert Shipment.objects.exists()
    assert {"draft", "sent", "accepted", "rejected"} <= set(Quotation.objects.values_list("status", flat=True))
    assert Order.objects.filter(quotation__isnull=False).exists()
    ids = list(Customer.objects.filter(orders__isnull=False).values_list("pk", flat=True).distinct())
    computed = figures.computed(ids)
    assert all(figures.kept(pk) == computed[pk] for pk in ids) and any(computed[pk]["order_count"] for pk in ids)
    call_command("demo", customers=60)
    assert Order.objects.count() == orders


def test_the_demo_has_payments_invoices_and_overdue_orders(db):
    from kehu.orders.models import Invoice, Payment, PaymentState

    call_command("demo", customers=60)
    payments = Payment.objects.count()
    assert payments >= 5
    states = {o.payment_status for o in Order.objects.exclude(status="cancelled")}
    assert {PaymentState.PAID, PaymentState.PARTLY_PAID, PaymentState.UNPAID, "overdue"} <= states
    assert {"requested", "issued"} <= set(Invoice.objects.values_list("status", flat=True))
    assert Payment.objects.filter(contract__isnull=False).exists()
    assert Order.objects.filter(status="delivered", payment_state=PaymentState.PAID).exists()
    ids = list(Customer.objects.filter(payments__isnull=False).values_list("pk", flat=True).distinct())
    computed = figures.computed(ids)
    assert all(figures.kept(pk) == computed[pk] for pk in ids)
    assert any(computed[pk]["amount_received"] > 0 for pk in ids)
    call_command("demo", customers=60)
    assert Payment.objects.count() == payments
