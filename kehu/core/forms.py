"""Base forms: every record form gets custom fields, tags, the current user and Bootstrap widgets."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .customfields import CustomFieldsFormMixin
from .widgets import AutocompleteSelect

DATE_YEARS = (1000, 9998)


def check_date_range(value):
    """Dates and times of every form (and so of every API payload) lie between the years 1000 and
    9998: shown in any time zone or moved by a few days, they stay within Python's range (a
    `9999-12-31T23:59:59-12:00` used to raise OverflowError, a 500)."""
    import datetime

    from django.core.exceptions import ValidationError

    if value is None:
        return
    try:
        if isinstance(value, datetime.datetime) and value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
        ok = DATE_YEARS[0] <= value.year <= DATE_YEARS[1]
    except (OverflowError, ValueError):
        ok = False
    if not ok:
        raise ValidationError(_("Enter a date between the years %(min)s and %(max)s.") % {
            "min": DATE_YEARS[0], "max": DATE_YEARS[1]}, code="date_range")


class OneQueryChoiceIterator(forms.models.ModelChoiceIterator):
    """A model choice field's options read with one plain SELECT. Django's iterator reads them
    through `QuerySet.iterator()`, which on PostgreSQL opens a server-side cursor (DECLARE … WITH
    HOLD, FETCH, CLOSE), and `list()` of it counts the rows first: ~3 ms of every opportunity list
    page for a dozen stages (docs/benchmarks.md, stop 47). A field whose table is large uses
    `AutocompleteSelect`, which never lists its choices. Set on Django's and django-filter's model
    choice fields in `CoreConfig.ready` (their documented `iterator` attribute)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        null_label = getattr(self.field, "null_label", None)  # django-filter's "none" choice
        if null_label is not None:
            yield (self.field.null_value, null_label)
        for obj in self.queryset.all():
            yield self.choice(obj)

    def __len__(self):
        return len(self.queryset.all()) + (self.field.empty_label is not None) + \
            (getattr(self.field, "null_label", None) is not None)


def use_one_query_choices():
    """Every model choice field of forms and filter sets lists its options with one SELECT."""
    import django_filters.fields

    forms.ModelChoiceField.iterator = OneQueryChoiceIterator
    django_filters.fields.ModelChoiceField.iterator = OneQueryChoiceIterator
    django_filters.fields.ModelMultipleChoiceField.iterator = OneQueryChoiceIterator


class BootstrapMixin:
    """Tabler/Bootstrap classes on every widget."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")
            if isinstance(widget, forms.DateInput):
                widget.input_type = "date"
                widget.format = "%Y-%m-%d"
            if isinstance(widget, forms.Textarea):
                widget.attrs.setdefault("rows", 3)
            if isinstance(field, (forms.DateField, forms.DateTimeField)) and check_date_range not in field.validators:
                field.validators.append(check_date_range)


_constrained: dict = {}


def constrained_fields(model) -> frozenset:
    """The fields a model's constraints or unique_together name (a form must not leave those out
    of the model's validation)."""
    if model not in _constrained:
        names = set()
        for constraint in model._meta.constraints:
            names |= set(getattr(constraint, "fields", ()) or ())
            condition = getattr(constraint, "condition", None)
            if condition is not None:
                names |= {ref.split("__")[0] for ref in condition.referenced_base_fields}
        for group in model._meta.unique_together:
            names |= set(group)
        _constrained[model] = frozenset(names)
    return _constrained[model]


class PreloadedModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that first looks a value up in `preloaded` ({pk: row}): rows read in one
    query for many forms at once (the lines of a document posted together) from this field's own
    queryset (`preload_rows`); anything else is read from the queryset as usual."""

    preloaded: dict | None = None

    def to_python(self, value):
        if self.preloaded and value not in self.empty_values:
            try:
                row = self.preloaded.get(int(value))
            except (TypeError, ValueError):
                row = None
            if row is not None:
                return row
        return super().to_python(value)


class DictChoiceIterator(forms.models.ModelChoiceIterator):
    def __iter__(self):
        if not self.field.from_cache:
            yield from super().__iter__()
            return
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for item in self.field.cached_items():
            yield self.choice(item)

    def __len__(self):
        if not self.field.from_cache:
            return super().__len__()
        return len(self.field.cached_items()) + (self.field.empty_label is not None)

    def __bool__(self):
        if not self.field.from_cache:
            return super().__bool__()
        return self.field.empty_label is not None or bool(self.field.cached_items())


class DictItemChoiceField(forms.ModelChoiceField):
    """A data dictionary value (`kehu.core.fields.dict_fk`): offered and validated from the
    dictionary's cache (kehu.core.dictionary, the lists' cache), not by a query per field and form.
    A customer's form has six such fields: each built its queryset from `limit_choices_to` for
    every form (2 ms of an API edit) and read its values to render and to validate (5 queries per
    edit page). The rule is the model field's: active values of the field's list. A queryset set
    on the field after it was built (a form narrowing the choices) is read as usual."""

    iterator = DictChoiceIterator

    def __init__(self, queryset, *, limit_choices_to=None, **kwargs):
        limit = dict(limit_choices_to or {})
        self.kind = limit.get("kind", "")
        super().__init__(queryset.filter(**limit), **kwargs)
        self.from_cache = set(limit) == {"kind", "active"} and limit["active"] is True

    def _set_queryset(self, queryset):
        forms.ModelChoiceField._set_queryset(self, queryset)
        self.from_cache = False  # narrowed by a form: its own queryset decides

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)  # sets the copy's queryset
        result.from_cache = self.from_cache
        return result

    def cached_items(self) -> list:
        from .dictionary import items_by_id

        items = [item for item in items_by_id().values() if item.kind == self.kind and item.active]
        items.sort(key=lambda item: (item.order, item.pk))  # DictItem's ordering within a list
        return items

    def to_python(self, value):
        if not self.from_cache or value in self.empty_values:
            return super().to_python(value)
        from .dictionary import items_by_id
        from .models import DictItem

        if isinstance(value, DictItem):
            value = value.pk
        try:
            pk = int(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError, OverflowError):
            pk = None
        item = items_by_id().get(pk) if pk is not None else None
        if item is None:  # unknown, or added since the cache was filled: the queryset decides
            return super().to_python(value)
        if item.kind != self.kind or not item.active:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                        params={"value": value})
        return item


class VisibleChoiceField(forms.ModelChoiceField):
    """A foreign key chosen among the records the form's user sees (`choose_visible`). The chosen
    row is read by id through the record type's compiled read (kehu/core/reads.py: read_one, a
    prepared statement on PostgreSQL) instead of building and compiling `visible_to(user).get()`:
    a follow-up's customer, contact and opportunity were a third of its POST's Python time."""

    visible_to_user = None  # set by choose_visible, with the queryset it set
    visible_queryset = None

    def to_python(self, value):
        from .reads import read_one
        from .registry import registry

        if value in self.empty_values:
            return None
        model = self.queryset.model
        rt = registry.for_model(model)
        if self.to_field_name not in (None, model._meta.pk.name) or rt is None or self.queryset is not self.visible_queryset:
            return super().to_python(value)  # narrowed since, or not a record type: the queryset decides
        if isinstance(value, model):
            value = value.pk
        try:
            pk = int(str(value).strip()) if not isinstance(value, bool) else None
        except (TypeError, ValueError, OverflowError):
            pk = None
        found = read_one(rt, self.visible_to_user, pk) if pk is not None else None
        if found is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                        params={"value": value})
        return found


class OwnerChoiceField(forms.ModelChoiceField):
    """A record's owner (KehuModelForm.setup_owner_field): the user filling in the form is among
    the users they may assign to (active, in their own scope), so choosing themselves (a new
    record's default owner) is answered with that user instead of a query."""

    assigner = None

    def to_python(self, value):
        user = self.assigner
        if user is not None and user.is_active and value not in self.empty_values and str(value).strip() == str(user.pk):
            return user
        return super().to_python(value)


def choose_visible(field, model, user) -> None:
    """`field` (a ModelChoiceField) chooses among the records of `model` that `user` sees: the
    widget lists them, and the chosen one is read through the data scope (VisibleChoiceField)."""
    field.queryset = model.objects.visible_to(user)
    if type(field) is forms.ModelChoiceField:
        field.__class__ = VisibleChoiceField
        field.visible_to_user, field.visible_queryset = user, field.queryset


def resolves_choice(field) -> bool:
    """A form field that reads the chosen row itself (from its queryset, preloaded rows, the
    dictionary's cache or the scope's compiled read): the model's own check of that foreign key
    would read it again."""
    return type(field) in (forms.ModelChoiceField, VisibleChoiceField, OwnerChoiceField) or \
        isinstance(field, (PreloadedModelChoiceField, DictItemChoiceField))


def preload_rows(queryset, pks) -> dict:
    """{pk: row} of the rows of `queryset` among `pks` (ignoring what is not a number), in one
    query: the `preloaded` of a PreloadedModelChoiceField shared by many forms."""
    wanted = set()
    for pk in pks:
        try:
            pk = int(pk)
        except (TypeError, ValueError, OverflowError):
            continue
        if 0 < pk < 2**63:  # a key the database can compare (larger ones overflow its integers)
            wanted.add(pk)
    return {row.pk: row for row in queryset.filter(pk__in=wanted)} if wanted else {}


class KehuFormMixin(BootstrapMixin):
    """Record forms know the user they are filled in by (scope of choices, created_by)."""

    _checking_unique = False

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def _get_validation_exclusions(self):
        """A foreign key the form's ModelChoiceField resolved has been read from the field's
        queryset (the model's default manager or the user's scope: at least as strict as the
        model's own check, which reads the base manager), so the model's `full_clean()` does not
        query for it a second time. Uniqueness and constraints are still checked with it: fields a
        constraint names keep the model's check, and `validate_unique` sees the plain exclusions."""
        excluded = super()._get_validation_exclusions()
        if not self._checking_unique:
            from django.db import models

            constrained = constrained_fields(self._meta.model)
            for name, field in self.fields.items():
                if resolves_choice(field) and name not in constrained and isinstance(self.cleaned_data.get(name), models.Model):
                    excluded.add(name)
        return excluded

    def validate_unique(self):
        self._checking_unique = True
        try:
            super().validate_unique()
        finally:
            self._checking_unique = False

    def __getitem__(self, name):
        bound = super().__getitem__(name)
        widget = bound.field.widget
        # a widget swapped in after the field was built does not know the field's queryset;
        # the autocomplete needs it to render the chosen row
        if isinstance(widget, AutocompleteSelect) and getattr(widget.choices, "queryset", None) is None:
            widget.choices = bound.field.choices
        return bound


class KehuModelForm(KehuFormMixin, CustomFieldsFormMixin, forms.ModelForm):
    """ModelForm for KehuModel records: custom fields, tags, created_by/updated_by."""

    tags_text = forms.CharField(
        label=_("Tags"), required=False, max_length=500, help_text=_("Separate tags with commas.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "tags_text" not in self.initial:
            # read with the record where it was (the API's PATCH on PostgreSQL), else queried
            self.initial["tags_text"] = ", ".join(self.instance.tag_name_list())
        self.fields["tags_text"].widget.attrs.setdefault("class", "form-control")
        if "owner" in self.fields:
            self.setup_owner_field()
        self.setup_state_field()

    def setup_state_field(self):
        """A workflow's state changes only through its transitions (kehu/core/workflow.py): an
        existing record's form has no state field; a new record starts in the initial state, or in
        one the record type's workflow lets a record be created in."""
        from .registry import registry

        rt = registry.for_model(self._meta.model)
        workflow = rt.workflow if rt is not None else None
        if workflow is None:
            return
        if self.instance.pk:
            self.fields.pop(workflow.field, None)
            self.locked_fields = workflow.locked_fields(self.instance, list(self.fields))
            for name in self.locked_fields:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Not editable while the record is “%(state)s”.") % {
                    "state": workflow.state_label(workflow.state(self.instance), self.instance)}
        elif workflow.field in self.fields:
            workflow.limit_initial(self.fields[workflow.field])

    def setup_owner_field(self):
        """The owner is given only by users with the assign right (kehu/core/assignment.py): for
        anyone else the field is read-only and a submitted owner is refused in `clean()`. Those
        who may assign choose among the active users of their data scope."""
        from .assignment import assignable_users, can_assign, record_type

        field = self.fields["owner"]
        self.may_assign = self.user is None or can_assign(self.user, record_type(self._meta.model))
        if self.user is None:  # a job or the shell: any active user
            from kehu.accounts.models import User

            field.queryset = User.objects.filter(is_active=True).order_by("username")
            return
        field.queryset = assignable_users(self.user, keep=self.instance.owner_id)  # the current owner stays valid
        if type(field) is forms.ModelChoiceField:
            field.__class__ = OwnerChoiceField
            field.assigner = self.user
        if not self.may_assign:
            field.disabled = True
            field.help_text = _("Only users with the assign right can give this record to someone else.")
            if not self.instance.pk and self.instance.owner_id is None:
                self.instance.owner = self.user
                self.initial["owner"] = self.user.pk

    locked_fields: set[str] = set()

    def clean(self):
        data = super().clean()
        for name in self.locked_fields:  # a frozen state (Workflow.frozen): a changed value is refused
            field = self.fields[name]
            field.disabled = False
            try:
                changed = field.has_changed(self.get_initial_for_field(field, name),
                                            field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name)))
            finally:
                field.disabled = True
            if changed and self.add_prefix(name) in self.data:
                self.add_error(name, self.fields[name].help_text)
        if "owner" in self.fields and self.fields["owner"].disabled:
            submitted = self.data.get(self.add_prefix("owner"))
            current = self.instance.owner_id
            if submitted is not None and str(submitted) != ("" if current is None else str(current)):
                self.add_error("owner", _("You do not have the right to assign this record to another user."))
        return data

    def clean_tags_text(self):
        raw = self.cleaned_data.get("tags_text") or ""
        return [t.strip() for t in raw.replace("，", ",").split(",") if t.strip()]

    def prepare_instance(self, obj):
        """Fill what the form derives before saving (a hook for record forms)."""

    def save(self, commit=True):
        obj = super().save(commit=False)
        if self.user is not None and self.user.is_authenticated:
            if not obj.pk:
                obj.created_by = self.user
            obj.updated_by = self.user
        self.prepare_instance(obj)
        if commit:
            obj.save()
            self.save_m2m()
            if "tags_text" in self.data:
                obj.set_tags(self.cleaned_data["tags_text"])
        return obj


class PlainModelForm(KehuFormMixin, forms.ModelForm):
    """For administrative models without owner/custom fields (roles, departments, users)."""
