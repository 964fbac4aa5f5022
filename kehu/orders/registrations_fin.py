"""What payments and invoices add to the registries (imported by registrations.py): rights, the
Finance role's rights, the overdue-instalment reminder, the My day panel, the customer's tab."""

from django.utils.translation import gettext_lazy as _

from kehu.core import registries as r

from . import home_fin, timeline_fin  # noqa: F401  (timeline_fin registers its provider)

r.default_rights({
    "supervisor": ["payment.*", "invoice.*"],
    "account_manager": ["payment.view", "payment.create", "invoice.view", "invoice.create"],
    "executive": ["payment.view", "payment.export", "invoice.view", "invoice.export"],
    # 财务: records payments and invoices for every department, reads the documents, edits nothing else
    "finance": ["payment.*", "invoice.*", "order.view", "order.export", "quotation.view", "customer.view",
                "contact.view", "contract.view"],
})
r.detail_tab("customer", "payments", _("Payments"), related="payment", field="customer", order=33)
r.detail_tab("customer", "invoices", _("Invoices"), related="invoice", field="customer", order=34)
r.detail_tab("order", "payments", _("Payments"), related="payment", field="order", order=20)
r.detail_tab("order", "invoices", _("Invoices"), related="invoice", field="order", order=21)
r.detail_tab("contract", "payments", _("Payments"), related="payment", field="contract", order=20)
r.detail_tab("contract", "invoices", _("Invoices"), related="invoice", field="contract", order=21)
r.home_panel("overdue_receivables", _("Overdue receivables"), right="order.view", build=home_fin.overdue_panel,
             icon="ti-cash-off", order=45)
r.reminder_kind(home_fin.INSTALMENT_OVERDUE, _("Instalment overdue"), produce=home_fin.instalment_reminders,
                order=45)
