"""The generic tests of payments (a read-only history) and invoices (a workflow): lists, detail,
export, rights and scope, every invoice transition allowed and refused (kehu/core/testing/records.py)."""

from decimal import Decimal

from kehu.core.testing.records import BusinessRecordTests, ReadOnlyRecordTests
from kehu.orders import payments
from kehu.orders.testing import make_order, service_line


def _order(owner):
    return make_order(owner, lines=[service_line(unit_price="1000.00", tax_rate="0")])


class TestPayment(ReadOnlyRecordTests):
    key = "payment"

    def make(self, org, owner):
        return payments.record_payment(_order(owner), Decimal("100.00"), owner, reference="TX-1")


class TestInvoice(BusinessRecordTests):
    key = "invoice"
    update = {"title": "上海某某科技有限公司"}
    invalid = {"amount": "-5"}

    def make(self, org, owner):
        return payments.request_invoice(_order(owner), Decimal("100.00"), Decimal("11.50"), "special", owner)

    def form_data(self, org):
        return {"order": _order(org.manager).pk, "type": "ordinary", "amount": "200.00", "tax": "0",
                "invoiced_on": "2026-12-01", "title": "某某公司"}

    def test_api_permissions(self, org):
        """The generic test, except that an account manager may not change an invoice at all (they
        request them; finance issues and cancels): their PATCH of another's invoice is 403 or 404."""
        import json

        from django.test import Client

        from kehu.core.testing.factories import auth

        obj = self.make(org, org.manager)
        assert Client().get(self.api_url()).status_code == 401
        denied = Client(**auth(org.nobody))
        assert denied.get(self.api_url()).status_code == 403
        assert denied.get(self.api_url(obj.pk)).status_code == 403
        assert denied.post(self.api_url(), json.dumps(self.api_payload(org)),
                           content_type="application/json").status_code == 403
        assert denied.delete(self.api_url(obj.pk)).status_code == 403
        outside = self.make(org, org.manager2)
        mine = Client(**auth(org.manager))
        assert mine.get(self.api_url(outside.pk)).status_code == 404
        assert mine.patch(self.api_url(outside.pk), json.dumps(self.update),
                          content_type="application/json").status_code in (403, 404)
        assert mine.patch(self.api_url(obj.pk), json.dumps(self.update),
                          content_type="application/json").status_code == 403
        ids = [row["id"] for row in mine.get(self.api_url(), {"limit": 200}).json()["results"]]
        assert outside.pk not in ids and obj.pk in ids
        finance = Client(**auth(org.finance))  # every department
        assert finance.patch(self.api_url(outside.pk), json.dumps(self.update),
                             content_type="application/json").status_code == 200

    def transition_data(self, org, t):
        data = super().transition_data(org, t)
        if t.name == "issue":
            data["invoice_number"] = "04400190011100000001"
        return data

    def test_ui_outside_scope_is_404(self, org):
        """The generic test; an account manager has no edit page of invoices at all (403)."""
        obj = self.make(org, org.manager2)  # another department
        client = self.client_for(org.manager)
        assert client.get(self.url("detail", obj.pk)).status_code == 404
        assert client.get(self.url("edit", obj.pk)).status_code in (403, 404)
        assert self.client_for(org.supervisor).get(self.url("edit", obj.pk)).status_code == 404
        listing = client.get(self.url("list"), {"q": ""})
        assert obj not in listing.context["page"].items
