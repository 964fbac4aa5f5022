"""What the service app adds to the registries (kehu/core/registries.py)."""

from django.utils.translation import gettext_lazy as _

from kehu.core import registries as r
from kehu.core.relations import Protect

from . import home, knowledge, surveys, tasks  # noqa: F401  (tickets are survey subjects; the knowledge panel)

r.nav_section("service", _("Service"), order=40)
r.rights_module("sla", _("Service levels"))
r.default_rights({
    # the sales supervisor assigns (指派) and sees the team's tickets
    "supervisor": ["ticket.*", "feedback.*"],
    # account managers create tickets and feedback of their customers (seed 001)
    "account_manager": ["ticket.view", "ticket.create", "ticket.edit", "ticket.export",
                        "feedback.view", "feedback.create", "feedback.edit", "feedback.export"],
    # service agents (scope "all") handle the tickets of every customer; they read customers,
    # contacts and follow-ups (their role's own rights) and edit nothing else
    "service": ["ticket.view", "ticket.create", "ticket.edit", "ticket.export",
                "feedback.view", "feedback.create", "feedback.edit", "feedback.export"],
    "executive": ["ticket.view", "ticket.export", "feedback.view", "feedback.export"],
})
r.dictionary_kind("ticket_type", _("Ticket type"), builtin={"other", "complaint", "repair"}, seeds=[
    ("consultation", "咨询", "Consultation"), ("complaint", "投诉", "Complaint"), ("suggestion", "建议", "Suggestion"),
    ("repair", "维修", "Repair"), ("other", "其他", "Other")])
# the customer's Service tabs; an order's after-sales tickets
r.detail_tab("customer", "tickets", _("Service"), related="ticket", field="customer", order=40)
r.detail_tab("customer", "feedback", _("Feedback"), related="feedback", field="customer", order=41)
r.detail_tab("order", "tickets", _("After-sales tickets"), related="ticket", field="order_line__order", order=40)
r.relation("customer", Protect("tickets", message=_("“%(record)s” has %(n)s service tickets and cannot be deleted.")))
r.relation("customer", Protect("feedback", message=_("“%(record)s” has %(n)s feedback records and cannot be deleted.")))
r.nav_entry("service_queue", _("Service queue"), "service:queue", right="ticket.assign", section="service",
            icon="ti-list-check", order=15)
r.home_action("add-ticket", _("New ticket"), "service:ticket_add", right="ticket.create", order=50)
r.home_panel("my_tickets", _("My tickets"), right="ticket.edit", build=home.my_tickets_panel, icon="ti-lifebuoy",
             order=15, placeholder=False)
r.home_panel("service_queue", _("Service queue"), right="ticket.assign", build=home.queue_panel,
             icon="ti-list-check", order=16, placeholder=False)
r.reminder_kind(home.WARN_KIND, _("Ticket about to breach its SLA"), produce=home.warning_reminders, order=45)
r.reminder_kind(home.BREACH_KIND, _("Ticket breached its SLA"), produce=home.breach_reminders, order=46)
r.job(tasks.mark_breaches)  # every minute: the breach flags of open tickets past their due times
