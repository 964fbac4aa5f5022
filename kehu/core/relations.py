"""What happens to related records when a record is deleted, restored or merged, declared once on
its record type:

    class CustomerType(RecordType):
        relations = [
            Protect("opportunities", when=Q(closed_at__isnull=True),
                    message=_("“%(record)s” has %(n)s open opportunities.")),
            Cascade("contacts"),
            Cascade("followups"),
        ]

- `Protect(name, when=, message=)`: the delete is refused while a related record (matching `when`)
  is alive: `DeleteProtected`, a ValidationError naming the relation (UI: a message on the page and
  in the delete dialog; API: 409 with `errors: {name: [message]}`). `message` may use `%(n)s` (how
  many) and `%(record)s`.
- `Cascade(name, when=)`: the related records (alive, matching `when`) go to the recycle bin with
  the record, in the same transaction, and come back when it is restored. The delete is recorded
  (`Deletion`, `DeletedItem`), so a restore brings back exactly what the delete took, never a
  record that was deleted on its own before. A cascaded record's own declarations apply too.
- `name` is the reverse accessor of the foreign key (its `related_name`). A relation to an app that
  is not installed is skipped.

Every delete goes through `delete_record` (the UI's delete and bulk delete, the API's DELETE);
every restore through `restore_record` (a record deleted with another one comes back with it,
not on its own). `move_related` moves the related records of a merge one by
one (a change-log entry and a version bump each), the declared relations first.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _


class Relation:
    def __init__(self, name: str, *, when: Q | None = None, message=None):
        self.name = name
        self.when = when
        self.message = message

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"

    def field(self, model):
        """The reverse relation `model.<name>`, or None when its app is not installed."""
        for rel in model._meta.related_objects:
            if rel.one_to_many and rel.get_accessor_name() == self.name:
                return rel
        return None

    def rows(self, obj):
        """The alive related records of `obj` this relation is about."""
        rel = self.field(type(obj))
        if rel is None:
            return None
        qs = rel.related_model._default_manager.filter(**{rel.field.name: obj})
        return qs.filter(self.when) if self.when is not None else qs


class Protect(Relation):
    """Refuse the delete while related records (matching `when`) exist."""

    def refusal(self, obj) -> str | None:
        rows = self.rows(obj)
        n = rows.count() if rows is not None else 0
        if not n:
            return None
        if self.message is not None:
            return str(self.message) % {"n": n, "record": obj}
        return _("“%(record)s” still has %(n)s %(related)s and cannot be deleted.") % {
            "record": obj, "n": n, "related": self.field(type(obj)).related_model._meta.verbose_name_plural}


class Cascade(Relation):
    """Take the related records (matching `when`) to the recycle bin with the record."""


class DeleteProtected(ValidationError):
    """A delete refused by a `Protect` declaration: `relations` = {relation name: message}."""

    def __init__(self, relations: dict[str, str]):
        self.relations = relations
        super().__init__({name: [message] for name, message in relations.items()})


def _record_type(model):
    from .registry import registry

    return registry.for_model(model)


def _declared(rt, kind):
    """The record type's own relations, then those other apps declared for it (`registries.relation`)."""
    if rt is None:
        return []
    from .registries import extra_relations

    return [r for r in [*(getattr(rt, "relations", None) or []), *extra_relations.get(rt.key, [])]
            if isinstance(r, kind)]


def cascaded(rt, obj):
    """(record type, record) of every alive record a delete of `obj` takes with it, depth first."""
    for relation in _declared(rt, Cascade):
        rows = relation.rows(obj)
        if rows is None:
            continue
        child_rt = _record_type(rows.model)
        if child_rt is None or not child_rt.is_kehu_model:
            raise ImproperlyConfigured(f"{relation!r} of {rt.key}: only records with a recycle bin cascade.")
        for child in rows.order_by("pk"):
            yield child_rt, child
            yield from cascaded(child_rt, child)


def delete_refusals(rt, obj) -> dict[str, str]:
    """{relation: message} of every Protect rule that refuses deleting `obj` (and what it cascades to)."""
    refusals = {}
    for relation in _declared(rt, Protect):
        message = relation.refusal(obj)
        if message:
            refusals[relation.name] = message
    for child_rt, child in cascaded(rt, obj):
        for relation in _declared(child_rt, Protect):
            message = relation.refusal(child)
            if message:
                refusals.setdefault(relation.name, message)
    return refusals


def check_delete(rt, obj) -> None:
    """Raise ValidationError (DeleteProtected for a declared rule) when `obj` may not be deleted."""
    rt.check_delete(obj)
    refusals = delete_refusals(rt, obj)
    if refusals:
        raise DeleteProtected(refusals)


def delete_record(rt, obj, user) -> None:
    """Soft delete a business record and what it cascades to (recycle bin); hard delete a plain model."""
    from .models import DeletedItem, Deletion

    with transaction.atomic():
        check_delete(rt, obj)
        if not rt.is_kehu_model:
            from django.db.models import ProtectedError

            try:
                obj.delete()
            except ProtectedError:
                raise ValidationError(_("“%(obj)s” is still in use and cannot be deleted.") % {"obj": obj})
            return
        taken = list(cascaded(rt, obj))
        deletion = Deletion.objects.create(content_type=ContentType.objects.get_for_model(type(obj)),
                                           object_id=obj.pk, deleted_by=user)
        obj.soft_delete(user)
        for _child_rt, child in taken:
            child.soft_delete(user)
        DeletedItem.objects.bulk_create([
            DeletedItem(deletion=deletion, content_type=ContentType.objects.get_for_model(type(child)),
                        object_id=child.pk) for _child_rt, child in taken])


def restore_record(rt, obj, user) -> list:
    """Restore `obj` from the recycle bin with the records its last delete took; returns those."""
    from .models import DeletedItem, Deletion

    with transaction.atomic():
        taken_by = (DeletedItem.objects.filter(content_type=ContentType.objects.get_for_model(type(obj)),
                                               object_id=obj.pk).select_related("deletion").order_by("-id").first())
        if taken_by is not None:  # deleted with another record that is still in the recycle bin
            root_model = ContentType.objects.get_for_id(taken_by.deletion.content_type_id).model_class()
            root = root_model.all_objects.filter(pk=taken_by.deletion.object_id, deleted_at__isnull=False).first()
            if root is not None:
                raise ValidationError(_("“%(obj)s” was deleted with “%(root)s”: restore that instead.")
                                      % {"obj": obj, "root": root})
        obj.restore(user)
        deletion = (Deletion.objects.filter(content_type=ContentType.objects.get_for_model(type(obj)),
                                            object_id=obj.pk).order_by("-id").first())
        if deletion is None:
            return []
        by_type: dict = {}
        for ct_id, object_id in deletion.items.values_list("content_type_id", "object_id"):
            by_type.setdefault(ct_id, []).append(object_id)
        restored = []
        for ct_id, ids in by_type.items():
            model = ContentType.objects.get_for_id(ct_id).model_class()
            for child in model.all_objects.filter(pk__in=ids, deleted_at__isnull=False).order_by("pk"):
                child.restore(user)
                restored.append(child)
        deletion.delete()
    return restored


def move_related(rt, keep, other, user) -> int:
    """Merge: point every record related to `other` at `keep`, the declared relations first, also
    those in the recycle bin. Business records are saved one by one (change log with the user as
    actor, version bumped); plain rows are updated in bulk. Returns how many records moved."""
    from .assignment import acting_as
    from .models import KehuModel

    model = type(keep)
    reverse = [rel for rel in model._meta.related_objects
               if rel.one_to_many and rel.related_model is not model]
    declared = [r.name for r in (getattr(rt, "relations", None) or [])]
    order = {name: i for i, name in enumerate(declared)}
    reverse.sort(key=lambda rel: order.get(rel.get_accessor_name(), len(order)))
    moved = 0
    with acting_as(user), transaction.atomic():
        for rel in reverse:
            name = rel.field.name
            # a related type whose rows may collide once moved (one row per pair: a campaign's
            # member) folds `other`'s rows into `keep`'s first (kehu.campaigns.services.fold_members)
            before = getattr(rel.related_model, "before_merge", None)
            if before is not None:
                before(name, keep, other, user)
            rows = rel.related_model._base_manager.filter(**{name: other})
            if not issubclass(rel.related_model, KehuModel):
                moved += rows.update(**{name: keep})
                continue
            for row in rows.order_by("pk"):
                setattr(row, name, keep)
                row.updated_by = user
                row.save(update_fields=[name, "updated_by"])
                moved += 1
    return moved

