"""The campaign's page: its effect beside its details, and its members (those the user may see),
added and marked responded / converted in place (HTMX). Everything else is core's generic views."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from kehu.core.registry import registry
from kehu.core.views import RecordDetailView, add_errors, local_next

from . import services
from .effect import effect
from .forms import CampaignMemberForm
from .models import Campaign, CampaignMember

MEMBERS_SHOWN = 25  # the newest members on the campaign's page (a page of the list); all of them: the members' list


def members_context(request, campaign: Campaign, form=None) -> dict:
    """The campaign's members the user may see (newest first, at most MEMBERS_SHOWN), the add form
    and what the user may do with them."""
    user = request.user
    member_rt = registry.get("campaignmember")
    rows = list(member_rt.visible(user).filter(campaign=campaign).select_related("customer", "contact")
                .order_by("-id")[:MEMBERS_SHOWN + 1])
    may_add = user.has_right("campaignmember", "create") and campaign.status != Campaign.Status.CANCELLED
    if form is None and may_add:
        form = CampaignMemberForm(user=user, initial={"campaign": campaign.pk})
    return {"members": rows[:MEMBERS_SHOWN], "more_members": len(rows) > MEMBERS_SHOWN,
            "member_form": form if may_add else None, "may_edit_members": user.has_right("campaignmember", "edit"),
            "statuses": CampaignMember.Status.choices, "effect": effect(campaign)}


class CampaignDetailView(RecordDetailView):
    def extra_context(self, obj):
        if self.request.GET.get("tab", "details") != "details":
            return {}
        return members_context(self.request, obj)


def _campaign(request, pk) -> Campaign:
    rt = registry.get("campaign")
    if not request.user.has_right(rt.module, "view"):
        raise PermissionDenied
    return get_object_or_404(rt.visible(request.user), pk=pk)


def _panel(request, campaign, form=None, status=200):
    ctx = {"object": campaign, **members_context(request, campaign, form)}
    return TemplateResponse(request, "campaigns/partials/members.html", ctx, status=status)


@require_POST
def add_member(request, pk):
    """Add one customer (and contact) to the campaign from its page: the member's form and rules."""
    from kehu.core.assignment import save_record

    campaign = _campaign(request, pk)
    member_rt = registry.get("campaignmember")
    if not request.user.has_right(member_rt.module, "create"):
        raise PermissionDenied
    data = request.POST.copy()
    data["campaign"] = str(campaign.pk)
    form = CampaignMemberForm(data, instance=CampaignMember(owner=request.user), user=request.user)
    if form.is_valid():
        try:
            with transaction.atomic():
                save_record(member_rt, form, request.user)
        except ValidationError as exc:
            add_errors(form, exc)
            return _panel(request, campaign, form)
        return _panel(request, campaign)
    return _panel(request, campaign, form)


@require_POST
def member_status(request, pk, member_pk):
    """Mark a member responded, converted, declined… (services.set_status sets the times)."""
    campaign = _campaign(request, pk)
    member = registry.get("campaignmember").visible(request.user).filter(campaign=campaign, pk=member_pk).first()
    if member is None:
        raise Http404
    try:
        services.set_status(member, request.POST.get("status", ""), request.user)
    except ValidationError:
        return _panel(request, campaign, status=422)
    return _panel(request, campaign)


ADD_SHOWN = 20  # the selected customers named on the "Add to campaign" page; the rest are counted


def add_to_campaign(view, objs, data):
    """The customer list's bulk action "Add to campaign…" (registered in registrations.py). Without a
    campaign chosen: a page to choose one of the open campaigns (planned or running) for the selected
    customers. With one: they are added through services.add_members (the member's create right, a
    cancelled campaign refused, a customer already in it left as it is) and the list says how many."""
    from django.contrib import messages
    from django.http import HttpResponseRedirect
    from django.urls import reverse
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    request = view.request  # the bulk view checked the rights the action declares (campaign.view too)
    campaign_rt = registry.get("campaign")
    open_campaigns = campaign_rt.visible(request.user).filter(
        status__in=(Campaign.Status.PLANNED, Campaign.Status.ACTIVE)).order_by("-id")
    back = local_next(request, reverse(view.rt.url_name("list")))
    chosen = str(data.get("campaign") or "")
    if chosen:
        campaign = open_campaigns.filter(pk=int(chosen) if chosen.isdigit() else 0).first()
        if campaign is None:
            raise ValidationError(_("Choose a planned or running campaign."))
        added, present = services.add_members(campaign, objs, request.user)
        message = ngettext("%(count)s customer added to the campaign “%(campaign)s”.",
                           "%(count)s customers added to the campaign “%(campaign)s”.", added) % {
            "count": added, "campaign": campaign.name}
        if present:
            message += " " + ngettext("%(count)s was a member already.", "%(count)s were members already.",
                                      present) % {"count": present}
        messages.success(request, message)
        return HttpResponseRedirect(back)
    return TemplateResponse(request, "campaigns/add_to_campaign.html", {
        "rt": view.rt, "customers": objs[:ADD_SHOWN], "more": max(0, len(objs) - ADD_SHOWN), "count": len(objs),
        "pks": [obj.pk for obj in objs], "campaigns": list(open_campaigns[:200]), "next": back,
        "may_create": request.user.has_right(campaign_rt.module, "create")})
