"""What the surveys app adds to the registries (kehu/core/registries.py)."""

from django.utils.translation import gettext_lazy as _

from kehu.core import registries as r

from . import tasks

r.default_rights({
    "supervisor": ["survey.view", "survey.export"],
    "account_manager": ["survey.view"],  # their customers' answers (timeline, the survey's page)
    "executive": ["survey.view", "survey.export"],
    "service": ["survey.view"],  # service agents follow every customer's tickets and their answers
})
r.detail_tab("customer", "surveys", _("Surveys"), related="survey", field="customer", order=60)
r.job(tasks.follow_up_surveys, daily_at=9)  # follow-ups land in the morning
