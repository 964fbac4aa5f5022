"""Campaigns and their members as record types (kehu/core/registry.py), with the campaign's
workflow; the rules are in models.py (clean) and services.py, the effect in effect.py."""

from django.utils.translation import gettext_lazy as _

from kehu.core.registry import RecordType, registry
from kehu.core.relations import Cascade
from kehu.core.workflow import NONE, REQUIRED, Transition, Workflow

from . import services
from .forms import CampaignFilterSet, CampaignForm, CampaignMemberFilterSet, CampaignMemberForm
from .models import Campaign, CampaignMember


class CampaignWorkflow(Workflow):
    """planned 计划中 → active 进行中 → completed 已结束, or cancelled 已取消 (with a reason) from
    planned or active."""

    field = "status"
    transitions = (
        Transition("start", _("Start campaign"), source=("planned",), target="active", comment=NONE,
                   run=services.started, icon="ti-player-play", style="primary",
                   help=_("A campaign started before its start date starts today.")),
        Transition("complete", _("Complete campaign"), source=("active",), target="completed", comment=NONE,
                   run=services.completed, icon="ti-flag-check", style="success",
                   help=_("A campaign completed before its end date ends today.")),
        Transition("cancel", _("Cancel campaign"), source=("planned", "active"), target="cancelled",
                   comment=REQUIRED, icon="ti-x", style="outline-danger",
                   help=_("A cancelled campaign takes no new members.")),
    )


@registry.register
class CampaignType(RecordType):
    model = Campaign
    form = CampaignForm
    filterset = CampaignFilterSet
    list_columns = ["number", "name", "type", "channel", "status", "start_date", "end_date", "budget",
                    "actual_cost", "owner"]
    extra_columns = ["expected_revenue", "description", "created_at", "updated_at", "tags"]
    sort_fields = ["id", "name", "start_date", "end_date", "created_at", "updated_at"]
    default_sort = "-id"
    list_select_related = ["owner"]
    detail_fields = ["number", "name", "type", "channel", "status", "start_date", "end_date", "budget",
                     "actual_cost", "expected_revenue", "owner", "description", "created_at", "created_by",
                     "updated_at", "updated_by"]
    export_fields = ["number", "name", "type", "channel", "status", "start_date", "end_date", "budget",
                     "actual_cost", "expected_revenue", "owner", "description", "created_at", "updated_at"]
    detail_template = "campaigns/campaign_detail.html"
    nav_icon = "ti-speakerphone"
    nav_section, nav_order = "sales", 40
    search_placeholder = _("Number, name")
    workflow = CampaignWorkflow()
    relations = [Cascade("members")]  # deleted and restored with the campaign

    def extend_api(self, router, out_schema):
        from .api import extend  # the effect; adding members

        extend(router, out_schema, self)


@registry.register
class CampaignMemberType(RecordType):
    model = CampaignMember
    key = "campaignmember"
    form = CampaignMemberForm
    filterset = CampaignMemberFilterSet
    url_prefix = "campaign-members"
    list_columns = ["customer", "campaign", "contact", "status", "responded_at", "converted_at", "owner"]
    extra_columns = ["notes", "created_at", "updated_at", "tags"]
    sort_fields = ["id", "created_at", "updated_at"]
    default_sort = "-id"
    list_select_related = ["customer", "campaign", "contact", "owner"]
    list_names = {"customer": ("name",), "campaign": ("number", "name"), "contact": ("name",)}
    detail_fields = ["campaign", "customer", "contact", "status", "responded_at", "converted_at", "notes", "owner",
                     "created_at", "created_by", "updated_at", "updated_by"]
    export_fields = ["campaign", "customer", "contact", "status", "responded_at", "converted_at", "notes", "owner",
                     "created_at"]
    nav_icon = "ti-users-group"
    search_placeholder = _("Customer, campaign, notes")
