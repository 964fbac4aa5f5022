"""The campaigns' rules besides the models' clean(): the member's response and conversion times,
status changes from the campaign page, adding customers as members, the campaign's workflow steps.
Called by the UI, the API and the import alike (the times through CampaignMember.save)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Campaign, CampaignMember


def stamp_status(member: CampaignMember, now=None) -> None:
    """Set `responded_at` / `converted_at` from the status, when the status is new or changed: a
    conversion is a response too (both set); back to invited clears both; responded clears the
    conversion; declined or unsubscribed keep when they answered and clear the conversion. A time
    already set is kept (the first response counts)."""
    loaded = getattr(member, "_loaded_status", None)
    if member.pk and loaded == member.status:
        return
    now = now or timezone.now()
    status = member.status
    if status == CampaignMember.Status.INVITED:
        member.responded_at = member.converted_at = None
    elif status == CampaignMember.Status.RESPONDED:
        member.responded_at = member.responded_at or now
        member.converted_at = None
    elif status == CampaignMember.Status.CONVERTED:
        member.responded_at = member.responded_at or now
        member.converted_at = member.converted_at or now
    else:  # declined, unsubscribed
        member.converted_at = None
    member._loaded_status = status


def set_status(member: CampaignMember, status: str, user) -> CampaignMember:
    """A member's status from the campaign page's buttons: the right, the choice, the times (save)."""
    if user is not None and not user.has_right("campaignmember", "edit"):
        raise PermissionDenied
    if status not in CampaignMember.Status.values:
        raise ValidationError({"status": _("Choose a valid status.")})
    from kehu.core.assignment import acting_as

    with acting_as(user), transaction.atomic():
        member.status = status
        member.updated_by = user
        member.save()
    return member


def add_members(campaign: Campaign, customers, user, *, status=CampaignMember.Status.INVITED) -> tuple[int, int]:
    """Add customers to a campaign (the customers are the caller's, read through the user's scope);
    one already in it is left as it is. Returns (added, already members)."""
    if user is not None and not user.has_right("campaignmember", "create"):
        raise PermissionDenied
    if campaign.status == Campaign.Status.CANCELLED:
        raise ValidationError({"campaign": _("This campaign was cancelled: it takes no new members.")})
    from kehu.core.assignment import acting_as

    customers = list(customers)
    present = set(CampaignMember.objects.filter(campaign=campaign, customer__in=customers)
                  .values_list("customer_id", flat=True))
    added = 0
    with acting_as(user), transaction.atomic():
        for customer in customers:
            if customer.pk in present:
                continue
            member = CampaignMember(campaign=campaign, customer=customer, status=status, owner=user,
                                    created_by=user, updated_by=user)
            member.save()
            present.add(customer.pk)
            added += 1
    return added, len(customers) - added


# --- the campaign's workflow (records.CampaignWorkflow) ---------------------------------------------
def started(campaign: Campaign, user, ctx) -> None:
    """Starting a campaign before its start date moves the start to today (it runs from now on)."""
    today = timezone.localdate()
    if campaign.start_date > today:
        ctx.log["start_date"] = str(campaign.start_date)
        campaign.start_date = today


def completed(campaign: Campaign, user, ctx) -> None:
    """Completing a campaign before its planned end ends it today (the attribution window follows)."""
    today = timezone.localdate()
    if campaign.end_date > today >= campaign.start_date:
        ctx.log["end_date"] = str(campaign.end_date)
        campaign.end_date = today


# which of two memberships of one customer in one campaign tells more, when two customers are merged:
# a conversion, then a response, then the customer's own refusal, then a bare invitation
_FOLD_RANK = {"converted": 4, "responded": 3, "unsubscribed": 2, "declined": 1, "invited": 0}


def fold_members(keep, other, user) -> int:
    """Before `other` is merged into `keep`: where both are members of one campaign, `keep`'s
    membership takes the status that tells more (_FOLD_RANK), the earlier response and conversion
    times, the contact if it had none and the other's notes; the other's membership goes to the
    recycle bin (deleted, not moved onto `keep` as a second row: one customer once per campaign).
    Returns how many were folded."""
    from kehu.core.assignment import acting_as

    mine = {m.campaign_id: m for m in CampaignMember.objects.filter(customer=keep)}
    theirs = CampaignMember.objects.filter(customer=other, campaign_id__in=list(mine))
    folded = 0
    now = timezone.now()
    with acting_as(user), transaction.atomic():
        for member in theirs.order_by("pk"):
            target = mine[member.campaign_id]
            if _FOLD_RANK.get(member.status, 0) > _FOLD_RANK.get(target.status, 0):
                target.status = member.status
            for stamp in ("responded_at", "converted_at"):
                times = [t for t in (getattr(target, stamp), getattr(member, stamp)) if t]
                setattr(target, stamp, min(times) if times else None)
            target.contact_id = target.contact_id or member.contact_id
            if member.notes and member.notes not in target.notes:
                target.notes = "\n".join(filter(None, [target.notes, member.notes]))
            target.updated_by = user
            target.save()
            member.deleted_at, member.deleted_by, member.updated_by = now, user, user
            member.save(update_fields=["deleted_at", "deleted_by", "updated_by"])
            folded += 1
    return folded

