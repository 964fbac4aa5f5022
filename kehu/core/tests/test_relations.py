"""Relation declarations (kehu/core/relations.py) of every record type are well formed."""

from kehu.core.registry import registry
from kehu.core.relations import Cascade, Relation


def test_every_declared_relation_names_a_reverse_foreign_key():
    """With every app installed, a name that resolves to nothing is a typo (it would be skipped)."""
    for rt in registry.all():
        for relation in rt.relations:
            assert isinstance(relation, Relation), (rt.key, relation)
            field = relation.field(rt.model)
            assert field is not None, f"{rt.key}: {relation!r} is no reverse foreign key of {rt.model.__name__}"
            if isinstance(relation, Cascade):
                child = registry.for_model(field.related_model)
                assert child is not None and child.is_kehu_model, f"{rt.key}: {relation!r} has no recycle bin"
