"""A customer's relation declarations (kehu/core/relations.py): open opportunities protect it from
deletion, contacts and follow-ups go to the recycle bin with it and come back with it, merge moves
related records with a change-log entry and a new version each."""

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import timezone

from kehu.activities.models import FollowUp
from kehu.activities.testing import make_followup
from kehu.core.models import DeletedItem, Deletion
from kehu.core.relations import Cascade, Protect, delete_record, restore_record
from kehu.core.testing.factories import auth
from kehu.customers import services
from kehu.customers.models import Contact, Customer
from kehu.customers.testing import make_contact, make_customer
from kehu.sales.models import Opportunity
from kehu.sales.testing import make_opportunity

API = "/api/v1/customers/"


def ui(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def customer_type():
    from kehu.core.registry import registry

    return registry.get("customer")


def test_the_customer_declares_its_relations():
    kinds = {r.name: type(r) for r in customer_type().relations}
    assert kinds == {"opportunities": Protect, "contacts": Cascade, "followups": Cascade}


def test_an_open_opportunity_protects_the_customer_in_the_ui(org):
    c = make_customer(org.manager, "有商机有限公司")
    make_opportunity(org.manager, customer=c)
    client = ui(org.supervisor)
    dialog = client.get(f"/customers/{c.pk}/delete/").content.decode()
    # said in the user's language: the customer and how many (" 1 " in both languages)
    assert 'data-testid="delete-refused"' in dialog and "有商机有限公司" in dialog and " 1 " in dialog
    assert 'data-testid="confirm-delete"' not in dialog
    response = client.post(f"/customers/{c.pk}/delete/", follow=True)
    shown = " ".join(str(m) for m in response.context["messages"])
    assert "有商机有限公司" in shown and " 1 " in shown
    assert Customer.objects.filter(pk=c.pk).exists()
    assert not Deletion.objects.exists()


def test_an_open_opportunity_protects_the_customer_in_the_api(org):
    c = make_customer(org.manager, "接口有商机有限公司")
    make_opportunity(org.manager, customer=c)
    make_opportunity(org.manager, customer=c)
    response = Client(**auth(org.supervisor)).delete(f"{API}{c.pk}")
    assert response.status_code == 409, response.content
    body = response.json()
    assert list(body["errors"]) == ["opportunities"]
    assert body["errors"]["opportunities"] == [body["detail"]]
    assert "接口有商机有限公司" in body["detail"] and " 2 " in body["detail"]
    assert Customer.objects.filter(pk=c.pk).exists()


def test_closed_opportunities_do_not_protect(org):
    c = make_customer(org.manager, "已结束商机有限公司")
    opp = make_opportunity(org.manager, customer=c)
    Opportunity.objects.filter(pk=opp.pk).update(closed_at=timezone.now())
    assert ui(org.supervisor).get(f"/customers/{c.pk}/delete/").context["refusals"] == []
    assert Client(**auth(org.supervisor)).delete(f"{API}{c.pk}").status_code == 204
    assert not Customer.objects.filter(pk=c.pk).exists()
    assert Opportunity.objects.filter(pk=opp.pk).exists()  # not declared as a cascade: stays


def test_bulk_delete_goes_through_the_same_rules(org):
    free, busy = make_customer(org.manager, "可删有限公司"), make_customer(org.manager, "不可删有限公司")
    make_opportunity(org.manager, customer=busy)
    response = ui(org.supervisor).post("/customers/bulk/", {"action": "delete", "pk": [free.pk, busy.pk]},
                                       follow=True)
    shown = " ".join(str(m) for m in response.context["messages"])
    assert "不可删有限公司" in shown and "可删有限公司”" not in shown.replace("不可删有限公司”", "")
    assert Customer.objects.filter(pk__in=[free.pk, busy.pk]).count() == 2  # nothing half done


def test_delete_cascades_to_the_recycle_bin_and_restore_brings_back_exactly_that(org):
    c = make_customer(org.manager, "级联有限公司")
    contacts = [make_contact(c, "张三"), make_contact(c, "李四")]
    followups = [make_followup(c), make_followup(c, topic="上门拜访")]
    earlier = make_contact(c, "早删")
    earlier_followup = make_followup(c, topic="早删的跟进")
    earlier.soft_delete(org.supervisor)
    earlier_followup.soft_delete(org.supervisor)
    client = ui(org.supervisor)
    assert client.post(f"/customers/{c.pk}/delete/").status_code == 302
    assert not Contact.objects.filter(customer_id=c.pk).exists()
    assert not FollowUp.objects.filter(customer_id=c.pk).exists()
    deletion = Deletion.objects.get()
    assert deletion.object_id == c.pk and deletion.deleted_by == org.supervisor
    assert sorted(DeletedItem.objects.values_list("object_id", flat=True)) == sorted(
        [x.pk for x in contacts] + [f.pk for f in followups])
    # the contact deleted earlier has the very same deletion time: the batch decides, not the time
    when = Customer.all_objects.get(pk=c.pk).deleted_at
    Contact.all_objects.filter(pk=earlier.pk).update(deleted_at=when)
    assert client.post(f"/customers/{c.pk}/restore/").status_code == 302
    assert Customer.objects.filter(pk=c.pk).exists()
    assert sorted(Contact.objects.filter(customer_id=c.pk).values_list("pk", flat=True)) == sorted(
        x.pk for x in contacts)
    assert sorted(FollowUp.objects.filter(customer_id=c.pk).values_list("pk", flat=True)) == sorted(
        f.pk for f in followups)
    assert Contact.all_objects.get(pk=earlier.pk).deleted_at is not None
    assert FollowUp.all_objects.get(pk=earlier_followup.pk).deleted_at is not None
    assert not Deletion.objects.exists() and not DeletedItem.objects.exists()


def test_a_second_delete_restores_only_what_it_took(org):
    c = make_customer(org.manager, "两次删除有限公司")
    first = make_contact(c, "第一")
    rt = customer_type()
    delete_record(rt, c, org.supervisor)
    c = Customer.all_objects.get(pk=c.pk)
    restore_record(rt, c, org.supervisor)
    # deleted on its own between the two deletes of the customer
    Contact.objects.get(pk=first.pk).soft_delete(org.supervisor)
    second = make_contact(Customer.objects.get(pk=c.pk), "第二")
    delete_record(rt, Customer.objects.get(pk=c.pk), org.supervisor)
    restored = restore_record(rt, Customer.all_objects.get(pk=c.pk), org.supervisor)
    assert [x.pk for x in restored] == [second.pk]
    assert list(Contact.objects.filter(customer_id=c.pk).values_list("pk", flat=True)) == [second.pk]


def _changes(obj):
    ct = ContentType.objects.get_for_model(type(obj))
    return list(LogEntry.objects.filter(content_type=ct, object_id=obj.pk, action=LogEntry.Action.UPDATE)
                .order_by("id"))


def test_merge_moves_related_records_with_a_change_log_entry_and_a_new_version(org):
    keep, other = make_customer(org.manager, "保留有限公司"), make_customer(org.manager2, "合并有限公司")
    contact = make_contact(other, "王五")
    gone = make_contact(other, "已删联系人")
    gone.soft_delete(org.supervisor)
    followup = make_followup(other)
    opp = make_opportunity(org.manager2, customer=other)
    records = [Contact.all_objects.get(pk=contact.pk), Contact.all_objects.get(pk=gone.pk),
               FollowUp.objects.get(pk=followup.pk), Opportunity.objects.get(pk=opp.pk)]
    versions = {(type(r), r.pk): r.version for r in records}
    services.merge_customers(keep, other, org.admin)
    for record in records:
        moved = type(record)._base_manager.get(pk=record.pk)
        assert moved.customer_id == keep.pk
        assert moved.version == versions[(type(record), record.pk)] + 1, record
        assert moved.updated_by == org.admin
        entry = _changes(moved)[-1]
        assert entry.actor == org.admin
        assert entry.changes_dict["customer"] == [str(other), str(keep)], entry.changes_dict
    # the contacts follow the kept customer's owner
    assert Contact.all_objects.get(pk=contact.pk).owner == org.manager
    assert Customer.all_objects.get(pk=other.pk).merged_into_id == keep.pk


def test_a_contact_deleted_with_its_customer_comes_back_only_with_it(org):
    c = make_customer(org.manager, "一起删除有限公司")
    contact = make_contact(c, "张三")
    client = ui(org.supervisor)
    client.post(f"/customers/{c.pk}/delete/")
    response = client.post(f"/contacts/{contact.pk}/restore/", follow=True)
    shown = " ".join(str(m) for m in response.context["messages"])
    assert "一起删除有限公司" in shown and "张三" in shown
    assert Contact.all_objects.get(pk=contact.pk).deleted_at is not None
    client.post(f"/customers/{c.pk}/restore/")
    assert Contact.objects.filter(pk=contact.pk).exists()
