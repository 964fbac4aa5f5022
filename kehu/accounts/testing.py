"""Test data builders for users and roles, shared by every app's tests (the standard organisation
of one user per built-in role is `kehu.core.testing.factories.make_org`)."""

import itertools

from kehu.core.testing.factories import make_user

from .models import DataScope, Role

_seq = itertools.count(1)


def make_role(*rights: str, scope: str = DataScope.ALL, code: str | None = None) -> Role:
    """A role with exactly these rights (`customer.view`, ...) and data scope."""
    n = next(_seq)
    return Role.objects.create(code=code or f"test-role-{n}", name=f"测试角色{n}", data_scope=scope,
                               rights=list(rights))


def make_user_with(username: str, *rights: str, scope: str = DataScope.ALL, department=None, **extra):
    """A user whose only role has exactly these rights."""
    user = make_user(username, None, department, **extra)
    user.roles.add(make_role(*rights, scope=scope))
    return user


__all__ = ["make_role", "make_user", "make_user_with"]
