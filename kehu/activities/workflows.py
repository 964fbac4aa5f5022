"""The task's workflow: to do → in progress → done, cancelled, and reopened."""

from django.utils.translation import gettext_lazy as _

from kehu.core.workflow import NONE, REQUIRED, Transition, Workflow

OPEN = ("todo", "doing")


class TaskWorkflow(Workflow):
    field = "status"
    transitions = (
        Transition("start", _("Start"), source=("todo",), target="doing", comment=NONE, icon="ti-player-play"),
        Transition("complete", _("Mark done"), source=OPEN, target="done", fields=("completion_note",),
                   comment=NONE, style="success", icon="ti-check",
                   help=_("What came of it (optional).")),
        Transition("cancel", _("Cancel task"), source=OPEN, target="cancelled", comment=REQUIRED,
                   style="outline-danger", icon="ti-x", help=_("Say why the task is no longer needed.")),
        Transition("reopen", _("Reopen"), source=("done", "cancelled"), target="todo", icon="ti-rotate"),
    )
