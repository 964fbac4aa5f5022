"""A record read through the API (GET, and the answer to PATCH / POST) carries its tags; on
PostgreSQL they come in the record's own query."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kehu.core.testing.factories import auth
from kehu.customers.testing import make_customer


@pytest.mark.django_db
def test_a_records_tags_come_with_it_in_name_order(org):
    customer = make_customer(org.manager)
    customer.set_tags(["重点", "华北", "A类"])
    client = Client(**auth(org.manager))
    client.get(f"/api/v1/customers/{customer.pk}")  # the token and the content types, read once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/customers/{customer.pk}")
    assert response.status_code == 200
    assert response.json()["tags"] == ["A类", "华北", "重点"]
    reads = [q["sql"] for q in queries.captured_queries]
    assert len(reads) == (1 if connection.vendor == "postgresql" else 2), reads

    response = client.patch(f"/api/v1/customers/{customer.pk}", json.dumps({"tags": ["华北"], "notes": "改"}),
                            content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["tags"] == ["华北"] and response.json()["notes"] == "改"

    untagged = make_customer(org.manager)
    assert client.get(f"/api/v1/customers/{untagged.pk}").json()["tags"] == []
    assert client.get(f"/api/v1/customers/{make_customer(org.manager2).pk}").status_code == 404


@pytest.mark.django_db
def test_the_tag_names_of_lists_and_records_stay_right_when_read_again(org):
    first, second = make_customer(org.manager), make_customer(org.manager)
    first.set_tags(["乙", "甲"])
    client = Client(**auth(org.manager))
    for _ in range(2):  # the second reading reuses what the first built
        rows = {r["id"]: r["tags"] for r in client.get("/api/v1/customers/").json()["results"]}
        assert rows[first.pk] == ["乙", "甲"] and rows[second.pk] == []
        assert client.get(f"/api/v1/customers/{second.pk}").json()["tags"] == []
        assert client.get(f"/api/v1/customers/{first.pk}").json()["tags"] == ["乙", "甲"]
    second.set_tags(["丙"])
    rows = {r["id"]: r["tags"] for r in client.get("/api/v1/customers/").json()["results"]}
    assert rows[second.pk] == ["丙"] and rows[first.pk] == ["乙", "甲"]
