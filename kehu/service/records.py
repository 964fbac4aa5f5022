"""Tickets 服务工单, feedback 客户反馈与投诉 and the SLA settings as record types (kehu/core/registry.py),
with the ticket's and the feedback's workflows; the rules are in services.py and sla.py."""

from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kehu.core.actions import Action
from kehu.core.registry import Column, RecordType, registry
from kehu.core.workflow import NONE, OPTIONAL, REQUIRED, Transition, Workflow

from . import services
from .forms import (
    FeedbackFilterSet,
    FeedbackForm,
    HolidayFilterSet,
    HolidayForm,
    SlaPolicyFilterSet,
    SlaPolicyForm,
    TicketFilterSet,
    TicketForm,
    WorkingHoursFilterSet,
    WorkingHoursForm,
)
from .models import Feedback, Holiday, SlaPolicy, Ticket, WorkingHours


class TicketWorkflow(Workflow):
    """new 新建 → assigned 已指派 → handled 已处理 → feedback given 已反馈 → archived 已归档; reopened
    from handled or feedback given back to assigned when the customer is not satisfied (a reason).
    An archived ticket is history: nothing on it changes."""

    field = "status"
    frozen = {"archived": ()}
    transitions = (
        Transition("assign", _("Assign"), source=("new",), target="assigned", right="assign",
                   fields=("handler",), required=("handler",), comment=OPTIONAL, run=services.assigned,
                   after=services.notify_handler, icon="ti-user-share", style="primary",
                   help=_("The handler is told in the app and by e-mail.")),
        Transition("handle", _("Mark handled"), source=("assigned",), target="handled", fields=("handling",),
                   required=("handling",), comment=NONE, guard=services.handle_refusal, run=services.handled,
                   after=services.after_handled, icon="ti-checks", style="success"),
        Transition("feedback", _("Record feedback"), source=("handled",), target="feedback",
                   fields=("result", "satisfaction"), required=("result", "satisfaction"), comment=OPTIONAL,
                   run=services.feedback_given, icon="ti-mood-smile", style="primary"),
        Transition("archive", _("Archive"), source=("feedback",), target="archived", comment=NONE,
                   run=services.archived, icon="ti-archive", style="outline-secondary",
                   help=_("An archived ticket is read-only.")),
        Transition("reopen", _("Reopen"), source=("handled", "feedback"), target="assigned", comment=REQUIRED,
                   run=services.reopened, icon="ti-arrow-back-up", style="outline-danger",
                   help=_("The customer is not satisfied: say why; the handler works on it again.")),
    )


class FeedbackWorkflow(Workflow):
    field = "status"
    transitions = (
        Transition("start", _("Start handling"), source=("open",), target="in_progress", comment=OPTIONAL,
                   icon="ti-player-play"),
        Transition("resolve", _("Resolve"), source=("open", "in_progress"), target="resolved",
                   fields=("result",), required=("result",), comment=NONE, icon="ti-circle-check", style="success"),
        Transition("reopen", _("Reopen"), source=("resolved",), target="in_progress", comment=REQUIRED,
                   icon="ti-arrow-back-up", style="outline-danger"),
    )


def breach_badge(obj):
    if not obj.breached:
        return ""
    return format_html('<span class="badge bg-red-lt" data-testid="breached">{}</span>', gettext("SLA breached"))


@registry.register
class TicketType(RecordType):
    model = Ticket
    form = TicketForm
    filterset = TicketFilterSet
    list_columns = ["number", "summary", "customer", "type", "priority", "status", "handler", "resolution_due",
                    "breached"]
    extra_columns = ["channel", "contact", "owner", "responded_at", "resolved_at", "satisfaction", "created_at",
                     "updated_at", "tags"]
    sort_fields = ["id", "created_at", "updated_at", "resolution_due"]
    default_sort = "-id"
    list_select_related = ["customer", "handler", "owner"]
    list_names = {"customer": ("name",), "handler": ("username", "full_name")}
    detail_fields = ["number", "summary", "type", "priority", "channel", "status", "customer", "contact",
                     "order_line", "request", "handler", "assigned_at", "assigned_by", "response_due",
                     "responded_at", "resolution_due", "resolved_at", "handling", "result", "satisfaction",
                     "satisfaction_comment", "owner", "created_at", "created_by", "updated_at", "updated_by"]
    export_fields = ["number", "summary", "type", "priority", "channel", "status", "customer", "contact", "request",
                     "handler", "response_due", "responded_at", "resolution_due", "resolved_at", "breached",
                     "handling", "result", "satisfaction", "owner", "created_at", "updated_at"]
    detail_template = "service/ticket_detail.html"
    nav_icon = "ti-lifebuoy"
    nav_section, nav_order = "service", 10
    search_placeholder = _("Number, summary, customer")
    workflow = TicketWorkflow()
    actions = (Action("complete_after_sales", _("Complete after-sales request"), run=services.complete_after_sales,
                      right="order.edit", guard=services.complete_after_sales_refusal, icon="ti-package-import",
                      style="outline-primary",
                      help=_("Completes the linked return, exchange or repair on the order: stock back, the refund "
                             "or the replacement shipment.")),)

    def available_columns(self):
        cols = super().available_columns()
        cols["breached"] = Column("breached", self.field_label("breached"), accessor=breach_badge)
        return cols

    def extend_api(self, router, out_schema):
        from .api import extend

        extend(router, out_schema, self)


@registry.register
class FeedbackType(RecordType):
    model = Feedback
    form = FeedbackForm
    filterset = FeedbackFilterSet
    url_prefix = "feedback"
    list_columns = ["content", "kind", "source", "customer", "status", "satisfaction", "ticket", "owner", "created_at"]
    extra_columns = ["contact", "content", "result", "updated_at", "tags"]
    sort_fields = ["id", "created_at", "updated_at"]
    default_sort = "-id"
    list_select_related = ["customer", "owner", "ticket"]
    list_names = {"customer": ("name",), "ticket": ("number", "summary")}
    detail_fields = ["kind", "source", "status", "customer", "contact", "content", "result", "satisfaction", "ticket",
                     "owner", "created_at", "created_by", "updated_at", "updated_by"]
    detail_template = "service/feedback_detail.html"
    nav_icon = "ti-message-report"
    nav_section, nav_order = "service", 20
    search_placeholder = _("Content, customer")
    workflow = FeedbackWorkflow()
    actions = (Action("escalate", _("Escalate into a ticket"), run=services.escalate, right="ticket.create",
                      guard=services.escalate_refusal, icon="ti-arrow-up-right", style="primary",
                      help=_("Opens a ticket from this complaint; each links to the other.")),)


class SlaAdmin(RecordType):
    module = "sla"
    nav_section = "admin"


@registry.register
class SlaPolicyType(SlaAdmin):
    model = SlaPolicy
    url_prefix = "admin/sla-policies"
    form = SlaPolicyForm
    filterset = SlaPolicyFilterSet
    list_columns = ["ticket_type", "priority", "response_minutes", "resolution_minutes", "remind_before_minutes"]
    sort_fields = ["id", "priority"]
    default_sort = "id"
    list_select_related = ["ticket_type"]
    nav_icon, nav_order = "ti-clock-check", 60


@registry.register
class WorkingHoursType(SlaAdmin):
    model = WorkingHours
    key = "workinghours"
    url_prefix = "admin/working-hours"
    form = WorkingHoursForm
    filterset = WorkingHoursFilterSet
    list_columns = ["weekday", "working", "starts", "ends", "break_starts", "break_ends"]
    sort_fields = ["id", "weekday"]
    default_sort = "weekday"
    nav_icon, nav_order = "ti-calendar-time", 61


@registry.register
class HolidayType(SlaAdmin):
    model = Holiday
    url_prefix = "admin/holidays"
    form = HolidayForm
    filterset = HolidayFilterSet
    list_columns = ["date", "kind", "name", "starts", "ends"]
    sort_fields = ["id", "date"]
    default_sort = "-date"
    nav_icon, nav_order = "ti-calendar-off", 62
