from django.db import migrations

ACTIONS = ["view", "create", "edit", "delete", "export", "assign"]


def all_of(module):
    return [f"{module}.{a}" for a in ACTIONS]


RIGHTS = {
    "supervisor": all_of("followup") + all_of("task"),
    "account_manager": ["followup.view", "followup.create", "followup.edit", "followup.delete", "followup.export",
                        "task.view", "task.create", "task.edit", "task.delete"],
    "executive": ["followup.view", "followup.export", "task.view"],
    "service": ["followup.view", "task.view", "task.create", "task.edit"],  # seed: service only reads follow-ups
}


def add_rights(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code, rights in RIGHTS.items():
        for role in Role.objects.filter(code=code):
            current = list(role.rights or [])
            role.rights = current + [r for r in rights if r not in current]
            role.save(update_fields=["rights"])


def remove_rights(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code, rights in RIGHTS.items():
        for role in Role.objects.filter(code=code):
            role.rights = [r for r in (role.rights or []) if r not in rights]
            role.save(update_fields=["rights"])


class Migration(migrations.Migration):
    dependencies = [("activities", "0001_initial"), ("accounts", "0002_builtin_roles")]
    operations = [migrations.RunPython(add_rights, remove_rights)]
