"""A search term under three characters in a list larger than search.SHORT_WINDOW rows is probed
in the newest rows only, and the list says so (HTML notice, API header) instead of walking every
row into the statement time limit (kehu/core/search.py)."""

import pytest

from kehu.activities.models import FollowUp
from kehu.activities.testing import make_followup
from kehu.core import search
from kehu.core.testing.factories import auth
from kehu.customers.testing import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def followups(org, monkeypatch):
    monkeypatch.setattr(search, "SHORT_WINDOW", 3)
    customer = make_customer(org.admin)
    old = make_followup(customer, org.admin, topic="北方老客户回访")
    made = [make_followup(customer, org.admin, topic=f"回访{i}") for i in range(3)]
    newest = make_followup(customer, org.admin, topic="北京新客户")
    return old, made, newest


def test_short_term_in_a_large_list_searches_the_newest_rows(client, org, followups):
    old, made, newest = followups
    r = client.get("/api/v1/followups/?q=北", **auth(org.admin))
    assert r.status_code == 200
    assert [row["id"] for row in r.json()["results"]] == [newest.pk]  # the old one is outside the window
    assert r["X-Kehu-Search-Window"] == "3"
    client.force_login(org.admin)
    html = client.get("/followups/?q=北").content.decode()
    assert 'data-testid="search-window"' in html and "北京新客户" in html and "北方老客户回访" not in html
    # three characters or more: every row, through the trigram index, no notice
    r = client.get("/api/v1/followups/?q=北方老", **auth(org.admin))
    assert [row["id"] for row in r.json()["results"]] == [old.pk] and "X-Kehu-Search-Window" not in r


def test_common_short_term_walks_the_list_in_order(client, org, followups, monkeypatch):
    monkeypatch.setattr(search, "PROBE", 2)  # "回" is in every row of the window: common
    r = client.get("/api/v1/followups/?q=回", **auth(org.admin))
    expected = list(FollowUp.objects.filter(topic__contains="回").order_by("-occurred_at", "-id")
                    .values_list("pk", flat=True))
    assert [row["id"] for row in r.json()["results"]] == expected and "X-Kehu-Search-Window" not in r


def test_small_list_searches_every_row(client, org, followups, monkeypatch):
    monkeypatch.setattr(search, "SHORT_WINDOW", 1000)
    old, _made, newest = followups
    r = client.get("/api/v1/followups/?q=北", **auth(org.admin))
    assert {row["id"] for row in r.json()["results"]} == {old.pk, newest.pk}
    assert "X-Kehu-Search-Window" not in r
