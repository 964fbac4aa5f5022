"""Test data builders for contracts, shared by every app's tests (as testing.py)."""

import datetime
import itertools
from decimal import Decimal

from kehu.customers.testing import make_customer

from .models import Contract

_seq = itertools.count(1)


def make_contract(owner, *, status=None, **extra) -> Contract:
    """A draft contract for a new customer (unless one is given), signed, with a one-year term from
    today and an amount, so that it can be put in force; `status` writes a state directly."""
    n = next(_seq)
    today = datetime.date.today()
    if "customer" not in extra:
        extra["customer"] = make_customer(owner)
    values = {"title": f"合同{n}", "signed_on": today, "starts_on": today,
              "ends_on": today + datetime.timedelta(days=364), "amount": Decimal("100000.00"), **extra}
    contract = Contract(owner=owner, created_by=owner, **values)
    contract.full_clean()
    contract.save()
    if status is not None:
        Contract.all_objects.filter(pk=contract.pk).update(status=status)
        contract.refresh_from_db()
    return contract
