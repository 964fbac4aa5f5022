from kehu.core.models import DictItem
from kehu.core.testing.records import BusinessRecordTests
from kehu.customers.models import Contact
from kehu.customers.testing import make_customer


class TestCustomer(BusinessRecordTests):
    key = "customer"
    update = {"notes": "客户希望下月演示"}
    invalid = {"phone": "12345"}

    def make(self, org, owner):
        return make_customer(owner)

    def form_data(self, org):
        return {
            "name": "北京远航测试科技有限公司", "phone": "138 1234 5678", "owner": org.manager.pk,
            "country": "中国", "status": "active",
            "type": DictItem.objects.get(kind="customer_type", code="potential").pk,
        }


class TestContact(BusinessRecordTests):
    key = "contact"
    update = {"title": "采购总监"}
    invalid = {"mobile": "123"}

    def make(self, org, owner):
        customer = make_customer(owner)
        contact = Contact(customer=customer, name=f"联系人{customer.pk}", mobile="13900001111")
        contact.full_clean()
        contact.save()
        return contact

    def form_data(self, org):
        customer = make_customer(org.manager)
        return {"customer": customer.pk, "name": "王芳", "mobile": "13900002222", "gender": "female"}
