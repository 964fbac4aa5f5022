"""Owner changes are assignments, for every record type, through this one service.

Whatever changes a record's owner (its edit form, the API, a bulk transfer, the public pool, an
opportunity's "Assign" button) ends here:

- the right: only a user with `<module>.assign` may give a record to someone else; without it the
  owner field of every generic form is read-only and a submitted owner is refused, naming `owner`
  (UI: on the field; API: 422), and the service itself refuses with PermissionDenied (API: 403);
- the new owner must be an active user; an edit form offers the users of the assigner's data
  scope (what you edit stays visible to you), while the explicit hand-over actions (transfer,
  "Assign") may give a record to any active user;
- what follows the owner moves with it (`RecordType.after_assign`: a customer's contacts);
- the change is logged (django-auditlog records the owner field with the assigner as actor);
- the new owner is told, in the app and by e-mail (`RecordType.assign_notification`).

    from kehu.core.assignment import assign
    assign(customer, new_owner, by=request.user)
"""

from __future__ import annotations

import contextlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

OWNER_FIELD = "owner"


def record_type(obj_or_model):
    from .registry import registry

    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    return registry.for_model(model)


def can_assign(user, rt) -> bool:
    return bool(user is not None and user.is_authenticated and rt is not None and user.has_right(rt.module, "assign"))


def assignable_users(user, keep=None):
    """Whom `user` may give records or work to: active users inside their data scope (so the
    assigner keeps seeing what they handed over); `keep` (a user id, the current owner) stays in."""
    from django.db.models import Q

    from kehu.accounts.models import DataScope, User

    if user is None or not user.is_authenticated:
        return User.objects.none()
    access = user.access
    condition = Q(is_active=True)
    if not (access.superuser or access.scope == DataScope.ALL):
        condition &= Q(pk__in=access.scope_user_ids())
    if keep is not None:
        condition |= Q(pk=keep)
    return User.objects.filter(condition).order_by("username")


def check_assign(by, rt, new_owner) -> None:
    """Refuse an owner change `by` may not make: PermissionDenied without the right,
    ValidationError naming `owner` for a user who cannot receive it."""
    if not can_assign(by, rt):
        raise PermissionDenied(_("You do not have the right to assign %(records)s to another user.")
                               % {"records": rt.label_plural if rt else _("records")})
    if new_owner is None:
        return
    if not new_owner.is_active:
        raise ValidationError({OWNER_FIELD: _("Choose an active user.")})


@contextlib.contextmanager
def acting_as(user):
    """The change log names `user` as the actor, also outside a request (jobs, shell). A context
    already acting as `user` is left alone; any other is restored afterwards."""
    from .audit import actor_context, live_context

    previous = live_context()
    current = previous.get("actor") if previous else None
    if user is None or (current is not None and getattr(current, "pk", None) == user.pk):
        yield
        return
    with actor_context(user, *((previous.get("remote_addr"), previous.get("remote_port")) if previous else ())):
        yield


def assign(obj, new_owner, by, *, check: bool = True, notify: bool = True):
    """Give `obj` to `new_owner` (None: nobody, e.g. back to the public pool). One transaction:
    the owner, what follows it, the change log and the notification commit together."""
    rt = record_type(obj)
    if check:
        check_assign(by, rt, new_owner)
    old_owner_id = obj.owner_id
    new_owner_id = new_owner.pk if new_owner is not None else None
    if old_owner_id == new_owner_id:
        return obj
    with acting_as(by), transaction.atomic():
        obj.owner = new_owner
        if by is not None and hasattr(obj, "updated_by"):
            obj.updated_by = by
        if rt is not None:
            rt.before_assign(obj, old_owner_id, by)
        obj.save()
        owner_changed(obj, old_owner_id, by, notify=notify, rt=rt)
    return obj


def owner_changed(obj, old_owner_id, by, *, notify: bool = True, rt=None) -> None:
    """After a saved owner change (by `assign` or a validated form): move what follows the owner
    and tell the new owner."""
    rt = rt or record_type(obj)
    if rt is not None:
        rt.after_assign(obj, old_owner_id, by)
    if notify and obj.owner_id is not None and obj.owner_id != getattr(by, "pk", None) and rt is not None:
        from .services import notify as send

        title, body = rt.assign_notification(obj, by)
        send(obj.owner, title, body, url=rt.get_absolute_url(obj), email=True)


def owner_change(form, by) -> tuple[bool, int | None]:
    """(is an assignment, previous owner id) for a validated record form about to be saved. A new
    record owned by its creator is no assignment; one created for somebody else is."""
    if OWNER_FIELD not in form.fields:
        return False, None
    obj = form.instance
    if obj.pk is None:
        return obj.owner_id is not None and obj.owner_id != getattr(by, "pk", None), None
    old = form.initial.get(OWNER_FIELD)
    old = getattr(old, "pk", old)
    return obj.owner_id != old, old


def save_record(rt, form, by, check_scope: bool = True):
    """Save a validated record form (UI and API alike). An owner change is an assignment: the
    right is checked again, what follows moves, the new owner is told, all in one transaction.
    `check_scope=False`: the caller reads the record back through the scope itself, in the
    transaction it holds, and raises `outside_scope` when it is not found (the API's
    `saved_and_shown`: one query instead of two)."""
    is_assignment, old_owner_id = owner_change(form, by)
    # no savepoint of its own: every caller holds the transaction (and catches a refusal outside
    # it), so a failure here rolls back to the caller's boundary: two statements fewer per save
    with acting_as(by), transaction.atomic(savepoint=False):
        if is_assignment:
            check_assign(by, rt, form.instance.owner)
            rt.before_assign(form.instance, old_owner_id, by)
        obj = rt.save_form(form, by)
        if is_assignment:
            owner_changed(obj, old_owner_id, by, rt=rt)
        if check_scope and by is not None and not rt.visible(by).filter(pk=obj.pk).exists():
            # e.g. a contact added to a customer outside the caller's scope: refused, rolled back
            raise outside_scope(rt)
    return obj


def outside_scope(rt) -> ValidationError:
    """The refusal of a save that would leave the record outside its author's data scope."""
    return ValidationError({scope_field(rt): _("This would put the record outside your data scope.")})


def scope_field(rt) -> str:
    """The form field that decides a record's visibility (`customer` for a contact, whose owner is
    its customer's: `scope_decided_by`)."""
    from kehu.accounts.scope import scope_paths

    decided_by = getattr(rt.model, "scope_decided_by", None)
    if decided_by:
        return decided_by
    path = next(iter(scope_paths(rt.model)), None)
    return path.split("__", 1)[0] if path else "__all__"
