"""Contracts 合同 as a record type (kehu/core/registry.py) and their workflow; the rules are in
contracts.py. Imported by records.py (and workflows.py names ContractWorkflow)."""

from django.utils.translation import gettext_lazy as _

from kehu.core.actions import Action
from kehu.core.registry import RecordType, registry
from kehu.core.relations import Protect
from kehu.core.workflow import NONE, OPTIONAL, REQUIRED, Transition, Workflow

from . import contracts
from .contract_forms import ContractFilterSet, ContractForm
from .models import Contract


class ContractWorkflow(Workflow):
    """draft 草稿 → active 执行中 → completed 已完成; draft / active → terminated 已终止 (a reason).

    What stays editable (a real CRM's line): a draft is edited freely. A contract in force is what
    both parties signed: its parties (customer, opportunity), its term (signing, start and end
    dates), its amount and its terms are frozen, because changing them is a supplementary agreement
    补充协议 or a renewal, not an edit; its title (our own label), the customer's contact person, the
    notes and the owner (an account changes hands) stay editable. Completed and terminated
    contracts are history: only their notes change."""

    field = "status"
    frozen = {"active": ("title", "contact", "notes", "owner"), "completed": ("notes",), "terminated": ("notes",)}
    transitions = (
        Transition("activate", _("Put in force"), source=("draft",), target="active", comment=NONE,
                   guard=contracts.activate_refusal, run=contracts.contract_activated, icon="ti-signature", explain=True,
                   style="primary", help=_("The contract is signed: its amount, dates and terms are frozen.")),
        Transition("complete", _("Mark completed"), source=("active",), target="completed", comment=OPTIONAL,
                   run=contracts.contract_closed, icon="ti-circle-check", style="success"),
        Transition("terminate", _("Terminate"), source=("draft", "active"), target="terminated", comment=REQUIRED,
                   run=contracts.contract_closed, icon="ti-ban", style="outline-danger",
                   help=_("Ends the contract before its term; the reason is kept in its history.")),
    )


@registry.register
class ContractType(RecordType):
    model = Contract
    form = ContractForm
    filterset = ContractFilterSet
    list_columns = ["number", "title", "customer", "signed_on", "ends_on", "amount", "amount_ordered",
                    "amount_received", "status", "owner"]
    extra_columns = ["contact", "opportunity", "starts_on", "amount_invoiced", "payment_state", "activated_at",
                     "closed_at", "created_at", "updated_at", "tags"]
    # each backed by an index of Contract.Meta for every scope (contract_*_idx and, for a user's own
    # contracts, contract_owner_<field>_idx)
    sort_fields = ["id", "signed_on", "ends_on", "amount", "created_at", "updated_at"]
    default_sort = "-id"
    list_select_related = ["customer", "owner"]
    list_names = {"customer": ("name",)}  # a row names its customer: not the whole row joined
    detail_fields = ["number", "title", "status", "customer", "contact", "opportunity", "signed_on", "starts_on",
                     "ends_on", "amount", "amount_ordered", "amount_received", "amount_invoiced", "previous",
                     "terms", "notes", "owner", "activated_at", "closed_at", "created_at", "created_by",
                     "updated_at", "updated_by"]
    export_fields = ["number", "title", "status", "customer", "contact", "opportunity", "signed_on", "starts_on",
                     "ends_on", "amount", "amount_ordered", "amount_received", "amount_invoiced", "previous", "terms",
                     "notes", "owner", "activated_at", "closed_at", "created_at", "updated_at"]
    detail_template = "orders/contract_detail.html"
    nav_icon = "ti-file-certificate"
    nav_section, nav_order = "orders", 30
    search_placeholder = _("Number, title, customer")
    workflow = ContractWorkflow()
    actions = (Action("renew", _("Renew"), run=contracts.renew_contract, right="create",
                      guard=contracts.renew_refusal, icon="ti-refresh", style="outline-primary",
                      help=_("Creates the successor contract as a draft: same customer, amount and terms, "
                             "starting the day after this one ends.")),)
    relations = [Protect("orders", message=_("“%(record)s” has %(n)s orders: unlink or delete those first."))]

    def after_assign(self, obj, old_owner_id, by):
        from .payments import follow_owner

        follow_owner(obj)  # its payments and invoices are seen with it

    def extend_api(self, router, out_schema):
        from .api_fin import extend_document  # the payment plan, payments and refunds of the contract

        extend_document(router, self)
