"""What the sales app adds to the registries (kehu/core/registries.py)."""

from django.utils.translation import gettext_lazy as _

from kehu.core import registries as r

from . import home, imports, reminders  # noqa: F401  (imports: the opportunity importer)

r.nav_section("sales", _("Sales"), order=20)
r.default_rights({
    "supervisor": ["opportunity.*", "planstep.*", "stage.view"],
    "account_manager": ["opportunity.view", "opportunity.create", "opportunity.edit", "opportunity.export",
                        "planstep.view", "planstep.create", "planstep.edit", "planstep.delete", "stage.view"],
    "executive": ["opportunity.view", "opportunity.export", "planstep.view", "stage.view"],
})
r.dictionary_kind("lost_reason", _("Lost reason"), builtin={"other"}, seeds=[
    ("price", "价格因素", "Price"), ("competitor", "选择竞争对手", "Chose a competitor"),
    ("no_need", "需求取消", "Need went away"), ("service", "服务不满意", "Unhappy with service"),
    ("other", "其他", "Other")])
r.home_panel("opportunities", _("Newly assigned opportunities"), right="opportunity.view",
             build=home.opportunities_panel, icon="ti-target-arrow", order=30)
r.reminder_kind(reminders.PLAN_STEP_OVERDUE, _("Plan step overdue"), produce=reminders.plan_step_reminders,
                order=30)
