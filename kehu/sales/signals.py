from kehu.core.audit import register

from . import timeline  # noqa: F401  (registers the timeline provider)
from .models import Opportunity, PlanStep, Stage

register(Opportunity)
register(PlanStep)
register(Stage)
