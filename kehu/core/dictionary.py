"""Cached data-dictionary lookups: list pages attach DictItems from memory instead of joining
one table per dropdown field (a customer row has six of them)."""

import time

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import DictItem

_TTL = 10.0  # seconds; other processes see an administrator's change within this time
_cache: dict = {"at": 0.0, "items": {}}


def items_by_id() -> dict[int, DictItem]:
    now = time.monotonic()
    if now - _cache["at"] > _TTL:
        _cache["items"] = {item.pk: item for item in DictItem.objects.all()}
        _cache["at"] = now
    return _cache["items"]


def item_by_code(kind: str, code: str) -> DictItem | None:
    """The dictionary item of `kind` with `code`, from the cache."""
    return next((item for item in items_by_id().values() if item.kind == kind and item.code == code), None)


@receiver([post_save, post_delete], sender=DictItem)
def _invalidate(**kwargs):
    _cache["at"] = 0.0


def dict_fields(model) -> list:
    return [f for f in model._meta.concrete_fields if f.is_relation and f.related_model is DictItem]


def attach(objs, fields) -> None:
    """Fill each object's DictItem foreign keys from the cache (no query when warm)."""
    if not objs or not fields:
        return
    items = items_by_id()
    missing = {getattr(o, f.attname) for o in objs for f in fields} - set(items) - {None}
    if missing:  # created since the cache was filled
        _cache["at"] = 0.0
        items = items_by_id()
    for obj in objs:
        cache = obj._state.fields_cache
        for f in fields:
            value = getattr(obj, f.attname)
            if f.name not in cache:
                cache[f.name] = items.get(value) if value is not None else None


def seed_dictionary(using="default", **kwargs) -> int:
    """Create the declared seed values (kehu.core.registries.dictionary_kind) never created before,
    after every `migrate` (post_migrate, connected in apps.py). Each is created once, recorded in
    `DictionarySeed`: an administrator's edits, deactivations and deletions stay, and a value that
    exists already (same kind and code) is left as it is. Returns how many were created."""
    from . import registries
    from .models import DictionarySeed

    created = 0
    seeded = set(DictionarySeed.objects.using(using).values_list("kind", "code"))
    existing = set(DictItem.objects.using(using).values_list("kind", "code"))
    for kind in registries.dictionary_kinds.values():
        for order, (code, label, label_en) in enumerate(kind.seeds, start=1):
            if (kind.kind, code) in seeded:
                continue
            if (kind.kind, code) not in existing:
                builtin = kind.builtin is True or (isinstance(kind.builtin, set) and code in kind.builtin)
                DictItem.objects.using(using).create(kind=kind.kind, code=code, label=label, label_en=label_en,
                                                     order=order * 10, builtin=builtin)
                created += 1
            DictionarySeed.objects.using(using).create(kind=kind.kind, code=code)
    return created
