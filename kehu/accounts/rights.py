"""Rights are module × action. Modules are the registered record types plus the modules the apps
declare (kehu.core.registries.rights_module: the audit log, the public pool, the outbox)."""

from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "view": _("View"),
    "create": _("Create"),
    "edit": _("Edit"),
    "delete": _("Delete"),
    "export": _("Export"),
    "assign": _("Assign"),
}

ALL = "*"


def all_modules() -> dict:
    from kehu.core.registries import right_modules
    from kehu.core.registry import registry

    modules = {rt.module: rt.model._meta.verbose_name_plural for rt in registry.all()}
    modules.update(right_modules)
    return modules


def right_choices():
    return [
        (f"{module}.{action}", f"{label} · {action_label}")
        for module, label in all_modules().items()
        for action, action_label in ACTIONS.items()
    ]


def expand(*specs: str) -> list[str]:
    """expand("customer.*", "contact.view") -> concrete rights."""
    out = []
    for spec in specs:
        module, _sep, action = spec.partition(".")
        if action == "*":
            out.extend(f"{module}.{a}" for a in ACTIONS)
        else:
            out.append(spec)
    return out
