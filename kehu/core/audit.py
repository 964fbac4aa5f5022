"""Change-log helpers for writes that do not go through Model.save() (bulk, pool, merge)."""

from auditlog.models import LogEntry
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

    names = {f.name for f in model._meta.get_fields()}
    concrete = {f.name for f in model._meta.concrete_fields} | {f.name for f in model._meta.many_to_many}
    excluded = sorted((names - concrete) | (ALWAYS_EXCLUDED & names) | set(exclude))
    auditlog.register(model, exclude_fields=excluded)
