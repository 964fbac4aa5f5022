"""The REST API under /api/v1/: one generic CRUD implementation for every registered record type.

Validation goes through the same ModelForm the UI uses, so every rule lives in one place.
Errors are JSON naming the field; nothing is half-written (each write is one transaction).
"""


import datetime
from decimal import Decimal
from typing import Any

import orjson
from auditlog.context import auditlog_value
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models.fields.files import FieldFile
from django.forms.models import model_to_dict
from django.http import Http404
from django.utils import timezone
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.orm import create_schema
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder
from ninja.security import HttpBearer, django_auth
from pydantic import ConfigDict, create_model

from . import api_input, nested
from .filters import list_filterset, walk_sort
from .models import StaleVersionError, tag_names_subquery, tags_by_id
from .pagination import InvalidCursor, paginate
from .registry import RecordType, registry
from .relations import DeleteProtected
from .workflow import TransitionRefused

API_TOKEN_TOUCH_SECONDS = 60


class TokenAuth(HttpBearer):
    """`Authorization: Bearer kh_...`; tokens are stored hashed (SHA-256)."""

    def authenticate(self, request, token):
        from kehu.accounts import authcache
        from kehu.accounts.middleware import activate_time_zone
        from kehu.accounts.models import ApiToken, hash_token

        def load():
            api_token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(token)).first()
            return None if api_token is None else (api_token, api_token.user)

        found = authcache.token(hash_token(token), load)
        if found is None:
            return None
        api_token, user = found
        if not api_token.is_valid or not user.is_active:
            return None
        now = timezone.now()
        if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > API_TOKEN_TOUCH_SECONDS:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
            api_token.last_used_at = now
        request.user = user
        activate_time_zone(user)  # a date filter's days are the token user's local days
        try:  # the change log names the token's user as the actor
            auditlog_value.get()["actor"] = user
        except LookupError:
            pass
        return user


class JSONRenderer(BaseRenderer):
    """JSON encoded by orjson (C): the standard library's encoder took 0.5–0.9 ms of a 50-row list
    page, mostly calling back into Python for each date and decimal (docs/benchmarks.md). Times
    are RFC 3339 in UTC with a `Z`, to the microsecond; decimals are strings, as before."""

    media_type = "application/json"
    _default = staticmethod(NinjaJSONEncoder().default)

    def render(self, request, data, *, response_status):
        return orjson.dumps(data, default=self._default, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS)


class KehuAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        # every operation documents the JSON errors it can answer (kehu/core/api_input.py)
        return api_input.document_errors(super().get_openapi_schema(*args, **kwargs))


api = KehuAPI(
    title="Kehu API",
    version="1",
    description="Kehu CRM REST API. Authenticate with `Authorization: Bearer <token>` "
    "(create one with `kehu token USERNAME` or in your profile).\n\n"
    "Input rules: the right is checked before the body is read. A body is a JSON object; keys that "
    "the operation's schema does not name are refused (422 naming the key), also unknown names in "
    "`custom_fields`. Text may not contain NUL (\\u0000). Dates and times lie between the years "
    "1000 and 9998. Errors are JSON: `detail`, and `errors` naming each field (dotted for nested "
    "values, `custom_fields.<name>`, `roles.0`).",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    renderer=JSONRenderer(),
    parser=api_input.DecimalParser(),  # amounts are parsed as Decimals, never floats
)
api.add_decorator(api_input.reject_nul)  # NUL in a query parameter or a payload: 422, not a database error


class ConflictError(Exception):
    def __init__(self, current_version):
        self.current_version = current_version


def _errors_json(errors: dict) -> dict:
    out = {}
    for field, messages in errors.items():
        if field == "__all__":
            name = "non_field_errors"
        elif field.startswith("cf_"):
            name = f"custom_fields.{field[3:]}"
        elif field == "tags_text":
            name = "tags"
        else:
            name = field
        out[name] = [str(m) for m in messages]
    return out


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": "Invalid input.", "errors": _errors_json(errors)}, status=422)


@api.exception_handler(DeleteProtected)
def on_delete_protected(request, exc: DeleteProtected):
    # a Protect declaration refuses the delete (kehu/core/relations.py): 409, naming the relation
    return api.create_response(request, {"detail": " ".join(exc.relations.values()),
                                         "errors": {name: [message] for name, message in exc.relations.items()}},
                               status=409)


@api.exception_handler(NinjaValidationError)
def on_schema_error(request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query")]
        errors.setdefault(".".join(loc) or "non_field_errors", []).append(err.get("msg", "invalid"))
    return api.create_response(request, {"detail": "Invalid input.", "errors": errors}, status=422)


@api.exception_handler(TransitionRefused)
def on_transition_refused(request, exc: TransitionRefused):
    return api.create_response(request, {"detail": exc.message, "state": exc.state, "state_label": exc.state_label,
                                         "allowed": exc.allowed, "errors": {"state": [exc.message]}}, status=409)


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return api.create_response(request, {"detail": str(exc) or "Permission denied."}, status=403)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(AuthenticationError)
def on_unauthorized(request, exc):
    return api.create_response(request, {"detail": "Authentication required."}, status=401)


@api.exception_handler(ConflictError)
def on_conflict(request, exc: ConflictError):
    return api.create_response(
        request,
        {"detail": "The record was changed by someone else; reload it.", "current_version": exc.current_version,
         "errors": {"version": ["stale version"]}},
        status=409,
    )


@api.exception_handler(StaleVersionError)
def on_stale(request, exc: StaleVersionError):
    return on_conflict(request, ConflictError(exc.current_version))


@api.exception_handler(Exception)
def on_unhandled(request, exc: Exception):
    # Raised on, also with DEBUG on (ninja would answer a text/plain traceback): kehu.core.middleware
    # answers JSON with a request id (500), 503 + Retry-After for the database, 413 for a too large body.
    raise exc


# --- helpers ---------------------------------------------------------------------

def require(request, rt: RecordType, action: str):
    if not request.auth.has_right(rt.module, action):
        raise PermissionDenied(f"No right {rt.module}.{action}.")


def tags_in_rows(rt: RecordType) -> bool:
    """Whether the records' tag names are read in the records' own query (`tag_names`, an array
    subquery on PostgreSQL) rather than in a second query per page or record."""
    return rt.is_kehu_model and connection.vendor == "postgresql"


def visible_or_none(request, rt: RecordType, pk: int, shown: bool = False, lock: bool = False):
    """The record if the caller sees it, else None.
    `shown`: it is read to be answered (serialize), so on PostgreSQL its tag names come in the same
    query (`tag_names`) instead of a second one.
    `lock`: its row is locked until the transaction ends, in the same statement (PostgreSQL: FOR
    UPDATE of its own table; SQLite: the IMMEDIATE transaction already holds the write lock). The
    row read is then the latest one, and nobody else writes it before this transaction ends. Call
    inside transaction.atomic(). Its SQL is compiled once per connection and data scope
    (kehu/core/reads.py)."""
    from .reads import read_one

    obj = read_one(rt, request.auth, pk, tags=shown and tags_in_rows(rt), lock=lock)
    if lock and obj is not None and rt.is_kehu_model:
        obj.remember_locked_row()
    return obj


def get_visible(request, rt: RecordType, pk: int, shown: bool = False, lock: bool = False):
    """The record if the caller sees it (`visible_or_none`), else 404."""
    obj = visible_or_none(request, rt, pk, shown=shown, lock=lock)
    if obj is None:
        raise Http404
    return obj


def saved_and_shown(request, rt: RecordType, form):
    """Save a validated form (`save_record`) and read the record back as the caller sees it, to be
    answered: that one read is also the check that the save left it inside the caller's data
    scope (`outside_scope`, rolled back with the transaction the caller holds)."""
    from .assignment import outside_scope, save_record

    obj = save_record(rt, form, request.auth, check_scope=False)
    shown = visible_or_none(request, rt, obj.pk, shown=True)
    if shown is None:
        raise outside_scope(rt)
    return shown


def to_form_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, (datetime.date, datetime.datetime, Decimal)):
        return value.isoformat() if not isinstance(value, Decimal) else str(value)
    if isinstance(value, (list, tuple)):
        return [to_form_value(v) for v in value]
    if hasattr(value, "pk"):
        return value.pk
    return value


def form_data(rt: RecordType, payload: dict, instance=None) -> dict:
    """API payload -> form data. For a partial update, start from the record's current values."""
    form_fields = list(rt.form.base_fields)
    data: dict[str, Any] = {}
    if instance is not None:  # a new instance carries the model defaults (status, country...)
        current = model_to_dict(instance, fields=[f for f in form_fields if f != "tags_text"])
        # a file (a product's image) is kept by the form when no new one is uploaded, never sent as data
        data.update({k: to_form_value(v) for k, v in current.items() if not isinstance(v, FieldFile)})
        for key, value in (getattr(instance, "custom_fields", None) or {}).items():
            data[f"cf_{key}"] = value if value is not None else ""
    for key, value in payload.items():
        if key == "custom_fields" and isinstance(value, dict):
            for cf_key, cf_value in value.items():
                data[f"cf_{cf_key}"] = to_form_value(cf_value)
        elif key == "tags" and value is not None:
            data["tags_text"] = ", ".join(value)
        elif key in form_fields:
            data[key] = to_form_value(value)
    # unchecked booleans are absent from HTML forms; mirror that for False
    return {k: v for k, v in data.items() if v is not False}


API_EXCLUDED = ["deleted_at", "deleted_by", "password", "calendar_token", "preferences", "key_hash",
                "tagged_items", "attachments"]


def output_fields(rt: RecordType) -> list[tuple[str, str, bool]]:
    """(key, attribute, many-to-many) of what the API shows, in the Out schema's order."""
    cached = getattr(rt, "_api_output_fields", None)
    if cached is None:
        excluded = set(API_EXCLUDED) | set(rt.api_exclude)
        cached = [(f.name, f.attname, False) for f in rt.model._meta.concrete_fields if f.name not in excluded]
        cached += [(f.name, f.name, True) for f in rt.model._meta.many_to_many if f.name not in excluded]
        rt._api_output_fields = cached
    return cached


def serialize(rt: RecordType, obj, out_schema=None) -> dict:
    """The record as the Out schema documents it, built directly: validating every row through
    pydantic cost more than the database query (see docs/benchmarks.md)."""
    data = {}
    for key, attname, many in output_fields(rt):
        data[key] = [o.pk for o in getattr(obj, attname).all()] if many else getattr(obj, attname)
    if rt.is_kehu_model:
        data["tags"] = obj.tag_name_list()
    return data


def serialize_rows(rt: RecordType, rows: list[dict]) -> list[dict]:
    """List rows (dicts from `.values()`, keyed by column) as `serialize` shows records, with
    many-to-many ids and tags in one query each: a list page builds no model instances."""
    fields = output_fields(rt)
    ids = [row["id"] for row in rows]
    many = {key: _m2m_ids(rt.model, key, ids) for key, _, is_many in fields if is_many}
    in_rows = bool(rows) and "tag_names" in rows[0]  # PostgreSQL: annotated by list_records
    tags = tags_by_id(rt.model, ids, names=True) if rt.is_kehu_model and not in_rows else None
    out = []
    for row in rows:
        data = {key: many[key][row["id"]] if is_many else row[attname] for key, attname, is_many in fields}
        if in_rows:
            data["tags"] = row["tag_names"]
        elif tags is not None:
            data["tags"] = tags[row["id"]]
        out.append(data)
    return out


def _m2m_ids(model, name: str, ids: list) -> dict:
    """{record id: [related ids]} in the related model's order, like `obj.<name>.all()`."""
    field = model._meta.get_field(name)
    through = field.remote_field.through
    source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
    order = [f"{'-' if o.startswith('-') else ''}{target}__{o.lstrip('-')}"
             for o in field.related_model._meta.ordering if isinstance(o, str)]
    by_id: dict = {pk: [] for pk in ids}
    pairs = through.objects.filter(**{f"{source}_id__in": ids}).order_by(*order, f"{target}_id")
    for source_id, target_id in pairs.values_list(f"{source}_id", f"{target}_id"):
        by_id[source_id].append(target_id)
    return by_id


def list_columns(rt: RecordType) -> list[str]:
    return [attname for _, attname, is_many in output_fields(rt) if not is_many]


def respond(request, data, status=200):
    response = api.create_response(request, data, status=status)
    if isinstance(data, dict) and "version" in data:
        response["ETag"] = f'"{data["version"]}"'
    return response


class InBase(Schema):
    """Input accepts foreign keys by field name ("customer": 5), as the output shows them."""

    model_config = ConfigDict(populate_by_name=True)


class KehuOutBase(Schema):
    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return [t.name for t in obj.tags]


def check_version(request, obj, payload: dict):
    expected = payload.pop("version", None)
    if_match = request.headers.get("If-Match")
    if if_match:
        try:
            expected = int(if_match.strip('W/"'))
        except ValueError:
            raise HttpError(412, "If-Match must be the record's version.")
        if expected != obj.version:
            raise HttpError(412, f"Precondition failed: current version is {obj.version}.")
    if expected is not None and expected != obj.version:
        raise ConflictError(obj.version)


LIST_PARAMETERS = ("sort", "cursor", "limit")


def check_list_parameters(rt: RecordType, params) -> None:
    """A list parameter the record type does not declare is refused (422 naming it): a misspelt
    filter would otherwise list every record as if it had been applied."""
    unknown = [key for key in params if key not in LIST_PARAMETERS and key not in rt.filterset.base_filters]
    if unknown and rt.is_kehu_model:
        from .customfields import fields_for

        custom = {cf.key for cf in fields_for(rt.record_type_name)}
        unknown = [key for key in unknown if key not in custom]
    if unknown:
        allowed = ", ".join([*LIST_PARAMETERS, *rt.filterset.base_filters])
        raise ValidationError({key: [f"Unknown parameter; one of: {allowed} (and cf_<name> per custom field)."]
                               for key in unknown})


def filter_parameters(rt: RecordType) -> list[dict]:
    params = [
        {"in": "query", "name": "sort", "schema": {"type": "string", "enum": [
            s for f in rt.sort_fields for s in (f, f"-{f}")]},
         "description": f"Default {rt.default_sort}. A list sorted by id (or by default) and filtered by a range "
                        "of a sortable date (created_after...) is read in that date's order, same direction."},
        {"in": "query", "name": "cursor", "schema": {"type": "string"}, "description": "next_cursor/prev_cursor."},
        {"in": "query", "name": "limit", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
    ]
    for name, f in rt.filterset.base_filters.items():
        description = str(f.label or name)
        if name == "q" and getattr(rt.filterset, "search_indexed", False):
            description += (". A term under three characters (or one that matches too many related records, such as "
                            "customers by name) may be searched in the newest records only: the response then has "
                            "the header X-Kehu-Search-Window (how many).")
        params.append({"in": "query", "name": name, "schema": {"type": "string"}, "description": description})
    return params


# --- the generic CRUD router -------------------------------------------------------

def _json_field_types(rt: RecordType, exclude) -> list[tuple]:
    """JSON columns as `serialize` returns them: ninja documents every JSONField as an object,
    but `Role.rights` and `CustomField.choices` are lists."""
    out = []
    for f in rt.model._meta.concrete_fields:
        if f.get_internal_type() != "JSONField" or f.name in exclude:
            continue
        tp = {list: list[Any], dict: dict[str, Any]}.get(f.default, Any)
        out.append((f.name, tp | None if f.null else tp, ...))
    return out


def _money_field_types(rt: RecordType, exclude) -> list[tuple]:
    """MoneyFields as `serialize` returns them: strings with the cents ("1234.50"), not numbers."""
    from ninja.orm.fields import get_schema_field

    from .money import MoneyOut, is_money

    out = []
    for f in rt.model._meta.concrete_fields:
        if is_money(f) and f.name not in exclude:
            _tp, info = get_schema_field(f)
            out.append((f.name, MoneyOut | None if f.null else MoneyOut, info))
    return out


def _time_field_types(rt: RecordType, exclude) -> list[tuple]:
    """TimeFields as "09:00:00": a time of day without a zone (JSON Schema's "time" format wants one)."""
    from django.db import models as dj_models
    from pydantic import Field as PydanticField

    return [(f.name, str | None if f.null else str,
             PydanticField(None if f.null else ..., pattern=api_input.TIME_PATTERN, title=str(f.verbose_name)))
            for f in rt.model._meta.concrete_fields if isinstance(f, dj_models.TimeField) and f.name not in exclude]


def out_schema_for(rt: RecordType):
    exclude = API_EXCLUDED + rt.api_exclude
    exclude = [f for f in exclude if _has_field(rt.model, f)]
    custom = _json_field_types(rt, exclude) + _money_field_types(rt, exclude) + _time_field_types(rt, exclude)
    if rt.is_kehu_model:
        return create_schema(rt.model, name=f"{rt.model.__name__}Out", exclude=exclude,
                             custom_fields=[*custom, ("tags", list[str], [])], base_class=KehuOutBase)
    return create_schema(rt.model, name=f"{rt.model.__name__}Out", exclude=exclude, custom_fields=custom)


def list_schema_for(rt: RecordType, Out):
    """Each record type's list has its own component (a class defined in crud_router and renamed
    afterwards kept its first name: every list was documented as a list of tasks)."""
    return create_model(f"{rt.model.__name__}List", __base__=Schema, results=(list[Out], ...),
                        next_cursor=(str | None, None), prev_cursor=(str | None, None))


def in_schema_for(rt: RecordType):
    return api_input.in_schema(f"{rt.model.__name__}In", rt.form, kehu_model=rt.is_kehu_model)


def create_schema_for(rt: RecordType, In):
    """The create's body: the record's fields and the children it may be created with."""
    if not rt.create_with:
        return In
    return api_input.in_schema(f"{rt.model.__name__}CreateIn", rt.form, kehu_model=rt.is_kehu_model,
                               nested=rt.create_with)


def request_body(In) -> dict:
    """The In schema, documented by hand: the body is read after the right is checked (read_payload)."""
    schema = In.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def read_payload(request, rt: RecordType, In) -> dict:
    """The body as sent (keys given, JSON values), validated against In; called after `require()`."""
    data = api_input.validate_body(In, api_input.read_body(request))
    if rt.is_kehu_model and data.get("custom_fields") is not None:
        api_input.check_custom_fields(rt.record_type_name, data["custom_fields"])
    return data


def _has_field(model, name):
    try:
        model._meta.get_field(name)
        return True
    except Exception:
        return False


def crud_router(rt: RecordType) -> Router:
    Out = out_schema_for(rt)
    In = in_schema_for(rt) if rt.creatable or rt.editable else None
    router = Router(tags=[str(rt.model._meta.verbose_name_plural)])

    ListOut = list_schema_for(rt, Out)

    @router.get("/", response=ListOut, summary=f"List {rt.model._meta.verbose_name_plural}",
                openapi_extra={"parameters": filter_parameters(rt)}, operation_id=f"{rt.key}_list")
    def list_records(request):
        require(request, rt, "view")
        filtered = any(key in rt.filterset.base_filters or key.startswith("cf_") for key in request.GET)
        check_list_parameters(rt, request.GET)
        if request.GET.get("sort") and request.GET["sort"].lstrip("-") not in rt.sort_fields:
            raise ValidationError({"sort": [f"One of: {', '.join(rt.sort_fields)} (descending with -)."]})
        sort = walk_sort(rt, request.GET.get("sort"), request.GET)
        try:
            limit = max(1, min(int(request.GET.get("limit") or settings.KEHU_PAGE_SIZE), 200))
        except ValueError:
            raise ValidationError({"limit": ["Enter a whole number."]})
        columns = list_columns(rt)
        tags_in_row = tags_in_rows(rt)
        if tags_in_row:
            columns = [*columns, "tag_names"]

        notices = []

        # the list's one code path (kehu.core.filters.list_queryset): invalid values are 422
        fs = list_filterset(rt, request.auth, request.GET) if filtered else None

        def queryset():
            if fs is not None:
                qs = fs.qs
                notices.extend(getattr(fs, "search_notices", None) or [])
            else:
                qs = rt.visible(request.auth)
            # rows as dicts without the UI's joins: the API shows foreign keys as ids
            qs = qs.select_related(None).prefetch_related(None)
            return qs.annotate(tag_names=tag_names_subquery(rt.model)) if tags_in_row else qs

        # An unfiltered list's SQL depends only on the record type and the user's data scope; a
        # filtered one's also on its filters when each is pure (its SQL follows from its value,
        # the user and the time zone): by their values, or for plain comparisons by their shape
        # alone, the values then parameters (kehu.core.filters.prepare_reuse). Else it is built and
        # compiled for this request alone.
        reuse, slots = ("api-list", rt.key, rt.scope_key(request.auth)), None
        if fs is not None:
            # a scope tested row by row reads its page's ids first (pagination._narrowed), which
            # cannot run a query with parameter slots: such a list is compiled per request
            found = fs.prepare_reuse() if not getattr(fs.queryset.query, "scope_branches", None) else None
            if found is None:
                reuse = None
            else:
                fs.check_rights()  # applying the filters would check them; a reused query does not apply them
                reuse += (request.auth.pk, timezone.get_current_timezone_name(), fs.owned, found[0])
                slots = found[1]
        try:
            page = paginate(queryset, sort=sort, cursor=request.GET.get("cursor"), size=limit, values=columns,
                            reuse=reuse, slots=slots)
        except InvalidCursor as exc:
            raise ValidationError({"cursor": [str(exc)]})
        response = respond(request, {"results": serialize_rows(rt, page.items),
                                     "next_cursor": page.next_cursor, "prev_cursor": page.prev_cursor})
        if notices:  # a term under three characters was searched in the newest N records only
            response["X-Kehu-Search-Window"] = str(max(notices))
        return response

    @router.get("/{int:pk}", response=Out, operation_id=f"{rt.key}_get")
    def get_record(request, pk: int):
        require(request, rt, "view")
        obj = get_visible(request, rt, pk, shown=True)
        return respond(request, serialize(rt, obj))

    crud_write_routes(router, rt, Out, In)
    if rt.workflow is not None:
        transition_routes(router, rt, Out)
    if rt.actions:
        action_routes(router, rt, Out)
    rt.extend_api(router, Out)
    return router


def crud_write_routes(router, rt: RecordType, Out, In) -> None:
    """POST, PATCH and DELETE of one record type, each only if the record type offers it."""

    CreateIn = create_schema_for(rt, In) if rt.creatable else None

    def create_record(request):
        require(request, rt, "create")
        data = read_payload(request, rt, CreateIn)  # the right first, then the body
        data.pop("version", None)
        children = nested.split(rt, data)
        instance = rt.model()
        if rt.is_kehu_model:  # the creator owns it; another owner in the payload is an assignment
            instance.owner = request.auth
        form = rt.form(form_data(rt, data, instance), instance=instance, user=request.auth)
        with transaction.atomic():  # validated, saved and read back as the caller sees it, or nothing
            if not form.is_valid():
                raise ValidationError(form.errors)
            prepared = nested.prepare_all(rt, form.instance, children, request.auth)
            if prepared:  # its children are saved after it, and may change it (an order's total)
                obj = save_form(rt, form, request.auth)
                nested.save_all(rt, obj, prepared, request.auth)
                body = serialize(rt, get_visible(request, rt, obj.pk, shown=True))
            else:
                body = serialize(rt, saved_and_shown(request, rt, form))
        return respond(request, body, status=201)

    if rt.creatable:
        children = ", ".join(rt.create_with)
        router.post("/", response={201: Out}, operation_id=f"{rt.key}_create", openapi_extra=request_body(CreateIn),
                    summary=f"Create (with its {children}: all or nothing)" if children else None)(create_record)

    def update_record(request, pk: int):
        require(request, rt, "edit")
        # One transaction from the read to the write, the row locked first: a PATCH that names no
        # version (nor If-Match) is "last write wins" and must never meet another writer's update
        # between its read and its save (that would answer 409 to a client that asked for no check)
        with transaction.atomic():
            # its tag names in the same statement (PostgreSQL): the form shows them
            obj = get_visible(request, rt, pk, lock=True, shown=True)
            data = read_payload(request, rt, In)  # the right first, then the body
            if rt.is_kehu_model:
                check_version(request, obj, data)
            else:
                data.pop("version", None)
            if rt.workflow is not None and rt.workflow.field in data:  # a state changes only by a transition
                raise ValidationError({rt.workflow.field: [
                    f"Change it with a transition: POST /api/v1/{rt.api_prefix}/{pk}/transitions/<name> "
                    f"(GET /api/v1/{rt.api_prefix}/{pk}/transitions lists them)."]})
            form = rt.form(form_data(rt, data, obj), instance=obj, user=request.auth)
            if not form.is_valid():
                raise ValidationError(form.errors)
            body = serialize(rt, saved_and_shown(request, rt, form))
        return respond(request, body)

    if rt.editable:
        router.patch("/{int:pk}", response=Out, operation_id=f"{rt.key}_update",
                     openapi_extra=request_body(In))(update_record)

    def delete_record(request, pk: int):
        from .views import delete_record as do_delete

        require(request, rt, "delete")
        obj = get_visible(request, rt, pk)
        if rt.is_kehu_model:
            check_version(request, obj, {})
        with transaction.atomic():
            do_delete(rt, obj, request.auth)
        return 204, None

    if rt.deletable:
        router.delete("/{int:pk}", response={204: None}, operation_id=f"{rt.key}_delete")(delete_record)


def action_routes(router, rt: RecordType, Out) -> None:
    """One POST /api/v1/<type>/<id>/actions/<name> per declared action (kehu/core/actions.py)."""
    from . import actions

    for action in rt.actions:
        In = api_input.in_schema(f"{rt.model.__name__}{action.name.title().replace('_', '')}ActionIn",
                                 actions.form_class(rt, action), kehu_model=False)
        _action_route(router, rt, Out, action, In)


def _action_route(router, rt: RecordType, Out, action, In) -> None:
    from . import actions

    @router.post(f"/{{int:pk}}/actions/{action.name}", response={200: Out, 409: RefusedOut},
                 operation_id=f"{rt.key}_action_{action.name}", openapi_extra=request_body(In),
                 summary=f"Action “{action.name}”",
                 description="Returns the record the action made when it makes one of this type (a renewal: "
                             "the successor), otherwise the record itself.")
    def run(request, pk: int):
        if not actions.may(rt, request.auth, action):
            raise PermissionDenied(f"No right for the action {action.name}.")
        obj = get_visible(request, rt, pk)
        data = api_input.validate_body(In, api_input.read_body(request))
        made = actions.take_action(rt, obj, action.name, request.auth,
                                   {k: to_form_value(v) for k, v in data.items() if v is not None})
        target = made.pk if isinstance(made, rt.model) and made.pk != pk else pk
        return respond(request, serialize(rt, get_visible(request, rt, target, shown=True)))


class StateOut(Schema):
    value: str
    label: str


class TransitionOut(Schema):
    name: str
    label: str
    targets: list[StateOut]
    fields: list[str]
    required: list[str]
    comment: str


class TransitionLogOut(Schema):
    transition: str
    from_state: str
    to_state: str
    comment: str
    at: datetime.datetime
    by: int | None


class TransitionsOut(Schema):
    state: str
    state_label: str
    available: list[TransitionOut]
    log: list[TransitionLogOut]


class RefusedOut(Schema):
    detail: str
    state: str
    state_label: str
    allowed: list[str]


def transition_routes(router, rt: RecordType, Out) -> None:
    """GET /<id>/transitions (the state, what this user may do now, the log) and one
    POST /<id>/transitions/<name> per declared transition, each with its own input schema."""
    wf = rt.workflow

    @router.get("/{int:pk}/transitions", response=TransitionsOut, operation_id=f"{rt.key}_transitions",
                summary="The state, the transitions you may take now, and the transition log")
    def list_transitions(request, pk: int):
        require(request, rt, "view")
        obj = get_visible(request, rt, pk)
        available = [{"name": t.name, "label": str(t.label),
                      "targets": [{"value": v, "label": label} for v, label in wf.targets(t, obj)],
                      "fields": list(t.fields), "required": list(t.required), "comment": t.comment}
                     for t in wf.available(obj, request.auth)]
        log = [{"transition": r.transition, "from_state": r.from_state, "to_state": r.to_state,
                "comment": r.comment, "at": r.at, "by": r.by_id} for r in wf.history(obj)]
        state = wf.state(obj)
        return respond(request, {"state": state, "state_label": wf.state_label(state, obj),
                                 "available": available, "log": log})

    for t in wf.transitions:
        In = api_input.in_schema(f"{rt.model.__name__}{t.name.title().replace('_', '')}In",
                                 wf.form_class(t, None), kehu_model=False)
        _transition_route(router, rt, Out, t, In)


def _transition_route(router, rt: RecordType, Out, t, In) -> None:
    wf = rt.workflow
    needs = ", ".join(t.required) or "nothing"

    @router.post(f"/{{int:pk}}/transitions/{t.name}", response={200: Out, 409: RefusedOut},
                 operation_id=f"{rt.key}_transition_{t.name}", openapi_extra=request_body(In),
                 summary=f"Transition “{t.name}” (needs: {needs}{', a comment' if t.comment == 'required' else ''})")
    def take(request, pk: int):
        if not wf.may(request.auth, t):  # the right first, then the record, then the body
            raise PermissionDenied(f"No right for the transition {t.name}.")
        obj = get_visible(request, rt, pk)
        data = api_input.validate_body(In, api_input.read_body(request))
        wf.take(obj, t.name, request.auth, {k: to_form_value(v) for k, v in data.items() if v is not None})
        return respond(request, serialize(rt, get_visible(request, rt, pk, shown=True)))


def save_form(rt: RecordType, form, user):
    from .assignment import save_record

    return save_record(rt, form, user)


def register_all():
    for rt in registry.all():
        api.add_router(f"/{rt.api_prefix}/", crud_router(rt))
