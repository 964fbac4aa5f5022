"""What the accounts app adds to the registries (kehu/core/registries.py)."""

from kehu.core import registries as r

r.default_rights({
    "supervisor": ["user.view", "department.view"],
    "executive": ["user.view", "department.view"],
})
