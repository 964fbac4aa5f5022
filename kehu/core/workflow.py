"""Workflows: the states of a record, the transitions between them, who may take each, what each
needs and what it does. One declaration drives the buttons on the detail page, the dialog that asks
for what a transition needs, `POST /api/v1/<type>/<id>/transitions/<name>`, the transition log on the
History tab and the customer's timeline, and the generic tests that walk every transition.

    class TaskWorkflow(Workflow):
        field = "status"
        transitions = (
            Transition("start", _("Start"), source=("todo",), target="doing"),
            Transition("complete", _("Complete"), source=("todo", "doing"), target="done",
                       fields=("completion_note",)),
            Transition("cancel", _("Cancel"), source=("todo", "doing"), target="cancelled", comment=REQUIRED),
            Transition("reopen", _("Reopen"), source=("done", "cancelled"), target="todo"),
        )

    class TaskType(RecordType):
        workflow = TaskWorkflow()

Taking a transition (`workflow.take(obj, name, user, data)`) is all or nothing, in one transaction
on the locked row:
- the user needs the transition's right (PermissionDenied: 403);
- the record must be in one of its source states now, and its guard must not object
  (TransitionRefused: 409 naming the current state; nothing changed);
- what it needs is validated like a form: the target when there is a choice (`to`), its fields,
  the comment (ValidationError naming the field: 422; nothing changed);
- then the state is set, the transition's `run(obj, user, ctx)` does what the transition means
  (a service function: it may still refuse with a ValidationError, which rolls everything back),
  the record is saved (version + change log) and a `TransitionLog` row is written.

The state field is never a free form field: record forms leave it out and set the initial state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

NONE, OPTIONAL, REQUIRED = "none", "optional", "required"


class TransitionRefused(Exception):
    """The transition cannot be taken in the record's current state (HTTP 409)."""

    def __init__(self, message: str, state: str, state_label: str, allowed: list[str]):
        super().__init__(message)
        self.message = message
        self.state = state
        self.state_label = state_label
        self.allowed = allowed


@dataclass(frozen=True)
class Transition:
    name: str
    label: Any
    source: tuple = ()  # states or state groups it can be taken from; () = any state
    target: str = ""  # a state, or a group of states the user chooses among (`to`)
    right: str = "edit"  # an action of the record type's module, or "module.action"
    fields: tuple = ()  # model fields the transition asks for
    required: tuple = ()  # of those, the ones that must be filled in
    comment: str = OPTIONAL  # NONE, OPTIONAL or REQUIRED
    guard: Callable | None = None  # (obj, user) -> None, or the reason it cannot be taken now
    run: Callable | None = None  # (obj, user, ctx) -> None: what it does, before the save
    after: Callable | None = None  # (obj, user, ctx) -> None: after the save (notify, move children)
    help: Any = ""
    style: str = "outline-secondary"
    icon: str = "ti-arrow-right"
    # when its guard objects, the button is still shown, disabled, with the reason (a prerequisite
    # the user can fill in: a contract's signing date), instead of being left out
    explain: bool = False


@dataclass
class Context:
    """What a transition's run/after functions get."""

    transition: Transition
    from_state: str
    to_state: str
    comment: str = ""
    data: dict = field(default_factory=dict)  # the validated fields
    log: dict = field(default_factory=dict)  # extra facts to keep in the transition log


def input_form_class(model, spec, extra: dict | None = None, name: str = "TransitionForm") -> type[forms.Form]:
    """The form of what a transition or a record action (`spec`: its fields, required, comment)
    asks for: the model's own form fields, then the comment; `extra` fields first."""
    from .forms import BootstrapMixin

    attrs: dict[str, Any] = dict(extra or {})
    for field_name in spec.fields:
        formfield = model._meta.get_field(field_name).formfield()
        formfield.required = field_name in spec.required
        attrs[field_name] = formfield
    if spec.comment != NONE:
        attrs["comment"] = forms.CharField(
            label=gettext_lazy("Comment"), required=spec.comment == REQUIRED, max_length=2000,
            widget=forms.Textarea(attrs={"rows": 3}))
    return type(name, (BootstrapMixin, forms.Form), attrs)


def current_values(model, spec, obj) -> dict:
    """The record's values of the fields `spec` asks for (the dialog's initial values)."""
    return {name: getattr(obj, model._meta.get_field(name).attname) for name in spec.fields}


class Workflow:
    field: str = "status"  # the model field that holds the state
    transitions: tuple[Transition, ...] = ()
    on_timeline: bool = True  # its log appears on the customer's timeline (when the record has one)
    # states (or groups) in which the record is read-only but for the fields named: a delivered
    # order keeps only its notes editable, {"delivered": ("notes",), "cancelled": ("notes",)};
    # the edit form disables the others and refuses a changed value (UI: on the field; API: 422)
    frozen: dict[str, tuple[str, ...]] = {}

    def __init__(self):
        self.rt = None
        names = [t.name for t in self.transitions]
        if len(names) != len(set(names)):
            raise ValueError(f"{type(self).__name__}: transition names must be unique")

    def bind(self, rt) -> None:
        self.rt = rt
        self.model = rt.model
        self.model_field = rt.model._meta.get_field(self.field)
        if self.on_timeline and any(f.name == "customer" for f in rt.model._meta.fields):
            from . import timeline

            _ON_TIMELINE[rt.key] = self
            timeline.register("transitions", right=None)(transition_events)

    def timeline_event(self, row, obj):
        from . import timeline

        t = self.get(row.transition)
        names = {"type": self.rt.label, "record": obj, "transition": self.transition_label(row.transition),
                 "from": self.state_label(row.from_state, obj), "to": self.state_label(row.to_state, obj)}
        if row.from_state:
            title = _("%(type)s “%(record)s”: %(transition)s (%(from)s → %(to)s)") % names
        else:  # a state an import wrote: it came with the record
            title = _("%(type)s “%(record)s”: %(transition)s (%(to)s)") % names
        icon = t.icon if t else "ti-file-import" if row.transition == "import" else "ti-arrow-right"
        return timeline.Event(row.at, "transition", title, body=row.comment, url=self.rt.get_absolute_url(obj),
                              actor=row.by_id, icon=icon, id=row.pk, source="transitions")

    # --- states -----------------------------------------------------------------
    def states(self, obj=None) -> list[tuple[str, str]]:
        """(value, label) of every state, in order; `obj` keeps its current state listed."""
        return [(str(v), str(label)) for v, label in self.model_field.choices]

    def group(self, state: str, obj=None) -> str:
        """The group a state belongs to (a won stage → "won"); by default the state itself."""
        return state

    def state(self, obj) -> str:
        value = getattr(obj, self.model_field.attname)
        return "" if value is None else str(value)

    def set_state(self, obj, value: str) -> None:
        setattr(obj, self.model_field.attname, self.model_field.to_python(value))

    def state_label(self, value: str, obj=None) -> str:
        return dict(self.states(obj)).get(str(value), str(value))

    def initial_state(self) -> str:
        default = self.model_field.get_default()
        return "" if default is None else str(default)

    def limit_initial(self, formfield) -> None:
        """The states a new record may be created in (its form field's choices): by default the
        field keeps its choices (a record type whose form offers the state on creation)."""

    def matches(self, state: str, spec, obj=None) -> bool:
        return not spec or state in spec or self.group(state, obj) in spec

    # --- transitions ----------------------------------------------------------------
    def get(self, name: str) -> Transition | None:
        return next((t for t in self.transitions if t.name == name), None)

    def targets(self, t: Transition, obj) -> list[tuple[str, str]]:
        """The states `t` can lead `obj` to now."""
        current = self.state(obj)
        return [(v, label) for v, label in self.states(obj)
                if (v == t.target or self.group(v, obj) == t.target) and v != current]

    def locked_fields(self, obj, names) -> set[str]:
        """Of the form fields `names`, those `obj`'s current state does not let anyone change."""
        state = self.state(obj)
        for key, keep in self.frozen.items():
            if key == state or self.group(state, obj) == key:
                return {n for n in names if n not in keep and n != "tags_text" and not n.startswith("cf_")}
        return set()

    def may(self, user, t: Transition) -> bool:
        if user is None:  # the system: a scheduled job (expiring quotations), a service's own step
            return True
        module, _sep, action = t.right.rpartition(".")
        return user.has_right(module or self.rt.module, action)

    def refusal(self, obj, user, t: Transition) -> str | None:
        """Why `t` cannot be taken now (None: it can)."""
        current = self.state(obj)
        if not self.matches(current, t.source, obj):
            return _("“%(transition)s” is not possible while the %(type)s is “%(state)s”.") % {
                "transition": t.label, "type": self.rt.label.lower(), "state": self.state_label(current, obj)}
        if t.guard is not None:
            reason = t.guard(obj, user)
            if reason:
                return str(reason)
        if not self.targets(t, obj):
            return _("There is no state “%(transition)s” can lead to.") % {"transition": t.label}
        return None

    def offered(self, obj, user) -> tuple[list[Transition], list[tuple[Transition, str]]]:
        """(the transitions this user may take on this record now: the buttons; the `explain`
        transitions they may take from its state but whose guard objects now, with the reason:
        the disabled buttons). Each guard is asked once: a guard may read the database."""
        current = self.state(obj)
        available, blocked = [], []
        for t in self.transitions:
            if not (self.may(user, t) and self.matches(current, t.source, obj)):
                continue
            reason = t.guard(obj, user) if t.guard is not None else None
            if reason:
                if t.explain:
                    blocked.append((t, str(reason)))
            elif self.targets(t, obj):
                available.append(t)
        return available, blocked

    def available(self, obj, user) -> list[Transition]:
        """The transitions this user may take on this record now (the buttons)."""
        return self.offered(obj, user)[0]

    def blocked(self, obj, user) -> list[tuple[Transition, str]]:
        """The `explain` transitions this user may take from the record's state but whose guard
        objects now, with the reason (shown as disabled buttons)."""
        return self.offered(obj, user)[1]

    def transition_to(self, obj, target: str) -> Transition | None:
        """The transition that leads `obj` to the state `target` (the pipeline board's drop)."""
        current = self.state(obj)
        for t in self.transitions:
            if self.matches(current, t.source, obj) and any(v == str(target) for v, _l in self.targets(t, obj)):
                return t
        return None

    def transition_label(self, name: str) -> str:
        """A logged transition's label: a declared one's, "Imported" for a state an import wrote
        (kehu/core/imports/base.py, PastState), else its name (a transition since removed)."""
        t = self.get(name)
        if t is not None:
            return t.label
        return pgettext("transition", "Imported") if name == "import" else name

    # --- what a transition asks for -------------------------------------------------
    def form_class(self, t: Transition, obj) -> type[forms.Form]:
        attrs: dict[str, Any] = {}
        if obj is None:  # the API's input schema: any state, checked when taken
            attrs["to"] = forms.CharField(label=pgettext_lazy("target state", "To"), required=False, help_text=gettext_lazy(
                "The state to move to, when the transition leads to several."))
        else:
            targets = self.targets(t, obj)
            if len(targets) > 1:
                attrs["to"] = forms.ChoiceField(label=pgettext_lazy("target state", "To"), choices=[("", "---------"), *targets])
        return input_form_class(self.model, t, attrs)

    def form(self, t: Transition, obj, data=None) -> forms.Form:
        return self.form_class(t, obj)(data=data, initial=current_values(self.model, t, obj))

    def with_current_values(self, t: Transition, obj, data):
        """`data` with the record's current value for each field of `t` that it does not name (the
        API and services send what changes; the dialog sends every field, an emptied one as "")."""
        from .api import to_form_value

        merged = data.copy() if hasattr(data, "copy") else dict(data)
        for name in t.fields:
            if name not in merged:
                merged[name] = to_form_value(getattr(obj, self.model._meta.get_field(name).attname))
        return merged

    # --- taking it ----------------------------------------------------------------------
    def take(self, obj, name: str, user, data=None):
        """Take transition `name` on `obj` for `user` with `data` (the dialog's or the API's
        fields; `to`, `comment`, `version` optional). Returns the saved record."""
        from .assignment import acting_as
        from .models import KehuModel, StaleVersionError

        t = self.get(name)
        if t is None:
            raise ValidationError({"transition": _("Unknown transition “%(name)s”.") % {"name": name}})
        if not self.may(user, t):
            raise PermissionDenied(_("You do not have the right to “%(transition)s”.") % {"transition": t.label})
        data = data if data is not None else {}
        with acting_as(user), transaction.atomic():
            locked = type(obj)._base_manager.select_for_update().get(pk=obj.pk)
            version = data.get("version")
            if version not in (None, "") and isinstance(locked, KehuModel) and str(version) != str(locked.version):
                raise StaleVersionError(locked.version)
            reason = self.refusal(locked, user, t)
            if reason:
                raise TransitionRefused(reason, self.state(locked), self.state_label(self.state(locked), locked),
                                        [x.name for x in self.available(locked, user)])
            form = self.form(t, locked, self.with_current_values(t, locked, data))
            if not form.is_valid():
                raise ValidationError(form.errors.as_data())
            targets = self.targets(t, locked)
            to = form.cleaned_data.get("to") if len(targets) > 1 else targets[0][0]
            from_state = self.state(locked)
            for fname in t.fields:
                setattr(locked, fname, form.cleaned_data.get(fname))
            self.set_state(locked, to)
            ctx = Context(t, from_state, to, (form.cleaned_data.get("comment") or "").strip(),
                          {f: form.cleaned_data.get(f) for f in t.fields})
            if t.run is not None:
                t.run(locked, user, ctx)
            if hasattr(locked, "updated_by_id") and user is not None and user.is_authenticated:
                locked.updated_by = user
            locked.save()
            if t.after is not None:
                t.after(locked, user, ctx)
            self.log(locked, user, ctx)
        # the caller's copy shows the result too (its related objects as the transition left them)
        obj.__dict__.update({k: v for k, v in locked.__dict__.items() if k != "_state"})
        obj._state.fields_cache = dict(locked._state.fields_cache)
        return locked

    def log(self, obj, user, ctx: Context):
        from django.contrib.contenttypes.models import ContentType

        from .models import TransitionLog

        return TransitionLog.objects.create(
            content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk,
            customer_id=getattr(obj, "customer_id", None), transition=ctx.transition.name,
            from_state=ctx.from_state, to_state=ctx.to_state, comment=ctx.comment, data=ctx.log,
            by=user if user is not None and user.is_authenticated else None)

    def history(self, obj, limit: int = 200) -> list:
        """The record's transition log, newest first, with state labels."""
        from django.contrib.contenttypes.models import ContentType

        from .models import TransitionLog

        rows = list(TransitionLog.objects.filter(
            content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk)
            .select_related("by").order_by("-at", "-id")[:limit])
        for row in rows:
            row.label = self.transition_label(row.transition)
            row.from_label = self.state_label(row.from_state, obj) if row.from_state else ""
            row.to_label = self.state_label(row.to_state, obj)
        return rows


# the workflows whose transitions go on the customer's timeline, by record type key
_ON_TIMELINE: dict[str, Workflow] = {}


def transition_events(customer, user, cursor, limit):
    """The customer's timeline provider of every workflow's transitions (one query for all record
    types, not one per workflow): the log rows of the types the user may view, then each type's
    records read through its data scope (a row whose record is out of scope is left out)."""
    from django.contrib.contenttypes.models import ContentType

    from .models import TransitionLog

    workflows = {ContentType.objects.get_for_model(wf.model).pk: wf for wf in _ON_TIMELINE.values()
                 if user is None or user.has_right(wf.rt.module, "view")}
    if not workflows:
        return []
    rows = list(TransitionLog.objects.filter(cursor.older("at", "transitions"), customer_id=customer.pk,
                                             content_type_id__in=list(workflows))
                .order_by("-at", "-id")[:limit])
    found: dict[int, dict] = {}
    for ct in {r.content_type_id for r in rows}:
        wf = workflows[ct]
        records = wf.rt.visible(user) if user is not None else wf.model._default_manager.all()
        found[ct] = records.in_bulk({r.object_id for r in rows if r.content_type_id == ct})
    events = []
    for row in rows:
        obj = found[row.content_type_id].get(row.object_id)
        if obj is not None:
            events.append(workflows[row.content_type_id].timeline_event(row, obj))
    return events
