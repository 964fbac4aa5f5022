"""Test data builders shared by every app's tests."""

from types import SimpleNamespace

from kehu.accounts.models import ApiToken, Department, Role, User

PASSWORD = "Test#pass123"


def make_user(username, role_code=None, department=None, **extra) -> User:
    user = User.objects.create(username=username, full_name=extra.pop("full_name", username), department=department,
                               must_change_password=extra.pop("must_change_password", False),
                               email=extra.pop("email", f"{username}@example.com"), **extra)
    user.set_password(PASSWORD)
    user.save()
    if role_code:
        user.roles.add(Role.objects.get(code=role_code))
    return user


def make_org() -> SimpleNamespace:
    hq = Department.objects.create(name="总部")
    sales1 = Department.objects.create(name="销售一部", parent=hq)
    sales2 = Department.objects.create(name="销售二部", parent=hq)
    team = Department.objects.create(name="一部一组", parent=sales1)
    o = SimpleNamespace(hq=hq, sales1=sales1, sales2=sales2, team=team)
    o.admin = make_user("admin", "admin", hq)
    o.supervisor = make_user("supervisor", "supervisor", sales1)
    o.manager = make_user("manager", "account_manager", team)  # under sales1 (supervisor sees them)
    o.manager2 = make_user("manager2", "account_manager", sales2)  # outside the supervisor's department
    o.executive = make_user("executive", "executive", hq)
    o.service = make_user("service", "service", hq)
    o.finance = make_user("finance", "finance", hq)  # 财务: payments and invoices of every department
    o.nobody = make_user("nobody", None, hq)  # no role: no rights at all
    return o


def token_for(user) -> str:
    _token, key = ApiToken.issue(user, name="test")
    return key


def auth(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_for(user)}"}
