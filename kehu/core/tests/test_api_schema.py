"""The API's description matches what it answers, and input is checked the same way everywhere
(kehu/core/api_input.py): the right before the body, 422 naming the field, never a 500."""

import json

import jsonschema_rs
import pytest
from django.test import Client

from kehu.core.models import CustomField
from kehu.core.registry import registry
from kehu.core.testing.factories import auth
from kehu.customers.testing import make_customer


def openapi():
    import kehu.urls  # noqa: F401
    from kehu.core.api import api

    return json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1"), default=str))


def validator(document, ref):
    return jsonschema_rs.validator_for({"$ref": ref, "components": document["components"]})


def test_every_list_has_its_own_schema(db):
    document = openapi()
    refs = {}
    for rt in registry.all():
        op = document["paths"][f"/api/v1/{rt.api_prefix}/"]["get"]
        ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        refs[rt.key] = ref
        items = document["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]["results"]["items"]
        assert items["$ref"] == f"#/components/schemas/{rt.model.__name__}Out", rt.key
    assert len(set(refs.values())) == len(refs), "one list component per record type"


def test_role_rights_are_documented_as_the_array_they_are(db):
    document = openapi()
    rights = document["components"]["schemas"]["RoleOut"]["properties"]["rights"]
    assert rights["type"] == "array"


def test_lists_and_records_match_their_schema(org):
    make_customer(org.manager, name="架构测试客户")
    document = openapi()
    client = Client(**auth(org.admin))
    for rt in registry.all():
        listing = client.get(f"/api/v1/{rt.api_prefix}/", {"limit": 5})
        assert listing.status_code == 200, rt.key
        ref = document["paths"][f"/api/v1/{rt.api_prefix}/"]["get"]["responses"]["200"]["content"][
            "application/json"]["schema"]["$ref"]
        errors = [e.message for e in validator(document, ref).iter_errors(listing.json())]
        assert not errors, (rt.key, errors[:3])
        for row in listing.json()["results"][:1]:
            record = client.get(f"/api/v1/{rt.api_prefix}/{row['id']}").json()
            errors = [e.message for e in validator(
                document, f"#/components/schemas/{rt.model.__name__}Out").iter_errors(record)]
            assert not errors, (rt.key, errors[:3])


def test_error_responses_are_documented(db):
    document = openapi()
    op = document["paths"]["/api/v1/customers/{pk}"]["patch"]
    for code in ("401", "403", "404", "409", "412", "422"):
        assert code in op["responses"], code


# --- input rules ------------------------------------------------------------------------

def api(user):
    return Client(**auth(user))


def send(client, method, url, payload):
    return getattr(client, method)(url, json.dumps(payload), content_type="application/json")


@pytest.mark.parametrize("params, name", [
    ({"limit": "abc"}, "limit"), ({"cursor": "!!not-a-cursor"}, "cursor"), ({"sort": "nonsense"}, "sort"),
    ({"q": "a\x00b"}, "q"),
])
def test_bad_list_parameters_are_422_naming_the_parameter(org, params, name):
    response = api(org.admin).get("/api/v1/customers/", params)
    assert response.status_code == 422, response.content
    assert name in response.json()["errors"]


def test_unknown_body_keys_are_422_naming_the_key(org):
    response = send(api(org.admin), "post", "/api/v1/customers/", {"name": "某公司", "no_such_field": 1})
    assert response.status_code == 422
    assert "no_such_field" in response.json()["errors"]


def test_unknown_custom_field_keys_are_422_naming_the_key(org):
    CustomField.objects.create(record_type="customers.customer", name="budget", label="预算", field_type="integer")
    customer = make_customer(org.manager)
    response = send(api(org.admin), "patch", f"/api/v1/customers/{customer.pk}",
                    {"custom_fields": {"budget": 5, "nope": 1}})
    assert response.status_code == 422, response.content
    assert list(response.json()["errors"]) == ["custom_fields.nope"]
    customer.refresh_from_db()
    assert "budget" not in customer.custom_fields, "nothing is written"


def test_nul_in_a_body_is_422_naming_the_field(org):
    response = send(api(org.admin), "post", "/api/v1/customers/", {"name": "a\x00b"})
    assert response.status_code == 422
    assert "name" in response.json()["errors"]


def test_body_that_is_not_an_object_is_422(org):
    client = api(org.admin)
    assert client.post("/api/v1/customers/", "[1]", content_type="application/json").status_code == 422
    assert client.post("/api/v1/customers/", "{", content_type="application/json").status_code == 422


def test_out_of_range_datetimes_are_422_in_every_form(org):
    response = send(api(org.admin), "post", "/api/v1/tasks/",
                    {"title": "回访", "owner": org.admin.pk, "due_at": "0001-01-01T00:00:00+08:00"})
    assert response.status_code == 422, response.content
    assert "due_at" in response.json()["errors"]
