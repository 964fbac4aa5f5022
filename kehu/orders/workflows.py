"""The statuses of quotations and orders (kehu/core/workflow.py): which transitions exist, who may
take them, what each needs and runs. The effects live in services.py."""

from django.utils.translation import gettext_lazy as _

from kehu.core.workflow import NONE, OPTIONAL, REQUIRED, Transition, Workflow

from . import services


class QuotationWorkflow(Workflow):
    field = "status"
    # a quotation that left the draft is a document the customer has: only its notes change
    frozen = {state: ("notes",) for state in ("sent", "accepted", "rejected", "expired", "revised")}
    transitions = (
        Transition("send", _("Mark sent"), source=("draft",), target="sent", comment=NONE,
                   guard=services.quotation_send_refusal, run=services.quotation_sent, icon="ti-send", explain=True,
                   style="primary", help=_("The quotation went to the customer; its lines are frozen.")),
        Transition("accept", _("Accepted"), source=("sent",), target="accepted", comment=OPTIONAL,
                   run=services.quotation_decided, icon="ti-check", style="success"),
        Transition("reject", _("Rejected"), source=("sent",), target="rejected", comment=OPTIONAL,
                   run=services.quotation_decided, icon="ti-x"),
        Transition("expire", _("Expired"), source=("sent",), target="expired", comment=NONE,
                   run=services.quotation_decided, icon="ti-clock-x",
                   help=_("The validity date passed without an answer (the worker does this each day).")),
        Transition("revise", _("Revise"), source=("sent", "rejected", "expired"), target="revised",
                   comment=OPTIONAL, after=services.revise_quotation, icon="ti-copy",
                   help=_("Keeps this revision as it was sent and opens the next one as a draft.")),
    )


class OrderWorkflow(Workflow):
    field = "status"
    # a shipped order's lines are what left the warehouse; a finished one is history
    frozen = {"shipped": ("notes", "delivery_address", "promised_date"),
              "delivered": ("notes",), "cancelled": ("notes",)}
    transitions = (
        Transition("process", _("Start processing"), source=("created",), target="processing", comment=NONE,
                   guard=services.order_has_lines, icon="ti-player-play", style="primary", explain=True),
        Transition("ship", _("Mark shipped"), source=("created", "processing"), target="shipped", comment=NONE,
                   guard=services.order_ship_refusal, run=services.order_shipped, icon="ti-truck",
                   help=_("Every goods line is shipped (recorded shipments do this by themselves).")),
        Transition("deliver", _("Mark delivered"), source=("shipped",), target="delivered", comment=OPTIONAL,
                   run=services.order_delivered, icon="ti-package", style="success"),
        Transition("cancel", _("Cancel order"), source=("created", "processing"), target="cancelled",
                   comment=REQUIRED, guard=services.order_cancel_refusal, run=services.order_cancelled,
                   icon="ti-ban", style="outline-danger"),
    )
