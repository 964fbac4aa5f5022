"""Test data builders for customers and contacts, shared by every app's tests."""

import itertools

from .models import Contact, Customer

_seq = itertools.count(1)
WORDS = ["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛", "壬", "癸"]


def make_customer(owner, name=None, **extra) -> Customer:
    """A validated, saved customer; a distinct Chinese company name unless one is given."""
    if name is None:
        n = next(_seq)
        name = f"{WORDS[n % 10]}{WORDS[(n // 10) % 10]}{n}号商贸有限公司"
    customer = Customer(name=name, owner=owner, created_by=owner, **extra)
    customer.full_clean()
    customer.save()
    return customer


def make_contact(customer, name, **extra) -> Contact:
    contact = Contact(customer=customer, name=name, **extra)
    contact.full_clean()
    contact.save()
    return contact
