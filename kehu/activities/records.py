from django.utils.translation import gettext_lazy as _

from kehu.core.registry import RecordType, registry

from .forms import FollowUpFilterSet, FollowUpForm, TaskFilterSet, TaskForm
from .models import FollowUp, Task
from .workflows import TaskWorkflow


@registry.register
class FollowUpType(RecordType):
    model = FollowUp
    key = "followup"
    form = FollowUpForm
    filterset = FollowUpFilterSet
    list_columns = ["customer", "occurred_at", "method", "topic", "owner"]
    extra_columns = ["contact", "opportunity", "participants", "result", "next_action", "next_action_at", "next_action_by",
                     "created_at", "tags"]
    sort_fields = ["id", "occurred_at", "created_at"]
    default_sort = "-occurred_at"
    list_select_related = ["customer", "owner"]
    list_names = {"customer": ("name",)}  # a row names its customer: not the whole row joined
    detail_fields = ["customer", "contact", "opportunity", "occurred_at", "method", "participants", "topic", "content",
                     "customer_feedback", "result", "next_action", "next_action_at", "next_action_by", "owner",
                     "created_at", "created_by", "updated_at", "updated_by"]
    export_fields = ["customer", "contact", "opportunity", "occurred_at", "method", "participants", "topic", "content",
                     "customer_feedback", "result", "next_action", "next_action_at", "next_action_by", "owner",
                     "created_at", "updated_at"]
    nav_icon = "ti-message-dots"
    nav_section, nav_order = "activities", 10
    search_placeholder = _("Topic, content, participants")



@registry.register
class TaskType(RecordType):
    model = Task
    key = "task"
    form = TaskForm
    filterset = TaskFilterSet
    list_columns = ["title", "customer", "due_at", "priority", "status", "owner"]
    extra_columns = ["description", "completion_note", "completed_at", "created_at", "tags"]
    sort_fields = ["id", "due_at", "created_at"]
    default_sort = "-id"
    list_select_related = ["customer", "owner"]
    list_names = {"customer": ("name",)}  # a row names its customer: not the whole row joined
    detail_fields = ["title", "customer", "owner", "due_at", "priority", "status", "description",
                     "completion_note", "completed_at", "created_at", "created_by", "updated_at", "updated_by"]
    nav_icon = "ti-checkbox"
    nav_section, nav_order = "activities", 20
    search_placeholder = _("Title, description")
    workflow = TaskWorkflow()

    def assign_notification(self, obj, by):
        from .services import task_message

        return task_message(obj, by)
