"""The sales app's reminder kind: overdue development-plan steps remind their responsible person
(declared in registrations.py; sent once by kehu.activities.services.run_reminders)."""

import datetime

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kehu.core.registries import Due

from .models import PlanStep
from .services import overdue_plan_steps

PLAN_STEP_OVERDUE = "plan_step_overdue"


def plan_step_reminders(now, ledger) -> list[Due]:
    steps = list(overdue_plan_steps(now))
    if not steps:
        return []
    sent = ledger.sent_keys(PLAN_STEP_OVERDUE, PlanStep, [s.pk for s in steps])
    out = []
    for step in steps:
        user = step.responsible
        if user is None or not user.is_active:
            continue
        due = timezone.make_aware(datetime.datetime.combine(step.planned_on, datetime.time.min))
        if (step.pk, due, user.pk) in sent:
            continue
        opportunity = step.opportunity
        when = formats.date_format(timezone.localtime(due), "Y-m-d H:i")
        out.append(Due(PLAN_STEP_OVERDUE, step, due, user,
                       _("Plan step overdue: %(action)s") % {"action": step.action},
                       _("Opportunity: %(name)s. ") % {"name": opportunity} + _("Planned for %(when)s.") % {"when": when},
                       reverse("sales:opportunity_detail", args=[opportunity.pk])))
    return out
