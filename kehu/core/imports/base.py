"""The import declaration of a record type and the registry of importers.

    # kehu/customers/imports.py, registered from kehu/customers/registrations.py
    class ContactImporter(Importer):
        key = "contact"                           # the record type
        aliases = {"mobile": ["手机", "Mobile"]}    # header names besides the field's labels
        duplicate_fields = ("mobile", "email")

    register(ContactImporter())

Fields come from the record type's form (its editable fields, custom fields, tags); each has a
kind that says how a cell is coerced (kehu/core/imports/coerce.py). Rows are validated by the form
with the importing user (`form(data, user=user)`): the same rules, choices and data scope as the
UI and the API. An importer may add fields of a child record filled from the same row
(`child_fields`: the customer's primary contact) and override `find_existing` (duplicates, per
batch) and `write` (bulk writes)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django import forms
from django.db import models
from django.utils import formats, timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from kehu.core.assignment import owner_change, owner_changed

from . import coerce
from .presets import PRESETS

TEXT, LONGTEXT, PHONE, EMAIL, NUMBER, INTEGER, DATE, BOOL, DICT, CHOICE, USER, TAGS, REF, MULTI = (
    "text", "longtext", "phone", "email", "number", "integer", "date", "bool", "dict", "choice", "user", "tags",
    "ref", "multi")
DATETIME = "datetime"  # a date and a time of day (a follow-up's time), read in the job's time zone


@dataclass
class ImportField:
    name: str  # the import's name (a form field, or `<prefix>_<field>` of a child)
    label: str
    kind: str
    form_field: str  # the name in its form
    target: str = ""  # "" the record itself; a child's prefix ("contact")
    labels: tuple = ()  # every name a header may have: the labels in each language, the name
    dict_kind: str = ""
    choices: dict = field(default_factory=dict)  # key(label or value) -> value
    required: bool = False


@dataclass(frozen=True)
class PastState:
    """A state of the record type's workflow that an import may give a new record as a fact of its
    past (an order delivered last year in the system it comes from), with the date fields the state
    has reached, in their order (an order delivered: shipped_at, delivered_at).

    The record is written in that state with those dates, as they were: the transitions are not
    taken, so their effects (stock moved, notices sent, the transition's guard) do not run; what
    they would have written is imported on its own (stock levels, payments). A date the file does
    not give is the one before it (the first one's: the record's own date, `since`). The record's
    transition log gets one row, "Imported", from nothing to the state at its last date."""

    state: str
    dates: tuple = ()


IMPORTED = "import"  # the transition log's name of a state an import wrote (kehu/core/workflow.py)


class Importer:
    key = ""  # the record type's key
    form_class = None  # default: the record type's form
    aliases: dict[str, list[str]] = {}
    exclude: tuple = ("allow_duplicate",)
    child_prefix = ""  # a child record filled from the same row ("contact")
    child_form_class = None
    child_exclude: tuple = ()
    child_label = ""
    duplicate_fields: tuple = ()  # fields whose equal values mark a duplicate (within the file too)
    unique_key = False  # True: a duplicate is the same record by a unique key; "create anyway" skips it
    batch_size = 1000
    grouped = False  # True: a record takes several rows (an order, a row per line): `group_key`
    # the workflow states (other than the initial one) a file may give a new record (`PastState`);
    # the state column is offered only when some are declared
    past_states: tuple[PastState, ...] = ()
    state_aliases: dict[str, tuple[str, ...]] = {}  # other names of a state in files (已签收: delivered)

    # --- the record type and its forms ---------------------------------------------------------------
    @property
    def rt(self):
        from kehu.core.registry import registry

        return registry.get(self.key)

    @property
    def model(self):
        return self.rt.model

    def make_form(self, data, user, instance=None):
        if instance is None and user is not None and self.rt.is_kehu_model:
            instance = self.model(owner=user)  # a new record is the importing user's, as in the UI and the API
        return (self.form_class or self.rt.form)(data, user=user, instance=instance)

    def make_child_form(self, data, user, instance=None):
        return self.child_form_class(data, user=user, instance=instance)

    # --- fields -----------------------------------------------------------------------------------------
    def fields(self) -> list[ImportField]:
        """Every field a column may be mapped to (custom fields change at run time: not cached)."""
        out = self._fields_of(self.make_form(None, None), self.model, "", self.exclude)
        if self.child_prefix:
            child = self.make_child_form(None, None)
            out += self._fields_of(child, child._meta.model, self.child_prefix, self.child_exclude)
        return out + self.extra_fields()

    def extra_fields(self) -> list[ImportField]:
        return self.past_state_fields()

    # --- historical states (`past_states`) ----------------------------------------------------------
    def past_state_fields(self) -> list[ImportField]:
        """The state column (the workflow's states a file may give, by value or label in either
        language) and a date-and-time column per date a state reaches."""
        if not self.past_states:
            return []
        wf = self.rt.workflow
        allowed = {wf.initial_state(), *(p.state for p in self.past_states)}
        mf = wf.model_field
        choices = _choice_keys([(v, label) for v, label in mf.choices if v in allowed])
        for state, names in self.state_aliases.items():
            for name in names:
                choices.setdefault(coerce.key(name), state)
        out = [ImportField(mf.name, capfirst(str(mf.verbose_name)), CHOICE, mf.name, "",
                           model_labels(mf) + tuple(self.aliases.get(mf.name, ())), "", choices)]
        return out + [self.time_field(name) for name in self.past_date_fields()]

    def time_field(self, name: str) -> ImportField:
        """A column of a model's date-and-time field that is no form field (a date of its past)."""
        mf = self.model._meta.get_field(name)
        return ImportField(name, capfirst(str(mf.verbose_name)), DATETIME, name, "",
                           model_labels(mf) + tuple(self.aliases.get(name, ())))

    def past_date_fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d for p in self.past_states for d in p.dates))

    def check_past_state(self, row, ctx, since: datetime.date | None = None) -> None:
        """Check the state and dates a new record's row gives (errors with `row.error`) and keep
        them on the row (`row.past`: the state, and each date the state has reached, the missing
        ones filled) for `apply_past_state`. A date belongs to a state that reached it; the dates
        follow each other, none before `since` (the record's own date) nor in the future."""
        if not self.past_states:
            return
        wf = self.rt.workflow
        state = row.data.get(wf.field) or wf.initial_state()
        spec = next((p for p in self.past_states if p.state == state), None)
        reached = spec.dates if spec is not None else ()
        given: dict[str, datetime.datetime] = {}
        for name in self.past_date_fields():
            text = row.data.get(name) or ""
            if not text:
                continue
            column = ctx.column_of.get(name, name)
            if name not in reached:
                row.error(column, _("A date of a record whose status is %(states)s, not “%(state)s”.") % {
                    "states": "/".join(f"“{wf.state_label(p.state)}”" for p in self.past_states if name in p.dates),
                    "state": wf.state_label(state)})
                continue
            given[name] = aware_time(text)
        now = timezone.now()
        previous = aware_time(since.isoformat()) if since is not None else None
        dates = {}
        for name in reached:
            value = given.get(name)
            column = ctx.column_of.get(name, name)
            problem = past_date_error(value, now, previous, _field_label(self.model, dates) if dates else
                                      _("the record's own date"),
                                      future=_("This date is in the future: a status an import gives is one the "
                                               "record has reached already."))
            if problem:
                row.error(column, problem)
            previous = value if value is not None else previous
            dates[name] = previous if previous is not None else now
        row.past = (state, dates) if spec is not None else None
        # a state without dates of its own (an order "processing") reached them on the record's date at
        # the latest known: its "Imported" row stands there, not at the time of the import
        row.past_since = aware_time(since.isoformat()) if since is not None else None

    def apply_past_state(self, obj, row) -> None:
        """Give the unsaved record the state and dates `check_past_state` kept."""
        if getattr(row, "past", None) is None:
            return
        state, dates = row.past
        self.rt.workflow.set_state(obj, state)
        for name, value in dates.items():
            setattr(obj, name, value)

    def log_past_states(self, pairs, user) -> None:
        """One transition log row per record written in a past state: (record, row) pairs."""
        from kehu.core.models import TransitionLog

        logs = []
        for obj, row in pairs:
            if getattr(row, "past", None) is None:
                continue
            state, dates = row.past
            at = max(dates.values()) if dates else (row.past_since or timezone.now())
            logs.append(imported_log(obj, state, at, user))
        TransitionLog.objects.bulk_create(logs)

    def _fields_of(self, form, model, prefix, exclude) -> list[ImportField]:
        out = []
        custom = {cf.key: cf for cf in getattr(form, "custom_field_defs", ())}
        for name, ff in form.fields.items():
            if name in exclude:
                continue
            mf = _model_field(model, name)
            kind, dict_kind, choices = _kind(name, ff, mf)
            labels = _labels(mf, ff, name)
            if name in custom:  # a custom field: its name and labels in both languages
                cf = custom[name]
                labels += tuple(x for x in (cf.name, cf.label, cf.label_en) if x)
            full = f"{prefix}_{name}" if prefix else name
            label = capfirst(str(ff.label or name))
            if prefix:
                label = f"{self.child_label} · {label}"
                labels = tuple(f"{lab_prefix}{lab}" for lab in labels for lab_prefix in _child_prefixes(self))
            out.append(ImportField(full, label, kind, name, prefix, labels + tuple(self.aliases.get(full, ())),
                                   dict_kind, choices, required=bool(ff.required) and kind != BOOL))
        return out

    # --- mapping ----------------------------------------------------------------------------------------
    def guess_mapping(self, headers: list[str], preset: str = "", saved: dict | None = None) -> dict[str, str]:
        """{column index: field name} from the user's saved mapping, the preset's column names,
        then every field's labels (Chinese and English) and aliases."""
        fields = {f.name: f for f in self.fields()}
        lookup: dict[str, str] = {}
        for f in fields.values():
            for label in f.labels:
                lookup.setdefault(coerce.key(label), f.name)
        for name in ([preset] if preset in PRESETS else PRESETS):  # a chosen preset alone, else them all
            for header, target in PRESETS[name].get(self.key, {}).items():
                if target in fields or target in self.virtual_fields():
                    lookup.setdefault(coerce.key(header), target)
        if preset in PRESETS:
            for header, target in PRESETS[preset].get(self.key, {}).items():
                if target in fields or target in self.virtual_fields():
                    lookup[coerce.key(header)] = target
        for header, target in (saved or {}).items():
            if target in fields or target in self.virtual_fields():
                lookup[header] = target
        mapping, used = {}, set()
        for i, header in enumerate(headers):
            target = lookup.get(coerce.key(header))
            if target and target not in used:
                mapping[str(i)] = target
                used.add(target)
        return mapping

    def virtual_fields(self) -> dict[str, str]:
        """Names a column may map to that are not a form field (first_name + last_name -> name)."""
        return {}

    def virtual_label(self, name: str) -> str:
        """The mapping screen's label of a virtual field ("" for "<field> (first name / last name)")."""
        return ""

    def options_template(self) -> str:
        """A template with more choices on the mapping screen (a contact import's customer), saved
        by `save_options`."""
        return ""

    def options_context(self, job) -> dict:
        return {}

    def save_options(self, job, data) -> None:
        """Keep the choices of `options_template` (in `job.value_map`) from the posted form."""

    def provided_fields(self, job) -> set[str]:
        """Required fields the job's options fill when no column does (a default customer)."""
        return set()

    # --- hooks of the engine ------------------------------------------------------------------------
    def apply_virtual(self, row, values: dict) -> None:
        """Columns mapped to `virtual_fields` (a first and a last name) into the row's data."""

    def resolve_refs(self, rows, ctx) -> None:
        """Look up the batch's references (`row.refs`: a contact's customer by name or number)."""
        for row in rows:
            for name in row.refs:
                row.error(ctx.column_of.get(name, name), _("Cannot be imported."))

    def prepare_data(self, row, data: dict, ctx) -> None:
        """Last changes to a row's form data before it is validated."""

    # --- records of several rows (grouped = True) -----------------------------------------------------
    def group_key(self, cells, previous, ctx):
        """The key of the record a row belongs to, from its raw cells (`ctx.cell(cells, field)`)
        and the key of the row above (`previous`; None for the first row): consecutive rows with the
        same key are one record. Only asked when `grouped`."""
        return None

    def join_group(self, head, row, ctx) -> None:
        """A further row of `head`'s record: its record-level cells are the first row's. A cell it
        fills must say the same as the first row's (else an error naming that line); then they are
        left out of the row, which keeps only its child's fields (an order line's)."""
        for name in sorted({*row.data, *(n for n in row.refs if not self._is_child(n, ctx))}):
            if name in row.data and name in row.blank:
                continue
            mine = row.refs.get(name, row.data.get(name))
            theirs = head.refs.get(name, head.data.get(name))
            if mine in ("", None, []):
                continue
            if coerce.key(str(mine)) != coerce.key(str(theirs if theirs is not None else "")):
                column = ctx.column_of.get(name, name)
                shown = coerce.text(ctx.cell(head.cells, name)) if name in ctx.index_of else str(theirs or "")
                value = coerce.text(ctx.cell(row.cells, name)) if name in ctx.index_of else mine
                row.error(column, self.conflict_message(value, head.line, shown))
        row.data = {}
        row.refs = {n: v for n, v in row.refs.items() if self._is_child(n, ctx)}
        row.tags = None

    @staticmethod
    def _is_child(name, ctx) -> bool:
        f = ctx.fields.get(name)
        return f is not None and bool(f.target)

    def validate_group(self, head, ctx) -> None:
        """Last checks of a whole record whose rows are valid (errors with `row.error`)."""

    def conflict_message(self, value, line, first) -> str:
        return _("“%(value)s” differs from line %(line)s of the same %(record)s (“%(first)s”): its own columns "
                 "are read from its first row.") % {"value": value, "line": line, "record": self.rt.label.lower(),
                                                     "first": first}

    def apart_message(self, line) -> str:
        return _("The rows of the record of line %(line)s again, after other rows: the rows of one record "
                 "must follow each other.") % {"line": line}

    def group_error_message(self, line) -> str:
        return _("Line %(line)s of the same %(record)s is wrong: none of its rows is imported.") % {
            "line": line, "record": self.rt.label.lower()}

    def restored(self, obj, snap) -> None:
        """Undo put back `obj`'s fields from `snap` (what `apply_updates` kept): restore the rest."""

    def find_existing(self, rows, ctx) -> None:
        """Set `row.existing = (pk, label, reasons)` on rows matching a stored record (one query
        per key for the whole batch). Default: no duplicate rule."""

    def within_file_keys(self, row) -> list[tuple[str, str]]:
        """The keys by which two rows of one file are the same record."""
        data = row.data
        return [(f, data.get(f, "").lower()) for f in self.duplicate_fields if data.get(f)]

    def write(self, creates, updates, ctx) -> tuple[list[int], list[dict]]:
        """Save the batch; returns (created ids, snapshots before the updates). Default: each
        row through its form's save (what the UI does)."""
        created = []
        for row in creates:
            form = row.form
            if not isinstance(form, forms.BaseForm):
                # a row checked through the compiled form (plan.BoundRow): the record type's save
                # (its services: changed_data, save_m2m…) is given the real form, bound to the same data
                form = self.make_form(form.data, ctx.user)
                if not form.is_valid():
                    raise ValueError(f"line {row.line}: the form refused what its compiled checks passed: "
                                     f"{form.errors.as_json()}")
            self.before_save(row, form.instance, ctx)
            obj = self.rt.save_form(form, ctx.user) if hasattr(self.rt, "save_form") else form.save()
            self.after_save(row, obj, ctx)
            if row.tags is not None:
                obj.set_tags(row.tags)
            created.append(obj.pk)
        return created, self.apply_updates(updates, ctx)

    def before_save(self, row, obj, ctx) -> None:
        """The default `write`: last values of a new record before its record type saves it
        (what its form does not hold: a date of its past)."""

    def after_save(self, row, obj, ctx) -> None:
        """The default `write`: after a new record is saved (its log rows dated as the file says)."""

    def apply_updates(self, updates, ctx) -> list[dict]:
        before = []
        for row in updates:
            obj = row.form.instance
            snap = snapshot(self.model, row.existing_obj)
            is_assignment, old_owner_id = owner_change(row.form, ctx.user)
            row.form.save()
            if is_assignment:  # what follows the owner moves, as after any assignment (no notice per row)
                owner_changed(obj, old_owner_id, ctx.user, notify=False, rt=self.rt)
            if row.tags is not None:
                obj.set_tags(row.tags)
            snap["version"] = obj.version
            before.append(snap)
        return before

    def remove(self, model, ids) -> int:
        """Undo: delete records the import created (their children go with them, and their
        transition log: a state the import gave them)."""
        from django.contrib.contenttypes.models import ContentType

        from kehu.core.models import TransitionLog

        deleted = model._base_manager.filter(pk__in=ids).delete()[1]
        TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=ids).delete()
        return deleted.get(model._meta.label, 0)

    def label_of(self, obj) -> str:
        number = getattr(obj, "number", "")
        return f"{number} {obj}".strip()


def write_tags(model, pairs) -> None:
    """Tag many new records at once: pairs of (record id, [tag names])."""
    from django.contrib.contenttypes.models import ContentType

    from kehu.core.models import Tag, TaggedItem

    wanted = {n[:50] for _pk, names in pairs for n in names or ()}
    if not wanted:
        return
    tags = {t.name: t.pk for t in Tag.objects.filter(name__in=wanted)}
    missing = [Tag(name=n) for n in wanted if n not in tags]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        tags = {t.name: t.pk for t in Tag.objects.filter(name__in=wanted)}
    ct = ContentType.objects.get_for_model(model)
    TaggedItem.objects.bulk_create([TaggedItem(tag_id=tags[n[:50]], content_type=ct, object_id=pk)
                                    for pk, names in pairs for n in dict.fromkeys(names or ())])


def snapshot(model, obj) -> dict:
    """The stored values of `obj` an update may change, as JSON (undo puts them back)."""
    values = {}
    for f in model._meta.concrete_fields:
        if f.primary_key or f.name in ("version", "updated_at", "search_text", "created_at", "created_by"):
            continue
        v = f.value_from_object(obj)
        if isinstance(v, (datetime.date, datetime.datetime)):
            v = v.isoformat()
        elif v is not None and not isinstance(v, (int, float, str, bool, dict, list)):
            v = str(v)
        values[f.attname] = v
    from kehu.core.models import tags_by_id

    tags = tags_by_id(model, [obj.pk], names=True)[obj.pk]
    return {"id": obj.pk, "fields": values, "tags": tags}


def _child_prefixes(importer) -> tuple:
    label = str(importer.child_label)
    out = ["contact_" if importer.child_prefix == "contact" else f"{importer.child_prefix}_", f"{label}", f"{label} "]
    with translation.override("en"):
        out.append(f"{importer.child_label} ")
    with translation.override("zh-hans"):
        out.append(f"{importer.child_label}")
    return tuple(dict.fromkeys(out))


def _model_field(model, name):
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def imported_log(obj, state: str, at, user, data: dict | None = None):
    """The unsaved transition log row of a record an import wrote in `state`, dated `at`."""
    from django.contrib.contenttypes.models import ContentType

    from kehu.core.models import TransitionLog

    return TransitionLog(content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk,
                         customer_id=getattr(obj, "customer_id", None), transition=IMPORTED, from_state="",
                         to_state=state, at=at, data=data or {},
                         by=user if user is not None and user.is_authenticated else None)


def model_labels(mf) -> tuple:
    """A model field's name and its verbose name in each language (a column that is no form field)."""
    labels = [mf.name]
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            labels.append(str(mf.verbose_name))
    return tuple(dict.fromkeys(labels))


def past_date_error(value: datetime.datetime | None, now: datetime.datetime,
                    previous: datetime.datetime | None = None, previous_label: str = "",
                    future: str | None = None) -> str | None:
    """Why a date of a record's past that a row gives is refused, or None: it is after `now` (the
    message `future`, default "in the future"), or before `previous`, the date it follows (the field
    `previous_label`). The one rule of every importer's dates of the past."""
    if value is None:
        return None
    if value > now:
        return future or _("This date is in the future.")
    if previous is not None and value < previous:
        return _("This date is before %(date)s (%(field)s).") % {
            "date": formats.date_format(timezone.localtime(previous).date(), "SHORT_DATE_FORMAT"),
            "field": previous_label}
    return None


def _field_label(model, dates: dict) -> str:
    return str(model._meta.get_field(list(dates)[-1]).verbose_name)


def aware_time(text: str) -> datetime.datetime:
    """A coerced date ("2026-01-05") or date and time ("2026-01-05 14:30") in the current time zone
    (the job's)."""
    value = datetime.datetime.fromisoformat(text)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _labels(mf, ff, name) -> tuple:
    labels = [name]
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            if mf is not None and hasattr(mf, "verbose_name"):
                labels.append(str(mf.verbose_name))
            if ff.label:
                labels.append(str(ff.label))
    if name == "tags_text":
        labels += ["tags", "标签", "Tags"]
    return tuple(dict.fromkeys(labels))


def _kind(name, ff, mf):
    from kehu.core.models import DictItem

    if name == "tags_text":
        return TAGS, "", {}
    if isinstance(mf, models.ForeignKey):
        if mf.related_model is DictItem:
            return DICT, (mf.get_limit_choices_to() or {}).get("kind", ""), {}
        from django.contrib.auth import get_user_model

        if mf.related_model is get_user_model():
            return USER, "", {}
        return REF, "", {}
    if isinstance(ff, forms.MultipleChoiceField):
        return MULTI, "", _choice_keys(ff.choices)
    if isinstance(ff, forms.TypedChoiceField) or isinstance(ff, forms.ChoiceField):
        return CHOICE, "", _choice_keys(ff.choices)
    if isinstance(ff, forms.BooleanField) or isinstance(ff, forms.NullBooleanField):
        return BOOL, "", {}
    if isinstance(ff, forms.DateTimeField):
        return DATETIME, "", {}
    if isinstance(ff, forms.DateField):
        return DATE, "", {}
    if isinstance(ff, (forms.DecimalField, forms.FloatField)):  # subclasses of IntegerField
        return NUMBER, "", {}
    if isinstance(ff, forms.IntegerField):
        return INTEGER, "", {}
    if isinstance(ff, forms.EmailField):
        return EMAIL, "", {}
    if name in ("phone", "mobile") or name.endswith("_phone"):
        return PHONE, "", {}
    if isinstance(ff.widget, forms.Textarea):
        return LONGTEXT, "", {}
    return TEXT, "", {}


def _choice_keys(choices) -> dict:
    out = {}
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            continue
        out[coerce.key(value)] = value
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                out.setdefault(coerce.key(str(label)), value)
    out.pop("", None)
    out.pop("---------", None)
    return out


_REGISTRY: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    _REGISTRY[importer.key] = importer
    return importer


def get(key: str) -> Importer:
    return _REGISTRY[key]


def all_importers() -> dict[str, Importer]:
    return dict(_REGISTRY)


def unknown_text(value) -> str:
    return _("“%(value)s” is not in the list.") % {"value": value}
