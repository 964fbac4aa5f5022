"""Campaigns through the API besides the generic CRUD and transitions (members have their own
generic CRUD at /api/v1/campaign-members/): the campaign's effect, and customers added as members
in one request."""

from datetime import date
from decimal import Decimal

from ninja import Field, Schema

from kehu.core.api_input import StrictIn


class EffectOut(Schema):
    participants: int
    responses: int
    conversions: int
    declined: int = Field(description="declined or unsubscribed")
    response_rate: Decimal | None = Field(description="responses (responded or converted) per 100 participants")
    conversion_rate: Decimal | None = Field(description="conversions per 100 participants")
    orders: int
    revenue: Decimal = Field(description="revenue attributed: docs/decisions.md, “Campaigns”")
    actual_cost: Decimal
    roi: Decimal | None = Field(description="(revenue − actual cost) / actual cost, in percent; null when the cost is 0")
    window_start: date
    window_end: date


class AddMembersIn(StrictIn):
    customers: list[int] = Field(min_length=1, max_length=500)
    status: str = "invited"


class AddMembersOut(Schema):
    added: int
    already: int


def extend(router, out_schema, rt):
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from kehu.core.api import get_visible, require
    from kehu.customers.models import Customer

    from . import services
    from .effect import effect
    from .models import CampaignMember

    @router.get("/{int:pk}/effect", response=EffectOut, operation_id="campaign_effect",
                summary="The campaign's effect: participants, responses, conversions, their rates, the revenue "
                        "attributed and the ROI")
    def campaign_effect(request, pk: int):
        require(request, rt, "view")
        return effect(get_visible(request, rt, pk)).as_dict()

    @router.post("/{int:pk}/members", response={201: AddMembersOut}, operation_id="campaign_add_members",
                 summary="Add customers (ids, of your data scope) to the campaign; one already in it is left as it is")
    def add_members(request, pk: int, payload: AddMembersIn):
        require(request, rt, "view")
        campaign = get_visible(request, rt, pk)
        if payload.status not in CampaignMember.Status.values:
            raise ValidationError({"status": _("Choose a valid status.")})
        wanted = set(payload.customers)
        customers = list(Customer.objects.visible_to(request.auth).filter(pk__in=wanted))
        missing = wanted - {c.pk for c in customers}
        if missing:
            raise ValidationError({"customers": _("No customer %(ids)s in your data scope.") % {
                "ids": ", ".join(str(i) for i in sorted(missing))}})
        added, already = services.add_members(campaign, customers, request.auth, status=payload.status)
        return 201, {"added": added, "already": already}
