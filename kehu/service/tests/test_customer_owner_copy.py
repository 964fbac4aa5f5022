"""A ticket keeps a copy of its customer's owner (kehu.customers.models.CarriesCustomerOwner), the
third path of its data scope: set when it is created or changes customer, moved with every change
of the customer's owner (assignment, the public pool, merge, an import's update), also for tickets
in the recycle bin. The scope reads the copy, so a copy left behind would show a ticket to the
previous account manager and hide it from the new one."""

import pytest

from kehu.core.assignment import assign
from kehu.core.testing.imports import csv_bytes, run
from kehu.customers import services as customer_services
from kehu.customers.models import Contact
from kehu.customers.testing import make_contact, make_customer
from kehu.service.models import Ticket
from kehu.service.testing import make_ticket

pytestmark = pytest.mark.django_db


def copies(*tickets):
    return [Ticket.all_objects.get(pk=t.pk).customer_owner_id for t in tickets]


def sees(user, ticket) -> bool:
    return Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists()


def test_a_ticket_takes_its_customers_owner_when_created_and_when_it_changes_customer(org):
    ticket = make_ticket(org.service)  # created by an agent, for a customer of the agent...
    assert copies(ticket) == [org.service.pk]
    other = make_customer(org.manager)
    ticket.customer = other
    ticket.save()
    assert copies(ticket) == [org.manager.pk]
    assert sees(org.manager, ticket) and sees(org.supervisor, ticket) and not sees(org.manager2, ticket)
    # a save that does not touch the customer leaves the copy alone (no query for the customer)
    Ticket.all_objects.filter(pk=ticket.pk).update(customer_owner=org.manager2)
    ticket = Ticket.objects.get(pk=ticket.pk)
    ticket.summary = "打印机卡纸"
    ticket.save()
    assert copies(ticket) == [org.manager2.pk]


def test_the_copy_follows_assignment_the_pool_and_merge_also_in_the_recycle_bin(org):
    customer = make_customer(org.manager)
    live = make_ticket(org.service, customer=customer)
    binned = make_ticket(org.service, customer=customer)
    binned.soft_delete(org.admin)
    assign(customer, org.manager2, org.admin)
    assert copies(live, binned) == [org.manager2.pk, org.manager2.pk]
    assert sees(org.manager2, live) and not sees(org.manager, live) and not sees(org.supervisor, live)

    customer.refresh_from_db()
    customer_services.release(customer, org.admin)
    assert copies(live, binned) == [None, None]
    customer.refresh_from_db()
    customer_services.claim(customer, org.manager)
    assert copies(live, binned) == [org.manager.pk, org.manager.pk]

    keep = make_customer(org.manager2, "合并后的客户")
    customer.refresh_from_db()
    customer_services.merge_customers(keep, customer, org.admin)
    assert copies(live, binned) == [org.manager2.pk, org.manager2.pk]
    assert Ticket.all_objects.get(pk=live.pk).customer_id == keep.pk


def test_an_import_that_changes_a_customers_owner_moves_its_contacts_and_tickets(org):
    customer = make_customer(org.manager, "华东精密机械有限公司")
    contact = make_contact(customer, "王伟", mobile="13912345678")
    ticket = make_ticket(org.service, customer=customer)
    job = run(org.admin, csv_bytes([["客户名称", "负责人"], ["华东精密机械有限公司", "manager2"]]),
              duplicates="update")
    assert (job.updated, job.failed_rows) == (1, 0), job.errors
    customer.refresh_from_db()
    assert customer.owner_id == org.manager2.pk
    assert Contact.all_objects.get(pk=contact.pk).owner_id == org.manager2.pk
    assert copies(ticket) == [org.manager2.pk]
    assert sees(org.manager2, ticket) and not sees(org.manager, ticket)


def test_feedback_keeps_the_same_copy_and_is_seen_through_it(org):
    """Feedback is seen by its owner and by its customer's owner, through its own copy of the latter
    (`scope_paths = ("owner", "customer_owner")`), moved with the customer like a ticket's."""
    from kehu.service.models import Feedback
    from kehu.service.testing import make_feedback

    customer = make_customer(org.manager)
    feedback = make_feedback(org.service, customer=customer)
    binned = make_feedback(org.service, customer=customer)
    binned.soft_delete(org.admin)

    def feedback_copies():
        return [Feedback.all_objects.get(pk=f.pk).customer_owner_id for f in (feedback, binned)]

    def sees_feedback(user):
        return Feedback.objects.visible_to(user).filter(pk=feedback.pk).exists()

    assert feedback_copies() == [org.manager.pk, org.manager.pk]
    assert sees_feedback(org.manager) and sees_feedback(org.supervisor) and not sees_feedback(org.manager2)
    assign(customer, org.manager2, org.admin)
    assert feedback_copies() == [org.manager2.pk, org.manager2.pk]
    assert sees_feedback(org.manager2) and not sees_feedback(org.manager) and sees_feedback(org.service)
