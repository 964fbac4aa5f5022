from django.db import migrations

ACTIONS = ["view", "create", "edit", "delete", "export", "assign"]


def all_of(module):
    return [f"{module}.{a}" for a in ACTIONS]


ROLES = [
    ("admin", "系统管理员", "System administrator", "all", ["*"],
     "管理用户、部门、角色与权限、数据字典、自定义字段和系统设置"),
    ("supervisor", "销售主管", "Sales supervisor", "department",
     all_of("customer") + all_of("contact") + ["user.view", "department.view", "pool.view", "pool.assign"],
     "创建并指派销售机会、制定开发计划、指派服务工单、查看团队数据和全部分析报表"),
    ("account_manager", "客户经理", "Account manager", "own",
     ["customer.view", "customer.create", "customer.edit", "customer.export",
      "contact.view", "contact.create", "contact.edit", "contact.delete", "contact.export", "pool.view"],
     "维护自己的客户，创建机会和计划并执行，记录跟进，处理服务工单"),
    ("executive", "高管", "Executive", "all",
     ["customer.view", "customer.export", "contact.view", "contact.export", "user.view", "department.view"],
     "查看全部数据、报表和仪表盘，不做修改"),
    ("service", "客服", "Service agent", "all", ["customer.view", "contact.view"],
     "创建和处理服务工单与反馈；查看客户和跟进记录"),
]


def create_roles(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code, name, name_en, scope, rights, description in ROLES:
        Role.objects.update_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "data_scope": scope, "rights": rights,
                      "description": description, "builtin": True},
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
