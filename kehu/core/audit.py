"""Change-log helpers for writes that do not go through Model.save() (bulk, pool, merge), and who
the change log names as the actor of a request or a job."""

import contextlib
from decimal import Decimal

from auditlog.cid import set_cid
from auditlog.context import auditlog_disabled, auditlog_value
from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry, _get_manager_from_settings
from auditlog.receivers import _create_log_entry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType


def log_changes(obj, changes: dict, actor=None, action=LogEntry.Action.UPDATE):
    """Write one change-log entry: changes = {"field": [before, after]}."""
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_pk=str(obj.pk),
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        action=action,
        changes={k: [_text(a), _text(b)] for k, (a, b) in changes.items()},
        actor=actor,
    )


def _text(value):
    return "None" if value is None else str(value)


ALWAYS_EXCLUDED = {"id", "version", "updated_at", "updated_by", "created_at", "created_by", "deleted_by",
                   "search_text", "customer_owner", "password", "last_login", "preferences", "calendar_token", "path"}


def register_record_types() -> None:
    """Every registered record type's model is in the change log (an app's own `register()` with
    exclusions, made earlier, is kept)."""
    from auditlog.registry import auditlog

    from .registry import registry

    for rt in registry.all():
        if not auditlog.contains(rt.model):
            register(rt.model)


def register(model, exclude=()):
    """Register a model with django-auditlog, logging only its own editable data: no reverse
    relations or generic relations, no bookkeeping columns."""
    from auditlog.registry import auditlog

    _use_changed_fields_receiver(auditlog)
    names = {f.name for f in model._meta.get_fields()}
    concrete = {f.name for f in model._meta.concrete_fields} | {f.name for f in model._meta.many_to_many}
    excluded = sorted((names - concrete) | (ALWAYS_EXCLUDED & names) | set(exclude))
    auditlog.register(model, exclude_fields=excluded)


def _use_changed_fields_receiver(registry) -> None:
    """Kehu's update receiver in place of django-auditlog's (before any model is registered).

    django-auditlog diffs every field of the row read back from the database against the instance
    being saved, and with AUDITLOG_USE_FK_STRING_REPRESENTATION it reads the related row of every
    foreign key on both sides to compare their texts: a customer's notes edited cost six queries
    for its owner, creator and dictionary items, none of which changed. Here the raw column values
    are compared first; only the fields that differ go to django-auditlog's own diff (which then
    writes the texts, "王芳" rather than 17, exactly as before)."""
    from auditlog.receivers import log_update
    from django.db.models.signals import pre_save

    if registry._signals.get(pre_save) is log_update:
        registry._signals[pre_save] = log_changed_fields


def _same(a, b) -> bool:
    """Equal and alike: a value whose text would differ (1.0 / 1.00, 1 / True) counts as changed,
    and is left to django-auditlog's diff to decide, as before."""
    return type(a) is type(b) and a == b and (not isinstance(a, Decimal) or str(a) == str(b))


def log_changed_fields(sender, instance, **kwargs):
    """pre_save: django-auditlog's `log_update`, given only the fields whose values differ."""
    if auditlog_disabled.get(False) or (kwargs.get("raw") and settings.AUDITLOG_DISABLE_ON_RAW_SAVE):
        return
    if instance._state.adding or instance.pk is None:
        return
    # the row as read under its lock in this transaction (KehuModel.remember_locked_row), else read
    locked = getattr(instance, "_locked_row", None)
    if locked is not None:
        old = sender.from_db(instance._state.db, list(locked), list(locked.values()))
    else:
        old = _get_manager_from_settings(sender).filter(pk=instance.pk).first()
    fields = sender._meta.concrete_fields
    update_fields = kwargs.get("update_fields")
    if update_fields is not None:
        names = set(update_fields)
        fields = [f for f in fields if f.name in names or f.attname in names]
    if old is not None:
        changed = [f.name for f in fields if not _same(getattr(old, f.attname), getattr(instance, f.attname))]
        if not changed:
            return  # nothing differs: django-auditlog would have found no change and written nothing
    else:
        changed = update_fields
    _create_log_entry(action=LogEntry.Action.UPDATE, instance=instance, sender=sender, diff_old=old, diff_new=instance,
                      fields_to_check=changed, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES)


# --- the actor -------------------------------------------------------------------------------
# django-auditlog names the actor of a change through a context variable that a pre_save receiver
# of LogEntry reads. Its middleware and its `set_actor` connect that receiver at the start of every
# request and disconnect it at the end: two locked registry changes a request, each emptying the
# pre_save receivers' cache of every model, which the request's saves then rebuilt. Kehu connects
# one receiver once (CoreConfig.ready) and only sets the variable. The values are django-auditlog's
# (`auditlog_value`), so its own `set_actor` (tests, shells) still works beside this.

KEHU_DUID = ("kehu", "actor")  # the marker of a context set here, not by django-auditlog's set_actor


def live_context() -> dict | None:
    """The actor context Kehu set for the current request or job, else None. django-auditlog's own
    `set_actor` context is not one: its receiver fills entries inside its block, and after the
    block its value stays set with nothing to read it."""
    context = auditlog_value.get(None)
    return context if context and context.get("signal_duid") == KEHU_DUID else None


def fill_log_entry(sender, instance, **kwargs):
    """pre_save of LogEntry: the actor, address and port of the current request or job."""
    context = live_context()
    if context is None:
        return
    actor = context.get("actor")
    if actor is not None and instance.actor_id is None and getattr(actor, "pk", None) is not None:
        instance.actor = actor
        instance.actor_email = getattr(actor, "email", None)
    for key in ("remote_addr", "remote_port"):
        if context.get(key) is not None and getattr(instance, key, None) is None:
            setattr(instance, key, context[key])


def connect_actor_receiver() -> None:
    from django.db.models.signals import pre_save

    pre_save.connect(fill_log_entry, sender=LogEntry, dispatch_uid="kehu_fill_log_entry")


@contextlib.contextmanager
def actor_context(actor, remote_addr=None, remote_port=None):
    """The change log names `actor` (with this address and port) for what is saved inside."""
    token = auditlog_value.set({"actor": actor, "remote_addr": remote_addr, "remote_port": remote_port,
                                "signal_duid": KEHU_DUID})
    try:
        yield
    finally:
        auditlog_value.reset(token)


class ActorMiddleware(AuditlogMiddleware):
    """django-auditlog's middleware (the correlation id, the user, the client's address and port)
    without its per-request signal wiring (see above). An API token's user is set as the actor
    when the token is read (kehu/core/api.py)."""

    def __call__(self, request):
        set_cid(request)
        data = self.get_extra_data(request)
        with actor_context(data["actor"], data["remote_addr"], data["remote_port"]):
            return self.get_response(request)
