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
