"""Test builders for surveys, shared by every app's tests: an order as the survey subject (the
service ticket takes its place at merge) and a sent survey."""

from kehu.customers.testing import make_contact, make_customer

from .subjects import register_subject

ANSWERS: list[tuple] = []  # (subject pk, rating, comment, survey pk) of every on_answer call


def order_summary(order) -> str:
    return f"{order.number} {order.title}".strip()


def order_customer(order):
    return order.customer


def order_contact(order):
    return order.contact


def order_answered(order, rating, comment, survey) -> None:
    ANSWERS.append((order.pk, rating, comment, survey.pk))


def register_order_subject():
    """Declare orders a survey subject (as the ticket does in its registrations.py)."""
    from kehu.orders.models import Order

    return register_subject(Order, summary=order_summary, customer=order_customer, contact=order_contact,
                            on_answer=order_answered)


def make_subject(owner, *, email="li.lei@example.com", contact_name="李雷", title="年度运维服务", customer=None):
    """An order (a registered subject) of a new customer of `owner`, with a contact."""
    from kehu.orders.testing import make_order

    register_order_subject()
    customer = customer or make_customer(owner)
    contact = make_contact(customer, contact_name, email=email)
    return make_order(owner, customer=customer, contact=contact, title=title)


def make_survey(owner, user=None, *, language="zh-hans", **subject):
    from .services import send_survey

    return send_survey(make_subject(owner, **subject), user or owner, language=language)
