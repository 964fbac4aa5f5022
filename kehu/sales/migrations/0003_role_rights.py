from django.db import migrations

ACTIONS = ["view", "create", "edit", "delete", "export", "assign"]


def all_of(module):
    return [f"{module}.{a}" for a in ACTIONS]


RIGHTS = {
    "supervisor": all_of("opportunity") + all_of("planstep") + ["stage.view"],
    "account_manager": ["opportunity.view", "opportunity.create", "opportunity.edit", "opportunity.export",
                        "planstep.view", "planstep.create", "planstep.edit", "planstep.delete", "stage.view"],
    "executive": ["opportunity.view", "opportunity.export", "planstep.view", "stage.view"],
}
MODULES = ("opportunity.", "planstep.", "stage.")


def add_rights(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code, rights in RIGHTS.items():
        role = Role.objects.filter(code=code).first()
        if role is None:
            continue
        current = list(role.rights or [])
        role.rights = current + [r for r in rights if r not in current]
        role.save(update_fields=["rights"])


def remove_rights(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code in RIGHTS:
        role = Role.objects.filter(code=code).first()
        if role is not None:
            role.rights = [r for r in role.rights or [] if not r.startswith(MODULES)]
            role.save(update_fields=["rights"])


class Migration(migrations.Migration):
    dependencies = [("sales", "0002_default_stages"), ("accounts", "0002_builtin_roles")]
    operations = [migrations.RunPython(add_rights, remove_rights)]
