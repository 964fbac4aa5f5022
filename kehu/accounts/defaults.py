"""The built-in roles' default rights, declared by the apps (kehu.core.registries.default_rights)
and given after every `migrate` (post_migrate, connected in apps.py).

Adding only, and once per right: a right goes into the role's `defaults_applied` when it is given,
and a right listed there is never given again. An administrator's changes stay: a right they took
away is not put back, one they added is not taken away. A new app's defaults reach existing
installations with the next `migrate`, without a data migration."""

from kehu.core import registries

from .rights import expand


def apply_default_rights(using="default", **kwargs) -> dict[str, list[str]]:
    """Give the built-in roles the declared defaults they never had. Returns {role code: rights given}."""
    from .models import Role

    given = {}
    for code, specs in registries.role_defaults.items():
        role = Role.objects.using(using).filter(code=code).first()
        if role is None:
            continue
        applied = list(role.defaults_applied or [])
        new = [r for r in dict.fromkeys(expand(*specs)) if r not in applied]
        if not new:
            continue
        rights = list(role.rights or [])
        added = [r for r in new if r not in rights]
        role.rights = rights + added
        role.defaults_applied = applied + new
        role.save(update_fields=["rights", "defaults_applied"])
        given[code] = added
    return given
