"""Record actions: what a record type offers besides create / edit / delete (recount a stock level,
resend an invoice, renew a contract). Declared on the record type, each gets a button (or a dialog
for what it needs) on the detail page and `POST /api/v1/<type>/<id>/actions/<name>`:

    class ProductType(RecordType):
        actions = (Action("recount", _("Recount stock"), right="edit", fields=("stock",),
                          required=("stock",), run=services.recount),)

A read-only record type (a stock ledger, a payment history, a transition log) sets
`read_only = True`: no create, edit or delete in the UI (no such pages) or the API (no such
methods: 405); it may still declare actions. `creatable`, `editable` and `deletable` say the same
for one operation each.

`run(obj, user, data)` is a service function: it may refuse with a ValidationError naming a field
(422, nothing written: it runs in one transaction on the locked row) and returns the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .workflow import NONE, OPTIONAL, REQUIRED, TransitionRefused, current_values, input_form_class

__all__ = ["Action", "take_action", "NONE", "OPTIONAL", "REQUIRED"]


@dataclass(frozen=True)
class Action:
    name: str
    label: Any
    run: Callable  # (obj, user, data) -> obj
    right: str = "edit"  # an action of the record type's module, or "module.action"
    fields: tuple = ()  # model fields it asks for
    # or a form of its own, for input that is not the record's fields (a quantity and a warehouse
    # to receive stock into); the comment, if any, is added to it
    form: type[forms.Form] | None = None
    required: tuple = ()
    comment: str = NONE
    guard: Callable | None = None  # (obj, user) -> None, or why it cannot be taken now (409)
    help: Any = ""
    style: str = "outline-secondary"
    icon: str = "ti-bolt"


def get(rt, name: str) -> Action | None:
    return next((a for a in rt.actions if a.name == name), None)


def may(rt, user, action: Action) -> bool:
    module, _sep, right = action.right.rpartition(".")
    return user.has_right(module or rt.module, right)


def available(rt, obj, user) -> list[Action]:
    return [a for a in rt.actions if may(rt, user, a) and not (a.guard and a.guard(obj, user))]


def form_class(rt, action: Action) -> type[forms.Form]:
    if action.form is not None:
        return input_form_class(rt.model, action, extra=dict(action.form.base_fields), name="ActionForm")
    return input_form_class(rt.model, action, name="ActionForm")


def asks_input(action: Action) -> bool:
    """Whether running `action` needs a dialog (fields to fill in, a comment to write)."""
    return bool(action.fields) or action.form is not None or action.comment == REQUIRED


def form(rt, action: Action, obj, data=None) -> forms.Form:
    return form_class(rt, action)(data=data, initial=current_values(rt.model, action, obj))


def take_action(rt, obj, name: str, user, data=None):
    """Run action `name` on `obj` for `user`: the right (403), the guard (409), the input (422
    naming the field), then `run` in one transaction on the locked row. Returns the record."""
    from .assignment import acting_as

    action = get(rt, name)
    if action is None:
        raise ValidationError({"action": _("Unknown action “%(name)s”.") % {"name": name}})
    if not may(rt, user, action):
        raise PermissionDenied(_("You do not have the right to “%(action)s”.") % {"action": action.label})
    with acting_as(user), transaction.atomic():
        locked = type(obj)._base_manager.select_for_update().get(pk=obj.pk)
        reason = action.guard(locked, user) if action.guard else None
        if reason:
            raise TransitionRefused(str(reason), "", "", [a.name for a in available(rt, locked, user)])
        f = form(rt, action, locked, data or {})
        if not f.is_valid():
            raise ValidationError(f.errors.as_data())
        return action.run(locked, user, f.cleaned_data) or locked
