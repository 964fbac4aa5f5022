"""Rights and data scope, computed once per user per request and applied in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from .models import SCOPE_RANK, DataScope
from .rights import ALL


@dataclass
class Access:
    rights: frozenset[str]
    scope: str
    user_id: int | None
    department_path: str | None
    superuser: bool = False
    _scope_ids: list[int] | None = field(default=None, repr=False)

    @classmethod
    def for_user(cls, user) -> Access:
        if not user or not user.is_authenticated or not user.is_active:
            return cls(frozenset(), DataScope.OWN, None, None)
        if user.is_superuser:
            return cls(frozenset({ALL}), DataScope.ALL, user.pk, None, superuser=True)
        rights: set[str] = set()
        scope = DataScope.OWN
        for role in user.roles.all():
            rights.update(role.rights or [])
            if SCOPE_RANK[DataScope(role.data_scope)] > SCOPE_RANK[DataScope(scope)]:
                scope = role.data_scope
        path = None
        if scope == DataScope.DEPARTMENT and user.department_id:
            path = user.department.path
        return cls(frozenset(rights), scope, user.pk, path)

    def allows(self, module: str, action: str) -> bool:
        if self.user_id is None:
            return False
        return ALL in self.rights or f"{module}.{action}" in self.rights or f"{module}.*" in self.rights

    def scope_user_ids(self) -> list[int]:
        """Owners whose records this user sees (department scope: own department and below)."""
        if self._scope_ids is None:
            from .models import User

            if self.scope == DataScope.DEPARTMENT and self.department_path:
                ids = list(
                    User.objects.filter(department__path__startswith=self.department_path).values_list(
                        "pk", flat=True
                    )
                )
                self._scope_ids = sorted(set(ids) | {self.user_id})
            else:
                self._scope_ids = [self.user_id]
        return self._scope_ids


def scope_key(user) -> tuple:
    """What `scope_filter`'s SQL depends on for this user besides the model: two users with the
    same key get the same query, so a compiled list query may be reused between them."""
    access = getattr(user, "access", None) if user is not None else None
    if access is None or access.user_id is None:
        return ("none",)
    if access.scope == DataScope.ALL:
        return ("all",)
    return ("owners", tuple(access.scope_user_ids()))


def scope_filter(qs, user, owned: bool = False):
    """`qs` narrowed to the user's data scope. `owned=True` tells that the caller keeps only
    records with an owner (a tab or filter on the scope's owner field: "mine", one owner, "not in
    the public pool"): the public pool's `OR owner IS NULL` branch is then left out. Its result is
    the same, but a planner cannot cancel that OR against the caller's `owner IS NOT NULL`, and
    with it the owner index could not be used (808 ms for a supervisor's count on SQLite)."""
    model = qs.model
    owner_field = getattr(model, "scope_owner_field", None)
    access = getattr(user, "access", None) if user is not None else None
    if access is None or access.user_id is None:
        return qs.none()
    if owner_field is None or access.scope == DataScope.ALL:
        return qs
    ids = access.scope_user_ids()
    condition = Q(**{f"{owner_field}_id__in": ids}) if len(ids) > 1 else Q(**{f"{owner_field}_id": ids[0]})
    if getattr(model, "scope_includes_unowned", False) and not owned:
        condition |= Q(**{f"{owner_field}__isnull": True})
    return qs.filter(condition)
