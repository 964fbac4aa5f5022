from kehu.accounts.models import Department, Role
from kehu.core.testing.factories import make_user
from kehu.core.testing.records import RecordTypeTests


class TestUser(RecordTypeTests):
    key = "user"
    update = {"full_name": "新名字"}
    invalid = {"email": "not-an-email"}

    def make(self, org, owner):
        return make_user(f"u{Department.objects.count()}_{Role.objects.count()}_{id(owner) % 10000}"
                         f"{__import__('uuid').uuid4().hex[:6]}", "account_manager", org.sales1)

    def form_data(self, org):
        return {"username": "newbie", "full_name": "新员工", "email": "newbie@example.com",
                "department": org.sales1.pk, "roles": [Role.objects.get(code="account_manager").pk],
                "is_active": "on", "time_zone": "Asia/Shanghai", "password": "Sales#2026x"}


class TestRole(RecordTypeTests):
    key = "role"
    update = {"name": "大客户经理"}
    invalid = {"data_scope": "galaxy"}

    def make(self, org, owner):
        return Role.objects.create(code=f"r{Role.objects.count()}", name="临时角色", rights=["customer.view"])

    def form_data(self, org):
        return {"code": "key_account", "name": "大客户专员", "data_scope": "own", "rights": ["customer.view"]}


class TestDepartment(RecordTypeTests):
    key = "department"
    update = {"name": "华东大区"}
    invalid = {"parent": 999999}

    def make(self, org, owner):
        return Department.objects.create(name=f"部门{Department.objects.count()}", parent=org.hq)

    def form_data(self, org):
        return {"name": "渠道部", "parent": org.hq.pk, "order": 5}
