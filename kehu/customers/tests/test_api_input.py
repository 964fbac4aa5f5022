"""NUL in the duplicate search was a 500 on PostgreSQL (it cannot store or compare NUL)."""

from django.test import Client

from kehu.core.testing.factories import auth
from kehu.customers.testing import make_customer


def test_nul_in_the_duplicate_search_is_422_naming_the_parameter(org):
    response = Client(**auth(org.manager)).get("/api/v1/customers/duplicates", {"name": "a\x00b"})
    assert response.status_code == 422, response.content
    assert "name" in response.json()["errors"]


def test_nul_in_the_html_duplicate_check_is_ignored(org):
    make_customer(org.manager, name="北京科技有限公司")
    client = Client()
    client.force_login(org.manager)
    response = client.get("/customers/duplicates/", {"name": "北京科技\x00有限公司", "phone": "\x00"})
    assert response.status_code == 200
