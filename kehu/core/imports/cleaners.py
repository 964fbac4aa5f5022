"""Fields' `clean()` compiled for the import's plan (issue 15, speed): the same answer, with less
machinery for the common value.

A form field's `clean(value)` is `to_python`, `validate` and `run_validators`, each a method call
that tests the value's emptiness again; a model field's `clean(value, instance)` is the same three
steps with the model's checks (choices, null, blank). For the plain field classes (a form
`CharField`/`EmailField`; a model `CharField`, `TextField`, `EmailField`, integer or `DateField`) and
a value of the plain type, `form_cleaner` / `model_cleaner` build one function that does the same
tests in one go: Django's own validators are asked as they are (the length, value and null-character
limits read as the comparisons they make, an e-mail's domain verdict kept per domain). Whenever one
of these tests fails, or the value is anything but the plain case, the field's own `clean()` is
called: every error, and every conversion, is still the field's. So a cleaner can only return what
`clean()` would return for a value `clean()` accepts.

kehu/core/tests/test_import_fast_paths.py compares each cleaner with `clean()` on varied good and
bad values (and test_import_plan.py the whole plan with the bound form)."""

from __future__ import annotations

import datetime

from django import forms
from django.core import validators as dv
from django.core.exceptions import ValidationError
from django.db import models

DOMAINS_KEPT = 5000  # e-mail domain verdicts kept per validator and run


def form_cleaner(field):
    """A function equal to `field.clean` for the field's values, or None (the field's own clean)."""
    if type(field) not in (forms.CharField, forms.EmailField) or _overridden(field, ("clean", "to_python", "validate",
                                                                                     "run_validators")):
        return None
    if field.empty_value not in field.empty_values:  # run_validators would then check the empty value
        return None
    checks = _checks(field.validators)
    if checks is None:
        return None
    strip, required, empty_value, slow = field.strip, field.required, field.empty_value, field.clean

    def clean(value):
        if value.__class__ is str:
            v = value.strip() if strip else value
            if v:  # to_python gives v; validate passes a non-empty value; run_validators runs every validator
                for check in checks:
                    if not check(v):
                        return slow(value)
                return v
            if not required:  # to_python gives the empty value; validate and run_validators pass it
                return empty_value
        return slow(value)

    return clean


_MODEL_TYPES = {models.CharField: str, models.TextField: str, models.EmailField: str, models.IntegerField: int,
                models.PositiveIntegerField: int, models.BigIntegerField: int, models.SmallIntegerField: int,
                models.PositiveSmallIntegerField: int, models.PositiveBigIntegerField: int,
                models.DateField: datetime.date}


def model_cleaner(f):
    """A function equal to `f.clean(value, instance)`, or None (the field's own clean)."""
    kind = _MODEL_TYPES.get(type(f))
    if kind is None or not f.editable or _overridden(f, ("clean", "to_python", "validate", "run_validators")):
        return None
    checks = _checks(f.validators)
    if checks is None:
        return None
    keys = None
    if f.choices is not None:
        keys = {key for key, _label in f.flatchoices}
        if not all(key.__class__ is kind for key in keys):
            return None
    slow = f.clean

    def clean(value, instance):
        # the plain type's to_python gives the value itself; a non-empty one passes validate's null and
        # blank tests, and validate's choices test when it is one of them
        if value.__class__ is kind and value != "" and (keys is None or value in keys):
            for check in checks:
                if not check(value):
                    return slow(value, instance)
            return value
        return slow(value, instance)

    return clean


def _overridden(obj, names) -> bool:
    return any(name in obj.__dict__ for name in names)


def _checks(validators):
    """Each validator as a test that is True exactly when the validator lets the value pass."""
    out = []
    for v in validators:
        t = type(v)
        if t in (dv.MaxLengthValidator, dv.MinLengthValidator, dv.MaxValueValidator, dv.MinValueValidator) and \
                not callable(v.limit_value) and "__call__" not in v.__dict__:
            out.append(_limit_check(t, v.limit_value))
        elif t is dv.ProhibitNullCharactersValidator:
            out.append(_no_null)
        elif t is dv.EmailValidator:
            out.append(email_check(v))
        else:
            out.append(_calls(v))
    return out


def _limit_check(t, limit):
    # BaseValidator: raises when compare(clean(value), limit)
    if t is dv.MaxLengthValidator:
        return lambda value: not (len(value) > limit)
    if t is dv.MinLengthValidator:
        return lambda value: not (len(value) < limit)
    if t is dv.MaxValueValidator:
        return lambda value: not (value > limit)
    return lambda value: not (value < limit)


def _no_null(value) -> bool:
    return "\x00" not in str(value)


def _calls(validator):
    def check(value) -> bool:
        try:
            validator(value)
        except ValidationError:
            return False
        return True

    return check


def email_check(validator):
    """EmailValidator.__call__ as a test, the domain part's verdict (validate_domain_part: its regexes
    and the address literal's check, the value alone) kept per domain (DOMAINS_KEPT of them). Also
    kehu.customers.normalize.normalize_email's."""
    user_match = validator.user_regex.match
    domains: dict[str, bool] = {}

    def check(value) -> bool:
        if not value or "@" not in value or len(value) > 320:
            return False
        user_part, domain_part = value.rsplit("@", 1)
        if not user_match(user_part):
            return False
        ok = domains.get(domain_part)
        if ok is None:
            ok = domain_part in validator.domain_allowlist or bool(validator.validate_domain_part(domain_part))
            if len(domains) < DOMAINS_KEPT:
                domains[domain_part] = ok
        return ok

    return check


def fk_setter(model, f):
    """A function equal to `f.save_form_data(instance, value)` for a foreign key (the forward
    descriptor's `__set__`: the id and the cached object, the instance's database from the value's), or
    None. Anything but None or a saved object of the related model itself on a new instance goes through
    the descriptor."""
    from django.db import router
    from django.db.models.fields.related_descriptors import (
        ForeignKeyDeferredAttribute,
        ForwardManyToOneDescriptor,
    )

    if not isinstance(f, models.ForeignKey) or type(f).save_form_data is not models.Field.save_form_data or \
            type(model.__dict__.get(f.name)) is not ForwardManyToOneDescriptor or \
            type(model.__dict__.get(f.attname)) is not ForeignKeyDeferredAttribute or \
            not f.remote_field.multiple or len(f.related_fields) != 1 or router.routers:
        return None
    attname, cache_name = f.attname, f.cache_name
    remote = f.remote_field.model._meta.concrete_model
    target = f.related_fields[0][1].attname
    slow = f.save_form_data

    def set_value(instance, value):
        state = instance._state
        cache = state.fields_cache
        if value is None:
            if cache.get(cache_name) is not None:  # an object cached before: the descriptor clears its side
                return slow(instance, value)
            instance.__dict__[attname] = None
            cache[cache_name] = None
            return None
        db = value._state.db if value.__class__ is remote else None
        if not db or target not in value.__dict__ or (state.db is not None and state.db != db):
            return slow(instance, value)
        state.db = db  # router.db_for_write(instance=value) without routers: the value's database
        instance.__dict__[attname] = value.__dict__[target]
        cache[cache_name] = value
        return None

    return set_value
