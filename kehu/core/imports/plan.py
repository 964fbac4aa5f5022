"""A record type's form compiled once per import run into a per-column plan (issue 15, speed).

Binding a ModelForm to a row costs ~0.5 ms, most of it machinery around the rules: a BoundField
per field, the widget reading each value, the model's field list walked three times
(exclusions, construct_instance, clean_fields) and the unique checks worked out again. A
`FormPlan` does that work once per run, from the form itself, and keeps per row only the rules:

- each form field's own `clean()` (the same Field objects the UI's form has: its validators,
  choices, required, the importing user's scope) and the form's `clean_<field>()` methods;
- the form's `clean()` (the owner rule, frozen fields), called as the form's own method;
- custom fields into the instance as the form puts them there;
- the model fields' `clean()` and the model's `clean()` on the instance, with the exclusions
  Django's ModelForm (and Kehu's `_get_validation_exclusions`) would give;
- the model's constraints and unique checks where there are any (none for customers and contacts).

Error paths go through the form's own `add_error` / `_update_errors`, so a row's errors are the
messages the form would show. kehu/customers/tests/test_import_plan.py runs varied rows through both the
form and the plan and compares cleaned data, instances and errors.

A form the plan cannot follow (one overriding `_clean_fields`, `_post_clean` or `full_clean`
beyond the known mixins, file fields, post_init receivers) is bound per row as before
(`FormPlan.compiled` is False)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import signals
from django.db.models.base import ModelState
from django.db.models.expressions import DatabaseDefault
from django.forms.models import BaseModelForm, InlineForeignKeyField
from django.forms.utils import ErrorDict

from kehu.core.customfields import CustomFieldsFormMixin
from kehu.core.forms import KehuFormMixin, PreloadedModelChoiceField, resolves_choice

from . import cleaners

CACHE_SIZE = 5000  # cleaned values kept per field of a pure field class (dates, choices, dictionary values)

# field classes whose clean() depends on the value alone (no database, no clock): the result of
# a value is kept per run. Exact classes, not subclasses (a subclass may add state).
PURE_FIELDS = (forms.DateField, forms.ChoiceField, forms.TypedChoiceField, forms.BooleanField,
               forms.NullBooleanField, forms.IntegerField, forms.DecimalField, PreloadedModelChoiceField)

_plain_read = forms.Widget.value_from_datadict
# the values a pure field's cleaned result is kept for: a cell's text, a form default's id (the importing
# user, a dictionary value) and the None of an empty choice, which the form reads for an absent column
# (exact classes: True == 1 as a key, but a bool is never kept)
_KEYS = frozenset({str, int, type(None)})


class BoundRow:
    """What a bound form of one row holds, without the form: the data, the cleaned data, the
    errors (an ErrorDict as `form.errors`) and the instance. `save(commit=False)` is the form's."""

    __slots__ = ("plan", "data", "cleaned_data", "_errors", "instance")

    def __init__(self, plan, data, cleaned_data, errors, instance):
        self.plan, self.data, self.cleaned_data, self._errors, self.instance = plan, data, cleaned_data, errors, instance

    @property
    def errors(self):
        return self._errors

    def is_valid(self):
        return not self._errors

    def save(self, commit=False):
        """The form's save(commit=False) on this row's state (created_by, updated_by,
        prepare_instance): what the UI's form does before saving."""
        return self.plan.save(self, commit=commit)


class FormPlan:
    def __init__(self, form):
        """`form`: the record type's unbound form of a new record, built once with the importing
        user (its fields, querysets and initial values are the run's)."""
        self.form = form
        self.model = form._meta.model
        self.compiled = _compilable(form)
        if not self.compiled:
            return
        opts = self.model._meta
        meta = form._meta
        self.steps = []
        for name, field in form.fields.items():
            read = None if type(field.widget).value_from_datadict is _plain_read else field.widget.value_from_datadict
            clean_method = getattr(type(form), f"clean_{name}", None)
            cache = {} if type(field) in PURE_FIELDS else None
            clean = (None if cache is not None else cleaners.form_cleaner(field)) or field.clean
            self.steps.append((name, field, read, field.disabled, clean_method, cache, clean))
        form_fields = form.fields

        # construct_instance: the model fields a form value is written to
        self.construct = []
        for f in opts.fields:
            if not f.editable or isinstance(f, models.AutoField) or f.name not in form_fields:
                continue
            if meta.fields is not None and f.name not in meta.fields:
                continue
            if meta.exclude and f.name in meta.exclude:
                continue
            ff = form_fields[f.name]
            plain = type(f).save_form_data is models.Field.save_form_data and f.attname == f.name and \
                not _data_descriptor(self.model, f.name)
            setter = None if plain else (cleaners.fk_setter(self.model, f) or f.save_form_data)
            self.construct.append((f, f.name, ff, f.has_default(), plain, setter))

        # _get_validation_exclusions: the fixed part, and the fields whose exclusion depends on the row
        self.static_exclude = set()
        self.maybe_empty = []  # (name, form field): excluded when the value is empty
        self.fk_resolved = []  # Kehu: a resolved choice of a ModelChoiceField is not read again
        from kehu.core.forms import constrained_fields

        constrained = constrained_fields(self.model)
        for f in opts.fields:
            name = f.name
            if name not in form_fields or (meta.fields and name not in meta.fields) or \
                    (meta.exclude and name in meta.exclude):
                self.static_exclude.add(name)
                continue
            ff = form_fields[name]
            if not f.blank and not ff.required:
                self.maybe_empty.append((name, ff))
            if isinstance(form, KehuFormMixin) and name not in constrained and \
                    resolves_choice(ff):
                self.fk_resolved.append(name)
        self.static_exclude |= {n for n, ff in form_fields.items() if isinstance(ff, InlineForeignKeyField)}
        self.model_fields = [(f, cleaners.model_cleaner(f) or f.clean) for f in opts.fields
                             if f.name not in self.static_exclude and not f.generated]
        self.has_constraints = any(cs for _m, cs in self.model().get_constraints())
        checks, date_checks = self.model()._get_unique_checks(exclude=self.static_exclude)
        self.has_unique = bool(checks or date_checks)

        # a new instance: the model's defaults, as Model() gives them, without its __init__ per row
        self.fast_new = not (signals.pre_init.has_listeners(self.model) or signals.post_init.has_listeners(self.model))
        template = self.model()
        self.defaults, self.callable_defaults = {}, []
        for f in opts.concrete_fields:
            if f.has_default() and callable(f.default):
                self.callable_defaults.append((f.attname, f.get_default))
            else:
                self.defaults[f.attname] = template.__dict__[f.attname]
        self.owner_id = getattr(form.instance, "owner_id", None)
        self.custom = isinstance(form, CustomFieldsFormMixin)

        self.variants: dict = {}

    # --- the columns a file gives ----------------------------------------------------------------------------
    def variant(self, present) -> _Variant:
        """The plan for rows whose data has these keys (every row of a file, as a rule): a form
        field whose key is absent gets what the form gives for an absent key — the same for every
        row — computed once, with its effect on the instance and on the model's validation."""
        key = frozenset(present)
        found = self.variants.get(key)
        if found is None:
            found = self.variants[key] = _Variant(self, key)
        return found

    # --- a row ----------------------------------------------------------------------------------------------
    def new_instance(self, variant=None):
        if not self.fast_new:
            obj = self.model()
            if variant is not None:
                obj.__dict__.update(variant.plain_consts)
        else:
            obj = self.model.__new__(self.model)
            d = obj.__dict__
            d.update(self.defaults)
            for attname, default in self.callable_defaults:
                d[attname] = default()
            if variant is not None:
                d.update(variant.plain_consts)
            d["_state"] = ModelState()
        if self.owner_id is not None:  # the form set it (a user without the assign right owns the record)
            obj.owner_id = self.owner_id
        return obj

    def clean(self, data) -> BoundRow:
        """The row's data validated as `form(data)` of a new record would validate it."""
        variant = self.variant(data)
        form = self.form
        instance = self.new_instance(variant)
        form.data, form.files, form.is_bound = data, {}, True
        form.instance = instance
        errors = form._errors = ErrorDict(renderer=form.renderer)
        cleaned = form.cleaned_data = {}
        form._validate_unique = False
        for step in variant.runs:
            if step.__class__ is dict:  # absent fields: their cleaned values, computed once
                cleaned.update(step)
                continue
            name, field, read, disabled, clean_method, cache, clean = step
            if disabled:
                value = form.get_initial_for_field(field, name)
            elif read is None:
                value = data.get(name)
            else:
                value = read(data, form.files, name)
            try:
                if cache is not None and value.__class__ in _KEYS:
                    try:
                        cleaned[name] = cache[value]
                    except KeyError:
                        cleaned[name] = result = field.clean(value)
                        if len(cache) < CACHE_SIZE:
                            cache[value] = result
                else:
                    cleaned[name] = clean(value)  # the field's clean(), or its compiled equal (cleaners.py)
                if clean_method is not None:
                    cleaned[name] = clean_method(form)
            except ValidationError as e:
                form.add_error(name, e)
        form._clean_form()
        cleaned = form.cleaned_data
        if self.custom:
            form.custom_fields_to_instance()
        self._post_clean(variant, form, data, cleaned, instance)
        return BoundRow(self, data, cleaned, errors, form.instance)

    def _post_clean(self, variant, form, data, cleaned, instance):
        """ModelForm._post_clean, compiled: the validation exclusions, construct_instance, the
        model's full_clean (fields, clean(), constraints) and the unique checks."""
        errors = form._errors
        exclude = set(variant.exclude)
        if errors:
            exclude.update(errors)
        for name, ff in variant.maybe_empty:
            if cleaned.get(name) in ff.empty_values:
                exclude.add(name)
        for name in variant.fk_resolved:
            if isinstance(cleaned.get(name), models.Model):
                exclude.add(name)
        d = instance.__dict__
        for _f, name, ff, has_default, plain, setter in variant.construct:
            if name not in cleaned:
                continue
            value = cleaned[name]
            if has_default and value in ff.empty_values and ff.widget.value_omitted_from_data(data, {}, name):
                continue
            if plain:
                d[name] = value  # Field.save_form_data: setattr, on a field without a data descriptor
            else:
                setter(instance, value)  # save_form_data, or its compiled equal for a foreign key (cleaners.py)
        model_errors = {}
        for f, clean in variant.model_fields:
            if f.name in exclude:
                continue
            raw = getattr(instance, f.attname)
            if f.blank and raw in f.empty_values:
                continue
            if isinstance(raw, DatabaseDefault):
                continue
            try:
                setattr(instance, f.attname, clean(raw, instance))
            except ValidationError as e:
                model_errors[f.name] = e.error_list
        try:
            instance.clean()
        except ValidationError as e:
            model_errors = e.update_error_dict(model_errors)
        if self.has_constraints:
            done = exclude | {n for n in model_errors if n != NON_FIELD_ERRORS}
            try:
                instance.validate_constraints(exclude=done)
            except ValidationError as e:
                model_errors = e.update_error_dict(model_errors)
        if model_errors:
            form._update_errors(ValidationError(model_errors))
        if self.has_unique and getattr(form, "_validate_unique", False):
            form.validate_unique()

    def save(self, row: BoundRow, commit=False):
        form = self.form
        form.data, form.cleaned_data, form._errors, form.instance = row.data, row.cleaned_data, row._errors, row.instance
        return form.save(commit=commit)


def _compilable(form) -> bool:
    """The plan follows Django's ModelForm and Kehu's mixins; anything else binds per row."""
    cls = type(form)
    if not isinstance(form, BaseModelForm):
        return False
    known = {
        "_clean_fields": {forms.BaseForm._clean_fields},
        "_clean_form": {forms.BaseForm._clean_form},
        "full_clean": {forms.BaseForm.full_clean},
        "_post_clean": {forms.BaseForm._post_clean, BaseModelForm._post_clean, CustomFieldsFormMixin._post_clean},
        "_get_validation_exclusions": {BaseModelForm._get_validation_exclusions,
                                       KehuFormMixin._get_validation_exclusions},
    }
    for name, allowed in known.items():
        for klass in cls.__mro__:
            if name in klass.__dict__ and klass.__dict__[name] not in allowed:
                return False
    if any(isinstance(ff, forms.FileField) for ff in form.fields.values()):
        return False
    if form.prefix:
        return False
    return True


_FOLDABLE_WIDGETS = (forms.CheckboxInput, forms.SelectMultiple, forms.NullBooleanSelect)
_SCALARS = (type(None), str, bool, int)


class _Variant:
    """A FormPlan for rows with one set of data keys: the absent fields folded into constants."""

    def __init__(self, plan: FormPlan, present: frozenset):
        form = plan.form
        self.runs = []
        consts: dict = {}
        run: dict = {}
        for step in plan.steps:
            name, field, read, disabled, clean_method, cache, _clean = step
            value = _absent_value(form, step) if name not in present else _NOT
            if value is _NOT:
                if run:
                    self.runs.append(run)
                    run = {}
                self.runs.append(step)
                continue
            run[name] = consts[name] = value
        if run:
            self.runs.append(run)
        self.exclude = set(plan.static_exclude)
        self.maybe_empty = []
        for name, ff in plan.maybe_empty:
            if name in consts:
                if consts[name] in ff.empty_values:
                    self.exclude.add(name)
            else:
                self.maybe_empty.append((name, ff))
        self.fk_resolved = [n for n in plan.fk_resolved if n not in consts]  # a constant is empty: never a row
        self.plain_consts = {}
        self.construct = []
        for f, name, ff, has_default, plain, setter in plan.construct:
            if name in consts:
                value = consts[name]
                if has_default and value in ff.empty_values and ff.widget.value_omitted_from_data({}, {}, name):
                    continue  # the model's default stays
                if plain:
                    self.plain_consts[name] = value  # given to each new instance with the defaults
                    continue
            self.construct.append((f, name, ff, has_default, plain, setter))
        self.model_fields = []
        for f, clean in plan.model_fields:
            if f.name in consts and f.name in self.exclude:
                continue
            if f.name in self.plain_consts and f.blank and self.plain_consts[f.name] in f.empty_values:
                continue  # clean_fields skips a blank field's empty value
            self.model_fields.append((f, clean))


_NOT = object()


def _data_descriptor(model, name) -> bool:
    """Whether setting `name` on an instance goes through a descriptor (else it is the instance's dict)."""
    for klass in model.__mro__:
        if name in klass.__dict__:
            return hasattr(type(klass.__dict__[name]), "__set__")
    return False


def _absent_value(form, step):
    """The cleaned value of a field whose key is not in the data, when it is the same for every
    row (a plain widget, no clean method, not disabled, a valid empty scalar); else _NOT."""
    name, field, read, disabled, clean_method, cache, _clean = step
    if disabled or clean_method is not None:
        return _NOT
    if read is None:
        raw = None
    elif type(field.widget) in _FOLDABLE_WIDGETS:
        raw = field.widget.value_from_datadict({}, {}, name)
    else:
        return _NOT
    try:
        value = field.clean(raw)
    except ValidationError:
        return _NOT  # a required field: its error, row by row
    if value.__class__ not in _SCALARS or (value not in field.empty_values and value is not False):
        return _NOT
    return value
