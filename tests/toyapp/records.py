"""The gadget's record type, form, filters and workflow: all a new record type declares."""

from kehu.core.filters import KehuFilterSet
from kehu.core.forms import KehuModelForm
from kehu.core.registry import RecordType, registry
from kehu.core.workflow import NONE, REQUIRED, Transition, Workflow

from .models import Gadget


class GadgetForm(KehuModelForm):
    class Meta:
        model = Gadget
        fields = ["name", "price", "handler", "owner", "note"]


class GadgetFilterSet(KehuFilterSet):
    search_fields = ["number", "name"]

    class Meta:
        model = Gadget
        fields = ["status"]


class GadgetWorkflow(Workflow):
    field = "status"
    transitions = (
        Transition("activate", "启用", source=("draft",), target="active", comment=NONE),
        Transition("retire", "停用", source=("draft", "active"), target="retired", comment=REQUIRED),
        Transition("revive", "恢复", source=("retired",), target="draft"),
    )


@registry.register
class GadgetType(RecordType):
    model = Gadget
    form = GadgetForm
    filterset = GadgetFilterSet
    list_columns = ["number", "name", "price", "status", "handler", "owner"]
    sort_fields = ["id", "created_at"]
    list_select_related = ["owner", "handler"]
    nav_section = "sales"
    workflow = GadgetWorkflow()
