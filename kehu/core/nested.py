"""Records created with their children in one API request: an order with its lines, a quotation
with its lines. All or nothing: a bad child is a 422 naming it (`lines.3.quantity`), and nothing
is written. Declared on the record type:

    class OrderType(RecordType):
        create_with = {"lines": Nested(LineIn, prepare=api.prepare_lines, save=services.insert_lines,
                                      description="The order's lines ...")}

`POST /api/v1/<type>/` then takes `"lines": [...]` besides the record's fields (a PATCH does not:
children change through their own endpoints). In the create's transaction, after the record's form
is valid:

- `prepare(instance, items, user)` checks the children (each item a dict of the JSON sent) against
  the unsaved record and sets on it what it takes from them (an order's totals), so the record is
  inserted once, complete; it raises a ValidationError whose keys name the child and the field, and
  returns what `save` needs;
- `save(obj, prepared, user)` writes the children once the record has its id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Nested:
    schema: type  # the schema of one child (a django-ninja Schema)
    prepare: Callable[[Any, list[dict], Any], Any]
    save: Callable[[Any, Any, Any], None]
    description: str = ""
    max_items: int = 500  # a create names at most this many children (one request, one transaction)


def split(rt, data: dict) -> dict:
    """Take the children out of a validated create body: {name: [item dict, ...]}."""
    return {name: data.pop(name) for name in list(getattr(rt, "create_with", {}) or {}) if name in data}


def prepare_all(rt, instance, children: dict, user) -> dict:
    """Check every declared child list against the unsaved record; errors of all lists at once."""
    from django.core.exceptions import ValidationError

    prepared, errors = {}, {}
    for name, items in children.items():
        if items is None:
            continue
        try:
            prepared[name] = rt.create_with[name].prepare(instance, items, user)
        except ValidationError as exc:
            errors.update(exc.message_dict if hasattr(exc, "error_dict") else {name: exc.messages})
    if errors:
        raise ValidationError(errors)
    return prepared


def save_all(rt, obj, prepared: dict, user) -> None:
    for name, state in prepared.items():
        rt.create_with[name].save(obj, state, user)
