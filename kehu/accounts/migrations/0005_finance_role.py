"""The built-in Finance 财务 role: records payments and invoices for every department and reads the
documents. Its rights come from the apps' declared defaults (kehu/orders/registrations_fin.py),
given after migrate by kehu/accounts/defaults.py."""

from django.db import migrations


def create_role(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    Role.objects.update_or_create(
        code="finance",
        defaults={"name": "财务", "name_en": "Finance", "data_scope": "all", "builtin": True,
                  "description": "登记全部门的回款、退款和发票；查看订单、合同和客户，不做其他修改"},
    )


def remove_role(apps, schema_editor):
    apps.get_model("accounts", "Role").objects.filter(code="finance", builtin=True).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_role_defaults_applied")]
    operations = [migrations.RunPython(create_role, remove_role)]
