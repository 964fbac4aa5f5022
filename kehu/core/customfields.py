"""Custom fields: definitions in `CustomField`, values in each record's `custom_fields` JSON.

They reach forms (validated like built-in fields), detail pages, list columns, filters
(`cf_<name>`), the API and exports from this one module.
"""

from __future__ import annotations

import datetime
import time
from decimal import Decimal, InvalidOperation

import django_filters
from django import forms
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.html import conditional_escape
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .models import CustomField

_CACHE: dict[str, tuple[float, list[CustomField]]] = {}
_TTL = 10.0  # seconds; other processes pick up a change within this time


def fields_for(record_type: str) -> list[CustomField]:
    hit = _CACHE.get(record_type)
    now = time.monotonic()
    if hit and now - hit[0] < _TTL:
        return hit[1]
    fields = list(CustomField.objects.filter(record_type=record_type).order_by("order", "id"))
    _CACHE[record_type] = (now, fields)
    return fields


@receiver([post_save, post_delete], sender=CustomField)
def _invalidate(**kwargs):
    _CACHE.clear()


def choice_pairs(cf: CustomField):
    out = []
    for item in cf.choices or []:
        if isinstance(item, dict):
            label = item.get("label_en") if (get_language() or "").startswith("en") and item.get("label_en") else item.get("label")
            out.append((str(item.get("value")), label or str(item.get("value"))))
        else:
            out.append((str(item), str(item)))
    return out


def form_field(cf: CustomField) -> forms.Field:
    # Escaped here as well as by the templates: Django's own form templates print help_text with
    # help_text unescaped (it is meant for the developer's markup), and this text is an administrator's.
    common = {"label": cf.display_label, "required": cf.required, "help_text": conditional_escape(cf.help_text)}
    t = cf.field_type
    if t == CustomField.Type.LONGTEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, **common)
    if t == CustomField.Type.INTEGER:
        return forms.IntegerField(**common)
    if t == CustomField.Type.DECIMAL:
        return forms.DecimalField(max_digits=20, decimal_places=4, **common)
    if t == CustomField.Type.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if t == CustomField.Type.BOOLEAN:
        return forms.BooleanField(**common)
    if t == CustomField.Type.CHOICE:
        return forms.ChoiceField(choices=[("", "---------")] + choice_pairs(cf), **common)
    if t == CustomField.Type.MULTICHOICE:
        return forms.MultipleChoiceField(choices=choice_pairs(cf), widget=forms.CheckboxSelectMultiple, **common)
    return forms.CharField(max_length=255, **common)


def to_json(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value in ("", None, []):
        return None
    return value


def from_json(cf: CustomField, value):
    """Stored JSON value -> Python value for a form's initial data."""
    if value is None:
        return None
    try:
        if cf.field_type == CustomField.Type.DATE:
            return datetime.date.fromisoformat(value)
        if cf.field_type == CustomField.Type.DECIMAL:
            return Decimal(str(value))
    except (ValueError, InvalidOperation):
        return None
    return value


def display(cf: CustomField, value) -> str:
    if value in (None, "", []):
        return ""
    if cf.field_type == CustomField.Type.BOOLEAN:
        return str(_("Yes") if value else _("No"))
    if cf.field_type in (CustomField.Type.CHOICE, CustomField.Type.MULTICHOICE):
        labels = dict(choice_pairs(cf))
        values = value if isinstance(value, list) else [value]
        return ", ".join(str(labels.get(str(v), v)) for v in values)
    return str(value)


class CustomFieldsFormMixin:
    """Adds `cf_<name>` fields to a ModelForm and stores them in instance.custom_fields."""

    record_type: str = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_field_defs = fields_for(self.record_type or self._meta.model._meta.label_lower)
        stored = getattr(self.instance, "custom_fields", None) or {}
        for cf in self.custom_field_defs:
            self.fields[cf.key] = form_field(cf)
            if cf.name in stored:
                self.initial.setdefault(cf.key, from_json(cf, stored[cf.name]))

    def _post_clean(self):
        self.custom_fields_to_instance()
        super()._post_clean()

    def custom_fields_to_instance(self):
        """The cleaned custom fields into the instance's JSON (imports call this for each row)."""
        values = dict(getattr(self.instance, "custom_fields", None) or {})
        for cf in self.custom_field_defs:
            if cf.key in self.cleaned_data:
                values[cf.name] = to_json(self.cleaned_data[cf.key])
        self.instance.custom_fields = {k: v for k, v in values.items() if v is not None}


def add_filters(filterset, record_type: str):
    """Add a `cf_<name>` filter per custom field to a FilterSet instance."""
    for cf in fields_for(record_type):
        lookup = f"custom_fields__{cf.name}"
        t = cf.field_type
        if t in (CustomField.Type.TEXT, CustomField.Type.LONGTEXT):
            f = django_filters.CharFilter(field_name=lookup, lookup_expr="icontains", label=cf.display_label)
        elif t == CustomField.Type.INTEGER:
            f = django_filters.NumberFilter(field_name=lookup, label=cf.display_label,
                                            method=_integer_method(lookup))
        elif t == CustomField.Type.DECIMAL:
            f = django_filters.CharFilter(field_name=lookup, label=cf.display_label)
        elif t == CustomField.Type.BOOLEAN:
            f = django_filters.BooleanFilter(field_name=lookup, label=cf.display_label)
        elif t == CustomField.Type.CHOICE:
            f = django_filters.ChoiceFilter(field_name=lookup, choices=choice_pairs(cf), label=cf.display_label)
        elif t == CustomField.Type.MULTICHOICE:
            f = django_filters.ChoiceFilter(
                field_name=lookup, choices=choice_pairs(cf), label=cf.display_label,
                method=_multichoice_method(lookup),
            )
        else:  # date
            f = django_filters.DateFilter(field_name=lookup, label=cf.display_label, method=_date_method(lookup))
        f.model = filterset.queryset.model
        f.parent = filterset
        f.pure = False  # its SQL follows the field's definition too, which an administrator may change
        filterset.filters[cf.key] = f


def _multichoice_method(lookup):
    def method(queryset, name, value):
        # JSON lists render as ["a", "b"] (PostgreSQL) or ["a","b"] (SQLite): match the quoted item.
        return queryset.filter(**{f"{lookup}__icontains": f'"{value}"'}) if value else queryset

    return method


def _integer_method(lookup):
    def method(queryset, name, value):
        # NumberFilter gives a Decimal; the JSON holds an int, and Decimal('42') does not match it
        if value is None:
            return queryset
        if value != int(value):
            return queryset.none()
        return queryset.filter(**{lookup: int(value)})

    return method


def _date_method(lookup):
    def method(queryset, name, value):
        return queryset.filter(**{lookup: value.isoformat()}) if value else queryset

    return method
