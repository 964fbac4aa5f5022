from django.utils.translation import gettext_lazy as _

from kehu.core.registry import RecordType, registry

from .forms import (
    OpportunityFilterSet,
    OpportunityForm,
    PlanStepFilterSet,
    PlanStepForm,
    StageFilterSet,
    StageForm,
)
from .models import Opportunity, PlanStep, Stage
from .reports import PipelineRollup
from .workflows import OpportunityWorkflow


@registry.register
class StageType(RecordType):
    model = Stage
    key = "stage"
    url_prefix = "admin/stages"
    form = StageForm
    filterset = StageFilterSet
    list_columns = ["name", "name_en", "order", "probability", "is_won", "is_lost", "active"]
    sort_fields = ["id", "order"]
    default_sort = "order"
    nav_icon = "ti-columns"
    nav_section, nav_order = "admin", 40


@registry.register
class OpportunityType(RecordType):
    model = Opportunity
    form = OpportunityForm
    filterset = OpportunityFilterSet
    url_prefix = "opportunities"
    list_columns = ["number", "title", "customer", "stage", "amount", "expected_close", "owner"]
    extra_columns = ["prospect_name", "source", "probability", "discount", "competitors", "assigned_at",
                     "closed_at", "signed_on", "created_at", "updated_at", "tags"]
    sort_fields = ["id", "title", "updated_at", "created_at", "amount", "expected_close"]  # opp_amount_idx, opp_close_idx
    default_sort = "-id"
    list_select_related = ["owner", "customer", "stage"]
    # a row names its customer and stage: the whole customer joined to each row cost ~4 ms of a
    # 50-row page (docs/benchmarks.md, stop 47)
    list_names = {"customer": ("name",), "stage": ("name", "name_en")}
    detail_template = "sales/opportunity_detail.html"
    detail_fields = [
        "number", "title", "customer", "prospect_name", "source", "stage", "amount", "discount", "probability",
        "expected_close", "owner", "assigned_at", "assigned_by", "competitors", "description", "deal_products",
        "signed_on", "lost_reason", "won_competitor", "closed_at", "created_at", "created_by", "updated_at",
        "updated_by",
    ]
    export_fields = [
        "number", "title", "customer", "prospect_name", "source", "stage", "amount", "discount", "probability",
        "expected_close", "owner", "assigned_at", "competitors", "description", "deal_products", "signed_on",
        "lost_reason", "won_competitor", "closed_at", "created_at", "updated_at",
    ]
    nav_icon = "ti-target-arrow"
    nav_section, nav_order = "sales", 10
    search_placeholder = _("Number, title, customer, prospect")
    rollups = [PipelineRollup()]  # reports by stage, owner, close month: from the running totals
    workflow = OpportunityWorkflow()

    def save_form(self, form, user):
        from .services import save_form

        return save_form(form, user)

    def before_assign(self, obj, old_owner_id, by):
        from .services import mark_assigned

        mark_assigned(obj, by)

    def assign_notification(self, obj, by):
        from .services import assignment_message

        return assignment_message(obj, by)

    def extend_api(self, router, out_schema):
        from .api import extend

        extend(router, out_schema, self)


@registry.register
class PlanStepType(RecordType):
    model = PlanStep
    key = "planstep"
    url_prefix = "plan-steps"
    form = PlanStepForm
    filterset = PlanStepFilterSet
    list_columns = ["planned_on", "action", "opportunity", "responsible", "done_at"]
    extra_columns = ["order", "result", "created_at", "tags"]
    sort_fields = ["id", "planned_on"]
    default_sort = "-id"
    list_select_related = ["opportunity", "responsible"]
    nav_icon = "ti-list-check"
