"""Service agents read tasks but no longer create or edit them (SPEC roles: service agents "read
customers and follow-ups, edit nothing else"). The earlier defaults gave them task.create and
task.edit: taken back from the built-in service role. They stay in its `defaults_applied`, so the
defaults (kehu/accounts/defaults.py) never give them again; an administrator may."""

from django.db import migrations

TAKEN = ("task.create", "task.edit")


def take_back(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for role in Role.objects.filter(code="service", builtin=True):
        rights = [r for r in (role.rights or []) if r not in TAKEN]
        if rights != list(role.rights or []):
            role.rights = rights
            role.save(update_fields=["rights"])


def give_back(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for role in Role.objects.filter(code="service", builtin=True):
        role.rights = list(role.rights or []) + [r for r in TAKEN if r not in (role.rights or [])]
        role.save(update_fields=["rights"])


class Migration(migrations.Migration):
    dependencies = [("activities", "0007_jobrun_to_core"), ("accounts", "0005_finance_role")]
    operations = [migrations.RunPython(take_back, give_back)]
