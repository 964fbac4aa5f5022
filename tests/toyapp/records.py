"""The gadget's record type, form, filters and workflow: all a new record type declares."""

from django.core.exceptions import ValidationError
from django.utils import timezone

from kehu.core.actions import Action
from kehu.core.filters import KehuFilterSet
from kehu.core.forms import KehuModelForm
from kehu.core.registry import RecordType, registry
from kehu.core.workflow import NONE, REQUIRED, Transition, Workflow

from .models import Gadget, GadgetCount


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


class GadgetCountFilterSet(KehuFilterSet):
    class Meta:
        model = GadgetCount
        fields = []


def recount(count, user, data):
    if data["quantity"] < 0:
        raise ValidationError({"quantity": "数量不能为负数。"})
    count.quantity = data["quantity"]
    count.counted_at = timezone.now()
    count.updated_by = user
    count.save()
    return count


@registry.register
class GadgetCountType(RecordType):
    model = GadgetCount
    key = "gadgetcount"
    filterset = GadgetCountFilterSet
    list_columns = ["gadget", "quantity", "counted_at", "owner"]
    list_select_related = ["gadget", "owner"]
    sort_fields = ["id", "created_at"]
    read_only = True
    actions = (Action("recount", "重新盘点", run=recount, fields=("quantity",), required=("quantity",)),)
