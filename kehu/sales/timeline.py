"""Opportunity events on the customer's timeline: created, stage changes, won, lost."""

from django.urls import reverse
from django.utils.translation import gettext as _

from kehu.core import timeline

from .models import Opportunity, StageChange


@timeline.register("opportunities", right="opportunity.view")
def opportunity_events(customer, user, cursor, limit):
    visible = Opportunity.objects.visible_to(user).filter(customer=customer) if user is not None \
        else Opportunity.objects.filter(customer=customer)
    events = []
    created = (visible.filter(cursor.older("created_at", "opportunities"))
               .order_by("-created_at", "-id")[:limit])
    for opp in created:
        url = reverse("sales:opportunity_detail", args=[opp.pk])
        body = opp.number + (f" · {opp.amount:,.2f}" if opp.amount is not None else "")
        events.append(timeline.Event(opp.created_at, "opportunity", _("Opportunity created: %(title)s") % {
            "title": opp.title}, body=body, url=url, actor=opp.created_by_id, icon="ti-target-arrow", id=opp.pk))
    changes = (
        StageChange.objects.filter(cursor.older("changed_at", "stage_changes"), opportunity__in=visible.values("pk"),
                                   from_stage__isnull=False)
        .select_related("opportunity", "opportunity__lost_reason", "to_stage", "from_stage")
        .order_by("-changed_at", "-id")[:limit]
    )
    for ch in changes:
        opp = ch.opportunity
        url = reverse("sales:opportunity_detail", args=[opp.pk])
        if ch.to_stage.is_won:
            title, icon = _("Opportunity won: %(title)s") % {"title": opp.title}, "ti-trophy"
            body = f"{opp.amount:,.2f} · {opp.deal_products}" if opp.amount is not None else opp.deal_products
        elif ch.to_stage.is_lost:
            title, icon = _("Opportunity lost: %(title)s") % {"title": opp.title}, "ti-circle-x"
            body = str(opp.lost_reason or "") + (f" · {opp.won_competitor}" if opp.won_competitor else "")
        else:
            title = _("Opportunity “%(title)s” moved from %(a)s to %(b)s") % {
                "title": opp.title, "a": ch.from_stage, "b": ch.to_stage}
            icon, body = "ti-arrow-right", ""
        events.append(timeline.Event(ch.changed_at, "stage", title, body=body, url=url, actor=ch.changed_by_id,
                                     icon=icon, id=ch.pk, source="stage_changes"))
    return events
