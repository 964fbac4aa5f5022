"""What contracts add to the registries (kehu/core/registries.py); imported by registrations.py."""

from django.utils.translation import gettext_lazy as _

from kehu.core import registries as r
from kehu.core.relations import Protect

from . import contracts

r.default_rights({
    "supervisor": ["contract.*"],
    "account_manager": ["contract.view", "contract.create", "contract.edit", "contract.export"],
    "executive": ["contract.view", "contract.export"],
    "finance": ["contract.view"],  # the Finance role (payments and invoices) reads contracts
})
# a customer's and an opportunity's contracts; a contract's orders
r.detail_tab("customer", "contracts", _("Contracts"), related="contract", field="customer", order=32)
r.detail_tab("opportunity", "contracts", _("Contracts"), related="contract", field="opportunity", order=32)
r.detail_tab("contract", "orders", _("Orders"), related="order", field="contract", order=10)
# a customer with contracts is not deleted from under them
r.relation("customer", Protect("contracts", message=_("“%(record)s” has %(n)s contracts and cannot be deleted.")))
# N days before a contract in force ends, its owner is reminded once (sent by activities' reminder job)
r.reminder_kind(contracts.CONTRACT_EXPIRY, _("Contract expiring"), produce=contracts.contract_expiry_reminders,
                order=40)
r.home_panel("contracts_expiring", _("Contracts expiring"), right="contract.view", build=contracts.expiring_panel,
             icon="ti-file-certificate", order=40, placeholder=False)  # mostly empty: no placeholder
