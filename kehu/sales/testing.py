"""Test data builders for opportunities, shared by every app's tests."""

import itertools

from kehu.customers.testing import make_customer

from .models import Opportunity, Stage

_seq = itertools.count(1)


def first_stage():
    return Stage.objects.filter(is_won=False, is_lost=False).order_by("order").first()


def make_opportunity(owner, **extra) -> Opportunity:
    """A validated, saved opportunity in the first open stage, for a new customer unless one is given."""
    n = next(_seq)
    if "customer" not in extra and "prospect_name" not in extra:
        extra["customer"] = make_customer(owner)
    opp = Opportunity(title=extra.pop("title", f"机会{n}"), owner=owner, created_by=owner,
                      stage=extra.pop("stage", None) or first_stage(), **extra)
    opp.full_clean()
    opp.save()
    return opp
