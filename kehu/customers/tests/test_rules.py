"""Customer rules written once: the duplicate check as a service option (`allow_duplicate`) for the
UI, the API and imports; the `pool` right on every public-pool action; contacts following the
customer's owner through the assignment hook."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from kehu.accounts.testing import make_user_with
from kehu.core.testing.factories import auth
from kehu.customers import services
from kehu.customers.models import Contact, Customer
from kehu.customers.testing import make_contact, make_customer

API = "/api/v1/customers/"


def ui(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- duplicates: one service option --------------------------------------------------------

def test_save_customer_refuses_a_duplicate_unless_allowed(org):
    existing = make_customer(org.manager, "北京远航科技有限公司", phone="13812345678")
    twin = Customer(name="杭州另一家有限公司", phone="+8613812345678", owner=org.manager)
    twin.full_clean()
    with pytest.raises(services.DuplicateCustomer) as exc:
        services.save_customer(twin, org.manager)
    assert [d.customer.pk for d in exc.value.duplicates] == [existing.pk]
    assert existing.number in exc.value.message_dict["allow_duplicate"][0]
    assert twin.pk is None
    services.save_customer(twin, org.manager, allow_duplicate=True)
    assert twin.pk is not None and twin.created_by == org.manager


def test_an_edit_that_keeps_name_phone_and_email_is_not_checked(org):
    make_customer(org.manager, "北京远航科技有限公司", phone="13812345678")
    twin = make_customer(org.manager, "北京远航科技股份有限公司")  # made before the check existed
    twin.notes = "回访"
    services.save_customer(twin, org.manager)  # no DuplicateCustomer: its identity did not change


def test_api_allow_duplicate_on_create_and_update(org):
    existing = make_customer(org.manager, "北京远航科技有限公司", phone="13812345678")
    client = Client(**auth(org.manager))
    body = {"name": "杭州新公司有限公司", "phone": "138 1234 5678"}
    response = client.post(API, body, content_type="application/json")
    assert response.status_code == 422
    assert existing.number in response.json()["errors"]["allow_duplicate"][0]
    response = client.post(API, {**body, "allow_duplicate": True}, content_type="application/json")
    assert response.status_code == 201, response.content
    other = make_customer(org.manager, "广州南方物流有限公司")
    response = client.patch(f"{API}{other.pk}", {"phone": "13812345678"}, content_type="application/json")
    assert response.status_code == 422 and "allow_duplicate" in response.json()["errors"]
    response = client.patch(f"{API}{other.pk}", {"phone": "13812345678", "allow_duplicate": True},
                            content_type="application/json")
    assert response.status_code == 200, response.content
    assert Customer.objects.get(pk=other.pk).phone == "+8613812345678"


def test_allow_duplicate_is_a_documented_boolean_of_the_customer_input():
    schema = Client().get("/api/v1/openapi.json").json()
    for method in ("post", "patch"):
        path = API if method == "post" else API + "{pk}"
        body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        field = body["properties"]["allow_duplicate"]
        assert {"type": "boolean"} in field.get("anyOf", [field])
        assert field["description"]


# --- the pool right ----------------------------------------------------------------------------

@pytest.fixture
def no_pool(org):
    """May see and edit every customer, but has no `pool` right."""
    return make_user_with("no-pool", "customer.view", "customer.edit", "contact.view")


def test_claim_needs_the_pool_right(org, no_pool):
    pooled = make_customer(None, "公海客户有限公司")
    assert ui(no_pool).post(f"/customers/{pooled.pk}/claim/").status_code == 403
    assert Client(**auth(no_pool)).post(f"{API}{pooled.pk}/claim").status_code == 403
    response = ui(no_pool).post("/customers/bulk/", {"action": "claim", "pk": [pooled.pk]})
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        services.claim(pooled, no_pool)
    assert Customer.objects.get(pk=pooled.pk).owner_id is None
    # with the right (account manager: pool.view + customer.edit)
    assert Client(**auth(org.manager)).post(f"{API}{pooled.pk}/claim").status_code == 200
    assert Customer.objects.get(pk=pooled.pk).owner == org.manager


def test_release_needs_the_pool_right(org, no_pool):
    c = make_customer(no_pool, "自己的客户有限公司")
    assert ui(no_pool).post(f"/customers/{c.pk}/release/").status_code == 403
    assert Client(**auth(no_pool)).post(f"{API}{c.pk}/release").status_code == 403
    assert ui(no_pool).post("/customers/bulk/", {"action": "release", "pk": [c.pk]}).status_code == 403
    assert Customer.objects.get(pk=c.pk).owner == no_pool
    detail = ui(no_pool).get(f"/customers/{c.pk}/").content.decode()
    assert 'data-testid="release"' not in detail


def test_the_pool_list_needs_the_pool_right(org, no_pool):
    make_customer(None, "公海客户有限公司")
    assert ui(no_pool).get("/customers/?tab=pool").status_code == 403
    assert ui(no_pool).get("/customers/?pool=true").status_code == 403
    assert Client(**auth(no_pool)).get(f"{API}?pool=true").status_code == 403
    page = ui(no_pool).get("/customers/").content.decode()
    assert "tab=pool" not in page
    assert ui(org.manager).get("/customers/?tab=pool").status_code == 200
    assert Client(**auth(org.manager)).get(f"{API}?pool=true").status_code == 200
    assert ui(no_pool).get("/customers/?pool=false").status_code == 200


# --- contacts follow the owner, through one hook -----------------------------------------

def test_pool_actions_move_the_contacts_through_the_assignment_hook(org, monkeypatch):
    from kehu.core.registry import registry

    calls = []
    rt = registry.get("customer")
    original = rt.after_assign
    monkeypatch.setattr(rt, "after_assign", lambda obj, old, by: (calls.append((obj.pk, old)),
                                                                  original(obj, old, by)))
    c = make_customer(org.manager, "跟随有限公司")
    contact = make_contact(c, "张三")
    services.release(c, org.manager)
    assert Contact.all_objects.get(pk=contact.pk).owner_id is None
    services.claim(Customer.objects.get(pk=c.pk), org.manager2)
    assert Contact.all_objects.get(pk=contact.pk).owner == org.manager2
    assert calls == [(c.pk, org.manager.pk), (c.pk, None)]
