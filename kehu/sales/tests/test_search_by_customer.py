"""An opportunity search for a customer's number reads the customers' number index
(CustomerFilterSet.probe_ids), not every opportunity joined to its customer."""

import pytest

from kehu.core.registry import registry
from kehu.core.testing.factories import auth
from kehu.customers.testing import make_customer
from kehu.sales.testing import make_opportunity


@pytest.mark.django_db
def test_opportunity_search_by_customer_number(client, org):
    a, b = make_customer(org.manager), make_customer(org.manager)
    wanted, other = make_opportunity(org.manager, customer=a), make_opportunity(org.manager, customer=b)
    rt = registry.get("opportunity")
    assert rt.filterset.probe_ids  # the opportunity filter set's own; the customers' is used for customer__name
    assert registry.get("customer").filterset.probe_ids(a.number) == [a.pk]
    fs = rt.filterset({"q": a.number}, queryset=rt.visible(org.admin), user=org.admin)
    sql = str(fs.qs.query)
    assert '"customer_id" IN' in sql and "LIKE" not in sql.upper(), sql  # no walk through the join
    rows = client.get(f"/api/v1/opportunities/?q={a.number}", **auth(org.admin)).json()["results"]
    assert [r["id"] for r in rows] == [wanted.pk]
    assert other.pk not in [r["id"] for r in rows]
