"""What the API accepts, checked the same way for every record type and endpoint.

- The right is checked before the body is read: the generic router takes the body as raw JSON
  (`read_body`) and validates it against the record type's In schema itself, after `require()`.
- Unknown keys are refused (422 naming the key), also inside `custom_fields`; the In schemas say so
  with `additionalProperties: false`.
- Type errors are 422 naming the field (`roles.0`), never a 500.
- No text may contain NUL (\\x00): PostgreSQL cannot store it. Query parameters, JSON bodies and
  form data are refused with 422 naming the parameter or field.
- Dates and times must lie between the years 1000 and 9998 (`kehu.core.forms.check_date_range`),
  so converting to any time zone or adding a few days never leaves Python's range.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

import orjson
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.parser import Parser
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic import ValidationError as PydanticValidationError

ERROR_SCHEMA_NAME = "ErrorOut"

ERROR_SCHEMA = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                   "description": "Messages per field; nested fields are dotted (`custom_fields.x`, `roles.0`)."},
        "current_version": {"type": "integer"},
    },
    "required": ["detail"],
}

ERROR_DESCRIPTIONS = {
    "400": "Malformed request",
    "401": "Authentication required",
    "403": "No right to do this",
    "404": "Not found or outside your data scope",
    "409": "Stale version: the record was changed by someone else; or a delete refused because related "
           "records need the record (`errors` names the relation)",
    "412": "If-Match does not name the current version",
    "413": "Request body too large",
    "422": "Invalid input; `errors` names each field",
    "503": "Service temporarily unavailable; retry after `Retry-After` seconds",
}


def document_errors(schema: dict) -> dict:
    """Add the JSON error responses every operation can give to an OpenAPI document."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    ref = {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}}}}
    for methods in schema.get("paths", {}).values():
        for method, operation in methods.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = ["400", "401", "403", "404", "413", "422", "503"]
            if method in ("patch", "put", "delete", "post"):
                codes += ["409", "412"]
            for code in codes:
                operation["responses"].setdefault(code, {"description": ERROR_DESCRIPTIONS[code], **ref})
    return schema


# --- NUL ---------------------------------------------------------------------------------

def find_nul(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (or key) holding NUL, or None."""
    if isinstance(value, str):
        return path or "non_field_errors" if "\x00" in value else None
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return sub
            found = find_nul(item, sub)
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = find_nul(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def nul_error(field: str) -> ValidationError:
    return ValidationError({field: [_("Null characters are not allowed.")]})


def reject_nul_in_query(request):
    for key in request.GET:
        if "\x00" in key or any("\x00" in v for v in request.GET.getlist(key)):
            raise nul_error(key.replace("\x00", ""))


def reject_nul(view_func):
    """An operation decorator (api.add_decorator): NUL in the query string or in a parsed payload is
    a 422 naming the parameter, before the view runs."""
    import functools

    @functools.wraps(view_func)
    def wrapper(request, *args, **kwargs):
        reject_nul_in_query(request)
        found = find_nul(kwargs)
        if found:
            raise nul_error(found.removeprefix("payload."))
        return view_func(request, *args, **kwargs)

    return wrapper


# --- bodies --------------------------------------------------------------------------------

def _api_type(field: forms.Field) -> Any:
    """The JSON type of a form field as the API takes it."""
    if isinstance(field, forms.ModelMultipleChoiceField):
        return list[int]
    if isinstance(field, forms.ModelChoiceField):
        return int
    if isinstance(field, forms.MultipleChoiceField):
        return list[str]
    if isinstance(field, forms.BooleanField):
        return bool
    # DecimalField and FloatField are IntegerFields in Django's forms: asked first, or an amount's
    # schema said integer and "1234.50" was refused
    if isinstance(field, forms.DecimalField):
        return Decimal
    if isinstance(field, forms.FloatField):
        return float
    if isinstance(field, forms.IntegerField):
        return int
    if isinstance(field, forms.DateTimeField):
        return datetime.datetime
    if isinstance(field, forms.DateField):
        return datetime.date
    if isinstance(field, forms.TimeField):  # "09:00" / "09:00:00": a time of day has no zone (not JSON Schema's "time")
        return str
    if isinstance(field, forms.CharField):
        return str
    if isinstance(field, forms.ChoiceField):
        return str
    return Any


TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"  # a time of day, 24 h


def _choices(form_class, name: str, field: forms.Field) -> tuple[Any, list | None]:
    """(type, enum) of a choice field with fixed choices: the values as the model stores them."""
    if not isinstance(field, forms.ChoiceField) or isinstance(field, forms.ModelChoiceField):
        return _api_type(field), None
    if not isinstance(field.choices, (list, tuple)):  # computed per request (dictionary, rights)
        return _api_type(field), None
    try:
        choices = [key for key, _label in field.choices if key not in ("", None)]
    except (TypeError, ValueError):
        return _api_type(field), None
    if not choices or isinstance(field, (forms.ModelChoiceField, forms.MultipleChoiceField)):
        return _api_type(field), None
    model = getattr(getattr(form_class, "_meta", None), "model", None)
    try:
        internal = model._meta.get_field(name).get_internal_type() if model else ""
    except Exception:
        internal = ""
    if "IntegerField" in internal:
        return int, [int(c) for c in choices]
    return str, [str(c) for c in choices]


def _is_money(form_class, name: str) -> bool:
    from .money import is_money

    model = getattr(getattr(form_class, "_meta", None), "model", None)
    try:
        return model is not None and is_money(model._meta.get_field(name))
    except Exception:
        return False


def in_schema(name: str, form_class, *, kehu_model: bool, nested: dict | None = None) -> type[BaseModel]:
    """The body a create or partial update takes: the form's fields under their API names (foreign
    keys by id, `tags` instead of `tags_text`), all optional, nothing else; a create also takes the
    record type's `nested` children ({name: Nested}: kehu/core/nested.py)."""
    definitions: dict[str, Any] = {}
    for field_name, field in form_class.base_fields.items():
        if field_name == "tags_text":
            continue
        kwargs = {}
        if field.help_text:
            kwargs["description"] = str(field.help_text)
        max_length = getattr(field, "max_length", None)
        tp, enum = _choices(form_class, field_name, field)
        if tp is Decimal and _is_money(form_class, field_name):
            from .money import MoneyIn

            tp = MoneyIn
        if enum:
            kwargs["json_schema_extra"] = {"enum": [*enum, None]}
        if tp is str and max_length:
            kwargs["max_length"] = max_length
        if isinstance(field, forms.TimeField):
            kwargs["pattern"] = TIME_PATTERN
        definitions[field_name] = (tp | None, Field(None, title=str(field.label or field_name), **kwargs))
    definitions["version"] = (int | None, Field(None, description="The version you read (optimistic locking)."))
    if kehu_model:
        definitions["tags"] = (list[str] | None, None)
        definitions["custom_fields"] = (dict[str, Any] | None, Field(
            None, description="Values by custom field name; unknown names are refused."))
    for child, spec in (nested or {}).items():
        definitions[child] = (list[spec.schema] | None, Field(
            None, description=spec.description, max_length=spec.max_items))
    return create_model(name, __config__=ConfigDict(extra="forbid"), **definitions)


def _has_float(value) -> bool:
    if value.__class__ is float:
        return True
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return False


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _int(text: str):
    """An integer as orjson reads it: beyond 64 bits a float (which then fails validation as
    before, instead of reaching the database as an integer it cannot hold)."""
    value = int(text)
    return value if -(2**63) <= value < 2**64 else float(value)


def loads(body: bytes):
    """JSON as Python values, with every number that has a fraction or an exponent as a Decimal,
    never a float: an amount sent as 12345678901234567.89 keeps its digits (kehu/core/money.py).
    orjson parses (and validates) first; only a body that holds such a number is parsed again."""
    data = orjson.loads(body)
    if _has_float(data):
        data = json.loads(body, parse_float=Decimal, parse_int=_int, parse_constant=_no_constant)
    return data


class DecimalParser(Parser):
    """The API's body parser for ninja's own schemas (stage change, transfer...): numbers with a
    fraction are Decimals, as in `read_body`."""

    def parse_body(self, request):
        return loads(request.body)


def read_body(request) -> dict:
    """The request's JSON object, without validation; 422 (not 500) when it is not one. Numbers
    with a fraction are Decimals (`loads`)."""
    try:
        data = loads(request.body or b"{}")
    except (orjson.JSONDecodeError, ValueError):
        raise ValidationError({"non_field_errors": [_("The body is not valid JSON.")]})
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [_("The body must be a JSON object.")]})
    return data


def pydantic_errors(exc: PydanticValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for err in exc.errors():
        name = ".".join(str(p) for p in err.get("loc", ())) or "non_field_errors"
        message = _("Unknown field.") if err.get("type") == "extra_forbidden" else err.get("msg", "invalid")
        errors.setdefault(name, []).append(str(message))
    return errors


def validate_body(schema: type[BaseModel], data: dict) -> dict:
    """Validate a raw body against an In schema: the keys sent, with their JSON values."""
    found = find_nul(data)
    if found:
        raise nul_error(found)
    try:
        schema.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationError(pydantic_errors(exc))
    return data


def check_custom_fields(record_type_name: str, values: Any) -> None:
    """Unknown custom field names are an error naming the key, not silently dropped."""
    if not isinstance(values, dict):
        return
    from .customfields import fields_for

    known = {cf.name for cf in fields_for(record_type_name)}
    errors = {}
    for key, value in values.items():
        if key not in known:
            errors[f"custom_fields.{key}"] = [_("Unknown custom field.")]
        elif isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)):
            errors[f"custom_fields.{key}"] = [_("Enter a single value or a list of values.")]
    if errors:
        raise ValidationError(errors)


class StrictIn(Schema):
    """Base of the extra endpoints' bodies (transfer, merge, stage, assign): like the generic
    create/update, a key the schema does not name is refused with 422 naming it."""

    model_config = ConfigDict(extra="forbid")
