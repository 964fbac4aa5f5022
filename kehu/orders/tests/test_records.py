"""The generic tests of quotations and orders (kehu/core/testing/records.py): CRUD in the UI and
the API, rights and scope, every workflow transition allowed and refused, history, export."""

from kehu.core.testing.records import BusinessRecordTests
from kehu.customers.testing import make_customer
from kehu.orders.testing import make_order, make_quotation


class TestQuotation(BusinessRecordTests):
    key = "quotation"
    update = {"title": "二期扩容报价"}
    invalid = {"valid_until": "not-a-date"}

    def make(self, org, owner):
        return make_quotation(owner)

    def form_data(self, org):
        customer = make_customer(org.manager)
        return {"title": "CRM 软件报价", "customer": customer.pk, "quoted_on": "2026-12-01",
                "valid_until": "2026-12-31", "terms": "款到发货", "owner": org.manager.pk}


class TestOrder(BusinessRecordTests):
    key = "order"
    update = {"title": "年度服务订单", "delivery_address": "上海市浦东新区张江路 88 号"}
    invalid = {"promised_date": "not-a-date"}

    def make(self, org, owner):
        return make_order(owner)

    def form_data(self, org):
        customer = make_customer(org.manager)
        return {"title": "首批设备", "customer": customer.pk, "order_date": "2026-12-01",
                "promised_date": "2026-12-20", "owner": org.manager.pk}
