"""Every list's owner filter is a select of the users, the inactive ones marked and still usable
(a departed colleague's records are found to hand them over); an unknown id is refused."""

import pytest

from kehu.accounts import authcache
from kehu.activities.testing import make_followup
from kehu.core.testing.factories import auth
from kehu.customers.testing import make_customer


@pytest.mark.django_db
def test_owner_filter_lists_users_and_finds_an_inactive_owners_records(client, org):
    customer = make_customer(org.manager2)
    departed = make_followup(customer, org.manager2, topic="离职同事的跟进")
    make_followup(customer, org.manager, topic="在职同事的跟进")
    org.manager2.is_active = False
    org.manager2.save()
    authcache.clear()
    client.force_login(org.admin)
    html = client.get("/followups/").content.decode()
    select = html[html.index('<select name="owner"'):]
    select = select[:select.index("</select>")]
    assert f'<option value="{org.manager.pk}">manager</option>' in select
    assert f"<option value=\"{org.manager2.pk}\">manager2（已停用）</option>" in select  # zh-Hans, the default
    r = client.get(f"/api/v1/followups/?owner={org.manager2.pk}", **auth(org.admin))
    assert [row["id"] for row in r.json()["results"]] == [departed.pk]
    r = client.get("/api/v1/followups/?owner=987654", **auth(org.admin))
    assert r.status_code == 422 and "owner" in r.content.decode(), r.content
