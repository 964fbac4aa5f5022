"""What the activities app adds to the registries (kehu/core/registries.py)."""

from django.utils.translation import gettext_lazy as _

from kehu.core import registries as r

from . import home, imports, services, tasks  # noqa: F401  (imports: the follow-up importer)
from .models import Reminder

r.nav_section("activities", _("Activities"), order=30)
r.default_rights({
    "supervisor": ["followup.*", "task.*"],
    "account_manager": ["followup.view", "followup.create", "followup.edit", "followup.delete", "followup.export",
                        "task.view", "task.create", "task.edit", "task.delete"],
    "executive": ["followup.view", "followup.export", "task.view"],
    "service": ["followup.view", "task.view"],  # SPEC roles: service agents edit nothing but tickets and feedback
})
r.dictionary_kind("contact_method", _("Communication method"), builtin={"other"}, seeds=[
    ("phone", "电话", "Phone"), ("email", "邮件", "E-mail"), ("visit", "拜访", "Visit"), ("meeting", "会议", "Meeting"),
    ("wechat", "微信", "WeChat"), ("social", "社交媒体", "Social media")])

r.home_action("add-followup", _("Log follow-up"), "activities:followup_add", right="followup.create",
              icon="ti-message-plus", primary=True, order=10)
r.home_action("add-task", _("New task"), "activities:task_add", right="task.create", order=20)
r.home_panel("tasks", _("Tasks for today"), right="task.view", build=home.tasks_panel, icon="ti-checkbox",
             rows="xx", order=10)
r.home_panel("next_actions", _("Follow-ups to do"), right="followup.view", build=home.next_actions_panel,
             icon="ti-message-dots", rows="xx", order=20)

# due and overdue tasks (TASK_OVERDUE comes from the same producer), next actions of follow-ups
r.reminder_kind(Reminder.Kind.TASK_DUE, Reminder.Kind.TASK_DUE.label, produce=services.task_reminders, order=10)
r.reminder_kind(Reminder.Kind.FOLLOWUP_NEXT, Reminder.Kind.FOLLOWUP_NEXT.label, produce=services.followup_reminders,
                order=20)
r.job(tasks.send_reminders)  # every minute
