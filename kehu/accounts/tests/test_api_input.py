"""/api/v1/users/: the right is checked before the body is read; malformed roles are 422 naming the
field (they were an AttributeError, a 500, for any authenticated user)."""

import json

import pytest
from django.test import Client

from kehu.core.testing.factories import auth


def send(user, method, url, payload):
    return getattr(Client(**auth(user)), method)(url, json.dumps(payload), content_type="application/json")


@pytest.mark.parametrize("roles", [[None], [{"a": 1}], "x", [[1]]])
def test_malformed_roles_without_the_right_are_403(org, roles):
    assert send(org.manager, "post", "/api/v1/users/", {"username": "x", "roles": roles}).status_code == 403
    assert send(org.manager, "patch", f"/api/v1/users/{org.manager.pk}", {"roles": roles}).status_code == 403


@pytest.mark.parametrize("roles", [[None], [{"a": 1}], "x", [[1]]])
def test_malformed_roles_are_422_naming_the_field(org, roles):
    response = send(org.admin, "post", "/api/v1/users/", {"username": "newuser", "password": "Xy#12345abc",
                                                          "roles": roles})
    assert response.status_code == 422, response.content
    assert any(name.startswith("roles") for name in response.json()["errors"])
    response = send(org.admin, "patch", f"/api/v1/users/{org.manager.pk}", {"roles": roles})
    assert response.status_code == 422, response.content
    assert any(name.startswith("roles") for name in response.json()["errors"])
    org.manager.refresh_from_db()
    assert org.manager.roles.filter(code="account_manager").exists()
