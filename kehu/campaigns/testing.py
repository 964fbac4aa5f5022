"""Test builders of campaigns and their members, shared by every app's tests."""

import datetime
import itertools
from decimal import Decimal

from django.utils import timezone

from .models import Campaign, CampaignMember

_seq = itertools.count(1)


def make_campaign(owner, name=None, *, start=None, end=None, actual_cost="0", budget="10000", **extra) -> Campaign:
    """A validated, saved, planned campaign running from `start` (today) to `end` (a week later)."""
    start = start or timezone.localdate()
    campaign = Campaign(name=name or f"春季展会{next(_seq)}", start_date=start,
                        end_date=end or start + datetime.timedelta(days=7), budget=Decimal(budget),
                        actual_cost=Decimal(actual_cost), owner=owner, created_by=owner, **extra)
    campaign.full_clean()
    campaign.save()
    return campaign


def make_member(campaign, customer, *, status="invited", owner=None, **extra) -> CampaignMember:
    member = CampaignMember(campaign=campaign, customer=customer, status=status, owner=owner or customer.owner,
                            created_by=owner or customer.owner, **extra)
    member.full_clean()
    member.save()
    return member
