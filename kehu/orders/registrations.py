"""What the orders app adds to the registries (kehu/core/registries.py)."""

from django.utils.translation import gettext_lazy as _

from kehu.core import registries as r
from kehu.core.actions import Action
from kehu.core.relations import Protect

from . import home, imports, services, tasks  # noqa: F401  (imports: the order importer, kehu/core/imports)

r.nav_section("orders", _("Orders"), order=30)
r.default_rights({
    "supervisor": ["quotation.*", "order.*"],
    "account_manager": ["quotation.view", "quotation.create", "quotation.edit", "quotation.export",
                        "order.view", "order.create", "order.edit", "order.export"],
    "executive": ["quotation.view", "quotation.export", "order.view", "order.export"],
})
# a customer's and an opportunity's quotations and orders, as tabs of their pages
r.detail_tab("customer", "orders", _("Orders"), related="order", field="customer", order=30)
r.detail_tab("customer", "quotations", _("Quotations"), related="quotation", field="customer", order=31)
r.detail_tab("opportunity", "quotations", _("Quotations"), related="quotation", field="opportunity", order=30)
r.detail_tab("opportunity", "orders", _("Orders"), related="order", field="opportunity", order=31)
# a customer who ordered or was quoted is not deleted from under the documents
r.relation("customer", Protect("orders", message=_("“%(record)s” has %(n)s orders and cannot be deleted.")))
r.relation("customer", Protect("quotations", message=_("“%(record)s” has %(n)s quotations and cannot be deleted.")))
r.job(tasks.expire_quotations, daily_at=2)  # once a day: sent quotations past their validity
# My day: the user's orders past their promised date; each reminds its owner once
r.home_panel("late_orders", _("Late orders"), right="order.view", build=home.late_orders_panel, icon="ti-truck-off",
             order=25, placeholder=False)
r.reminder_kind(home.LATE_KIND, _("Order late"), produce=home.late_order_reminders, order=40)
# a won opportunity becomes an order in one action (its accepted quotation's lines, or the deal as one line)
r.record_action("opportunity", Action(
    "make_order", _("Make an order"), run=services.order_from_opportunity, right="order.create",
    guard=services.opportunity_order_refusal, icon="ti-shopping-cart", style="primary",
    help=_("Creates the order for the won deal: the accepted quotation's lines, or the deal amount as one line.")))
from . import contract_registrations, registrations_fin  # noqa: E402,F401  contracts; payments and invoices
