"""Choosing a list's columns (?columns=...) shows them and remembers them for the user."""

import pytest

from kehu.accounts.models import User
from kehu.customers.testing import make_customer


@pytest.mark.django_db
def test_chosen_columns_are_shown_and_remembered(client, org):
    client.force_login(org.manager)
    r = client.get("/customers/?columns=name&columns=last_activity_at")
    assert r.status_code == 200
    assert User.objects.get(pk=org.manager.pk).preferences["columns"]["customer"] == ["name", "last_activity_at"]
    html = client.get("/customers/").content.decode()  # remembered without the parameter
    head = html[html.index("<thead>"):html.index("</thead>")]
    assert "sort=-last_activity_at" in head and "sort=-number" not in head
    # the number (the usual link) is not shown: the first column opens the record
    customer = make_customer(org.manager, name="链接测试有限公司")
    html = client.get("/customers/").content.decode()
    assert f'<a href="/customers/{customer.pk}/">链接测试有限公司</a>' in html
