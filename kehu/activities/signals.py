from kehu.core.audit import register

from . import timeline  # noqa: F401  (registers the timeline providers)
from .models import FollowUp, Task

register(FollowUp)
register(Task, exclude=["completed_at"])
