"""Opportunity endpoints added to the generic CRUD router: stage change and assignment."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError

from kehu.accounts.models import User
from kehu.core.api_input import StrictIn

from . import services
from .models import Stage


class StageIn(StrictIn):
    stage: int
    amount: Decimal | None = None
    deal_products: str | None = None
    signed_on: datetime.date | None = None
    lost_reason: int | str | None = None
    won_competitor: str | None = None
    comment: str | None = None


class AssignIn(StrictIn):
    owner: int


def extend(router, Out, rt):
    from kehu.core.api import get_visible, require, respond, serialize

    @router.post("/{int:pk}/stage", response=Out, operation_id="opportunity_stage",
                 summary="Move to another stage through the transition that leads there (move, win, lose, reopen: "
                         "won needs amount, deal_products, signed_on; lost needs lost_reason; reopen a comment)")
    def change_stage(request, pk: int, payload: StageIn):
        require(request, rt, "edit")
        opp = get_visible(request, rt, pk)
        stage = Stage.objects.filter(pk=payload.stage, active=True).first()
        if stage is None:
            raise ValidationError({"stage": ["Unknown or inactive stage."]})
        data = payload.dict(exclude={"stage"})
        services.change_stage(opp, stage, request.auth, **data)
        return respond(request, serialize(rt, rt.visible(request.auth).get(pk=pk)))

    @router.post("/{int:pk}/assign", response=Out, operation_id="opportunity_assign",
                 summary="Assign to an account manager (notified in-app and by e-mail)")
    def assign(request, pk: int, payload: AssignIn):
        require(request, rt, "assign")
        opp = get_visible(request, rt, pk)
        owner = User.objects.filter(pk=payload.owner, is_active=True).first()
        if owner is None:
            raise ValidationError({"owner": ["Unknown or inactive user."]})
        services.assign(opp, owner, request.auth)
        obj = rt.visible(request.auth).filter(pk=pk).first()
        if obj is None:  # assigned outside the assigner's own scope
            obj = type(opp).objects.get(pk=pk)
        return respond(request, serialize(rt, obj))


__all__ = ["extend", "PermissionDenied"]
