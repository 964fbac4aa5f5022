"""Dates out of Python's range were an OverflowError (500); they are 422 naming the field."""

import json

import pytest
from django.test import Client

from kehu.core.testing.factories import auth


@pytest.mark.parametrize("due_at", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"])
def test_out_of_range_due_at_is_422(org, due_at):
    client = Client(**auth(org.admin))
    response = client.post("/api/v1/tasks/", json.dumps({"title": "回访", "owner": org.admin.pk, "due_at": due_at}),
                           content_type="application/json")
    assert response.status_code == 422, response.content
    assert "due_at" in response.json()["errors"]


def test_out_of_range_due_at_in_the_form_is_a_form_error(org):
    client = Client()
    client.force_login(org.admin)
    response = client.post("/tasks/add/", {"title": "回访", "owner": org.admin.pk, "due_at": "9999-12-31T23:59:59-12:00",
                                           "priority": "normal", "status": "todo"})
    assert response.status_code in (200, 422), response.status_code
    assert "due_at" in response.context["form"].errors
