from django.core.management import call_command

from kehu.accounts.models import User
from kehu.customers.models import Customer


def test_demo_loads_once_and_every_demo_user_can_log_in(db, client):
    call_command("demo", customers=30)
    call_command("demo", customers=30)  # idempotent
    assert Customer.objects.count() == 30
    for username in ("admin", "supervisor", "manager", "manager2", "manager3", "executive", "service"):
        user = User.objects.get(username=username)
        assert user.check_password("Kehu@2026") and not user.must_change_password
        assert user.roles.exists()
    from kehu.sales.models import Opportunity

    assert Opportunity.objects.exists()
    client.force_login(User.objects.get(username="manager"))
    assert client.get("/").status_code == 200
