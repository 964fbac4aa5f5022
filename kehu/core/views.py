"""Generic views, written once and used by every record type through the registry.

list (filters, search, sort on indexed columns, choosable columns, bulk actions, keyset
pagination), detail with tabs, create/edit with HTMX field validation, soft delete to a
recycle bin with restore, CSV/XLSX export, history and attachments.
"""

from __future__ import annotations

import functools
import mimetypes
from urllib.parse import urlencode

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import include, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from .customfields import display as cf_display
from .customfields import fields_for
from .filters import walk_sort
from .models import Attachment, StaleVersionError
from .pagination import InvalidCursor, paginate
from .registry import RecordType, registry


def require(user, rt: RecordType, action: str):
    if not rt.offers(action):  # a read-only record type (kehu/core/actions.py)
        raise PermissionDenied(_("%(module)s are read-only.") % {"module": rt.label_plural})
    if not user.has_right(rt.module, action):
        from kehu.accounts.rights import ACTIONS

        raise PermissionDenied(_("You do not have the right to %(action)s %(module)s.") % {
            "action": ACTIONS.get(action, action), "module": rt.label_plural})


def field_rows(rt: RecordType, obj) -> list[tuple[str, object]]:
    """(label, display value) of a record's fields, custom fields included."""
    from .money import format_money

    rows = []
    for name in rt.get_detail_fields():
        value = rt.detail_value(name, obj)
        if value is not None and rt.is_money(name):
            value = format_money(value)  # ¥1,234.50
        rows.append((rt.field_label(name), value))
    if rt.is_kehu_model:
        for cf in fields_for(rt.record_type_name):
            rows.append((cf.display_label, cf_display(cf, obj.custom_fields.get(cf.name))))
    return rows


class RecordViewMixin(LoginRequiredMixin):
    rt: RecordType = None
    action = "view"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        require(request.user, self.rt, self.action)
        return super().dispatch(request, *args, **kwargs)

    def get_object(self):
        """The record, if it is inside the user's data scope; otherwise 404 (never 403)."""
        return get_object_or_404(self.rt.visible(self.request.user), pk=self.kwargs["pk"])

    def base_context(self, **extra):
        ctx = {"rt": self.rt, "can": self.rights()}
        ctx.update(extra)
        return ctx

    def rights(self) -> dict:
        user, rt = self.request.user, self.rt
        return {a: rt.offers(a) and user.has_right(rt.module, a)
                for a in ("view", "create", "edit", "delete", "export", "assign")}


class RecordListView(RecordViewMixin, View):
    template_name = "core/record_list.html"
    table_template = "core/partials/record_table.html"

    def owned_tab(self) -> bool:
        """True when the list's tab keeps only records that have an owner: the data scope then
        leaves out its public-pool branch (kehu/accounts/scope.py). Views with tabs override it."""
        return False

    def filtered_queryset(self):
        from .filters import InvalidFilters, list_queryset

        self.filter_errors = []
        try:
            self.filterset, qs = list_queryset(self.rt, self.request.user, self.request.GET,
                                               owned=self.owned_tab())
        except InvalidFilters as exc:  # said above the table: never all rows for a filter not applied
            self.filterset = exc.filterset
            fields = self.filterset.form.fields
            self.filter_errors = [(str(fields[name].label) if name in fields else name, " ".join(errors))
                                  for name, errors in exc.message_dict.items()]
            qs = self.rt.visible(self.request.user).none()
        return qs

    def selected_columns(self):
        rt = self.rt
        available = rt.available_columns()
        requested = self.request.GET.getlist("columns")
        prefs = self.request.user.preferences.get("columns", {}) if hasattr(self.request.user, "preferences") else {}
        if requested:
            names = [n for n in requested if n in available]
            if names and prefs.get(rt.key) != names:
                prefs[rt.key] = names
                self.request.user.preferences["columns"] = prefs
                # request.user is a lazy object: type() of it is SimpleLazyObject, not the user model
                get_user_model().objects.filter(pk=self.request.user.pk).update(
                    preferences=self.request.user.preferences
                )
        else:
            names = [n for n in prefs.get(rt.key, []) if n in available] or [
                n for n in rt.default_columns() if n in available
            ]
        return available, [available[n] for n in names]

    def get(self, request, *args, **kwargs):
        rt = self.rt
        qs = self.filtered_queryset()
        sort = walk_sort(rt, request.GET.get("sort"), request.GET)
        fmt = request.GET.get("format")
        available, columns = self.selected_columns()
        if fmt in ("csv", "xlsx"):
            require(request.user, rt, "export")
            # small: streamed now; above KEHU_EXPORT_SYNC_ROWS: a background job (kehu/core/exports_jobs.py)
            from .exports_views import start_from_list

            return start_from_list(request, rt, fmt, qs)
        if request.GET.get("count"):
            from .counts import list_count

            if self.filter_errors:
                return HttpResponse(_("Invalid filter"))
            return HttpResponse(str(list_count(qs)))  # exact up to 10,000, then "about N"
        size = page_size(request.GET.get("per_page"))
        try:
            page = paginate(qs, sort=sort, cursor=request.GET.get("cursor"), size=size)
        except InvalidCursor:
            page = paginate(qs, sort=sort, cursor=None, size=size)
        rt.prepare(page.items)
        params = request.GET.copy()
        for key in ("cursor", "count", "format"):
            params.pop(key, None)
        ctx = self.base_context(
            page=page,
            columns=columns,
            available_columns=available.values(),
            selected_names=[c.name for c in columns],
            filterset=self.filterset,
            filter_errors=self.filter_errors,
            # a term under three characters searched among the newest records only (kehu/core/search.py)
            search_window=max(getattr(self.filterset, "search_notices", None) or [0]),
            sort=sort,
            query=params.urlencode(),
            query_without_sort=urlencode([(k, v) for k, v in params.lists() for v in v if k != "sort"]),
            **self.extra_context(),
        )
        ctx["bulk_actions"] = self.offered_bulk_actions(ctx)
        values = {a.value for a in ctx["bulk_actions"]}
        ctx["bulk_value"] = "user" if "user" in values else "text" if "text" in values else ""
        if request.htmx and request.htmx.target == "record-table":
            return TemplateResponse(request, self.table_template, ctx)
        return TemplateResponse(request, self.template_name, ctx)

    def offered_bulk_actions(self, ctx) -> list:
        """The record type's declared bulk actions the user holds the right for, on this tab."""
        return [a for a in self.rt.get_bulk_actions()
                if ctx["can"].get(a.right) and a.allowed(self.request.user) and a.offered_on(ctx.get("tab"))]

    def extra_context(self):
        return {}


def page_size(value) -> int:
    """`?per_page=` of an HTML list: 1-200; anything else (abc, -5, empty) is the default."""
    try:
        size = int(value)
    except (TypeError, ValueError):
        return settings.KEHU_PAGE_SIZE
    return size if 1 <= size <= 200 else settings.KEHU_PAGE_SIZE


class RecordDetailView(RecordViewMixin, View):
    def get(self, request, *args, **kwargs):
        from .registries import detail_tabs_for

        obj = self.rt.prepare_detail(self.get_object())
        ctx = self.base_context(object=obj, fields=field_rows(self.rt, obj), tab=request.GET.get("tab", "details"),
                                transitions=transition_buttons(self.rt, obj, request.user),
                                record_actions=action_buttons(self.rt, obj, request.user),
                                related_tabs=detail_tabs_for(self.rt.key, request.user),
                                **self.extra_context(obj))
        ctx["related_tab"] = next((t for t in ctx["related_tabs"] if t.key == ctx["tab"]), None)
        return TemplateResponse(request, self.rt.detail_template, ctx)

    def extra_context(self, obj):
        return {}


class RelatedTabView(RecordViewMixin, View):
    """A detail page's tab that another app declared (`registries.detail_tab`): the related records
    of this one, newest first, read through the related record type's data scope and list columns."""

    def get(self, request, *args, **kwargs):
        from .registries import detail_tabs_for

        tab = next((t for t in detail_tabs_for(self.rt.key, request.user) if t.key == kwargs["tab"]), None)
        if tab is None:
            raise Http404
        obj = self.get_object()
        related = registry.get(tab.related)
        available = related.available_columns()
        columns = [available[n] for n in related.list_columns if n in available and n != tab.field]
        qs = related.visible(request.user).filter(**{tab.field: obj})
        if related.list_select_related:
            qs = qs.select_related(*[n for n in related.list_select_related if n != tab.field])
        items = related.prepare(list(qs.order_by("-id")[:tab.limit + 1]))
        more = len(items) > tab.limit
        list_url = reverse(related.url_name("list"))
        filters = related.filterset.base_filters if related.filterset is not None else {}
        ctx = {"rt": related, "tab": tab, "object": obj, "columns": columns, "items": items[:tab.limit],
               "more": more, "list_url": f"{list_url}?{tab.field}={obj.pk}" if tab.field in filters else list_url,
               "can_create": related.offers("create") and request.user.has_right(related.module, "create"),
               "add_url": (f"{reverse(related.url_name('add'))}?{tab.field}={obj.pk}"
                           if related.offers("create") else "")}
        return TemplateResponse(request, "core/partials/related_tab.html", ctx)


class RecordEditView(RecordViewMixin, View):
    """Create (no pk) or edit (pk). `?_validate=<field>` returns just that field, validated (HTMX)."""

    template_name = "core/record_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.action = "edit" if "pk" in kwargs else "create"
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, data=None, files=None, instance=None):
        return self.rt.form(data, files, instance=instance, user=self.request.user)

    def get_instance(self):
        if "pk" in self.kwargs:
            return self.get_object()
        instance = self.rt.model()
        if self.rt.is_kehu_model:
            instance.owner = self.request.user
        return instance

    def get(self, request, *args, **kwargs):
        instance = self.get_instance()
        form = self.get_form(instance=instance)
        if not instance.pk:
            for key, value in request.GET.items():
                if key in form.fields:
                    form.initial[key] = value
            if hasattr(form, "initial_from_query"):  # what the form derives (an opportunity's customer)
                form.initial_from_query()
        return self.render(form, instance)

    def render(self, form, instance, **extra):
        ctx = self.base_context(form=form, object=instance if instance.pk else None, **extra)
        return TemplateResponse(self.request, self.template_name, ctx)

    def post(self, request, *args, **kwargs):
        instance = self.get_instance()
        form = self.get_form(request.POST, request.FILES, instance=instance)
        validate = request.POST.get("_validate")
        if validate:
            form.is_valid()
            if validate not in form.fields:
                raise Http404
            return TemplateResponse(request, "core/partials/form_field.html", {
                "field": form[validate], "validate_errors": form.errors.get(validate)})
        if form.is_valid():
            try:
                with transaction.atomic():
                    obj = self.save(form)
            except StaleVersionError:
                form.add_error(None, _("Someone else changed this record while you were editing. "
                                       "Reload it and apply your change again."))
                return self.render(form, instance)
            except ValidationError as exc:  # a rule of the service layer: shown on its field
                add_errors(form, exc)
                return self.render(form, instance)
            messages.success(request, _("Saved %(label)s “%(obj)s”.") % {"label": self.rt.label, "obj": obj})
            if request.POST.get("_addanother"):
                return HttpResponseRedirect(reverse(self.rt.url_name("add")))
            return HttpResponseRedirect(self.rt.get_absolute_url(obj))
        return self.render(form, instance)

    def save(self, form):
        from .assignment import save_record

        return save_record(self.rt, form, self.request.user)


def add_new_errors(form, exc) -> None:
    """`add_errors` for a form that was validated again: the messages it found itself (the same
    validation that raised `exc`) are not repeated."""
    from django.forms.forms import NON_FIELD_ERRORS

    form.is_valid()
    errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    for field, messages_ in errors.items():
        target = field if field in form.fields else None
        shown = form.errors.get(target or NON_FIELD_ERRORS, [])
        fresh = [m for m in messages_ if m not in shown]
        if fresh:
            form.add_error(target, fresh)


def add_errors(form, exc) -> None:
    """Put a service's ValidationError on the form: on its field if the form has it."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class RecordDeleteView(RecordViewMixin, View):
    action = "delete"

    def get(self, request, *args, **kwargs):
        from .relations import delete_refusals

        obj = self.get_object()
        # a delete a Protect declaration refuses is said in the dialog, before the user confirms
        refusals = list(delete_refusals(self.rt, obj).values())
        return TemplateResponse(request, "core/record_confirm_delete.html",
                                self.base_context(object=obj, refusals=refusals))

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        try:
            delete_record(self.rt, obj, request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(self.rt.get_absolute_url(obj))
        messages.success(request, _("Deleted “%(obj)s”.") % {"obj": obj})
        return HttpResponseRedirect(reverse(self.rt.url_name("list")))


def delete_record(rt: RecordType, obj, user):
    """Soft delete for business records (recycle bin) with the declared cascades, refused by the
    declared protections; hard delete for plain models (kehu/core/relations.py)."""
    from .relations import delete_record as delete

    delete(rt, obj, user)


class RecycleBinView(RecordViewMixin, View):
    action = "delete"

    def get(self, request, *args, **kwargs):
        if not self.rt.is_kehu_model:
            raise Http404
        qs = self.rt.model.all_objects.deleted().visible_to(request.user).select_related("deleted_by")
        page = paginate(qs, sort="-id", cursor=request.GET.get("cursor"), size=settings.KEHU_PAGE_SIZE)
        return TemplateResponse(request, "core/recycle_bin.html", self.base_context(page=page))


class RestoreView(RecordViewMixin, View):
    action = "delete"

    def post(self, request, *args, **kwargs):
        from .relations import restore_record

        obj = get_object_or_404(self.rt.model.all_objects.deleted().visible_to(request.user), pk=kwargs["pk"])
        try:
            restore_record(self.rt, obj, request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(reverse(self.rt.url_name("recycle_bin")))
        messages.success(request, _("Restored “%(obj)s”.") % {"obj": obj})
        return HttpResponseRedirect(self.rt.get_absolute_url(obj))


HISTORY_PAGE = 50  # change-log entries per chunk of a record's history tab


class HistoryView(RecordViewMixin, View):
    """A record's history tab: its status changes, then its change log newest first, HISTORY_PAGE
    entries at a time; "Show older changes" appends the next chunk in place (`?cursor=`, keyset on
    time and id). The whole log at once (up to 200 entries, each a table) took 60 ms of the
    worker for a customer with 121 changes (PostgreSQL at 1M), most of it rendering."""

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        cursor = request.GET.get("cursor") or None
        try:
            page = paginate(history_for(obj), sort="-timestamp", cursor=cursor, size=HISTORY_PAGE)
        except InvalidCursor:
            return HttpResponse(_("This link to older changes is no longer valid. Reload the page."), status=400)
        entries = prepare_history(page.items)
        more_url = f"{reverse(self.rt.url_name('history'), args=[obj.pk])}?{urlencode({'cursor': page.next_cursor})}" \
            if page.has_next else None
        if cursor:  # a later chunk: its entries and the next chunk's button only
            return TemplateResponse(request, "core/partials/history_entries.html", self.base_context(
                object=obj, entries=entries, more_url=more_url, later=True))
        transitions = self.rt.workflow.history(obj) if self.rt.workflow is not None else []
        return TemplateResponse(request, "core/partials/history.html", self.base_context(
            object=obj, entries=entries, transitions=transitions, more_url=more_url))


# --- workflows (kehu/core/workflow.py) ---------------------------------------------------

def transition_buttons(rt: RecordType, obj, user) -> list[dict]:
    """The transitions this user may take on `obj` now, as the detail page shows them: a button,
    or a menu of target states; each posts at once or opens the dialog for what it needs."""
    if rt.workflow is None:
        return []
    out = []
    available, blocked = rt.workflow.offered(obj, user)
    for t in available:
        targets = rt.workflow.targets(t, obj)
        out.append({"t": t, "targets": targets if len(targets) > 1 else [],
                    "dialog": bool(t.fields) or t.comment == "required",
                    "url": reverse(rt.url_name("transition"), args=[obj.pk, t.name])})
    out += [{"t": t, "blocked": reason} for t, reason in blocked]
    return out


def action_buttons(rt: RecordType, obj, user) -> list[dict]:
    """The record type's actions (kehu/core/actions.py) this user may run on `obj` now."""
    if not rt.actions:
        return []
    from . import actions

    return [{"t": a, "targets": [], "dialog": actions.asks_input(a),
             "url": reverse(rt.url_name("action"), args=[obj.pk, a.name])} for a in actions.available(rt, obj, user)]


class RecordDialogView(RecordViewMixin, View):
    """A record's operation that may ask for input: GET the dialog (an HTMX fragment, or a page),
    POST to run it; then back to the record, or the dialog again with the errors on its fields.
    Subclasses say what `name` is (a workflow transition, a record action) and how it runs."""

    url_action = ""  # the URL name's action: "transition", "action"

    def spec(self):
        raise NotImplementedError

    def may(self, spec) -> bool:
        raise NotImplementedError

    def form(self, spec, obj, data=None):
        raise NotImplementedError

    def run(self, spec, obj, data):
        raise NotImplementedError

    def done_message(self, spec, obj) -> str:
        raise NotImplementedError

    def spec_and_object(self):
        spec = self.spec()
        if spec is None:
            raise Http404
        obj = self.get_object()
        if not self.may(spec):
            raise PermissionDenied
        return spec, obj

    def render_dialog(self, obj, spec, form, status=200):
        ctx = self.base_context(object=obj, t=spec, form=form,
                                action_url=reverse(self.rt.url_name(self.url_action), args=[obj.pk, spec.name]),
                                hx_target="#transition-dialog", cancel_url=self.rt.get_absolute_url(obj))
        template = "core/partials/transition_dialog.html" if self.request.htmx else "core/transition_page.html"
        return TemplateResponse(self.request, template, ctx, status=status)

    def get(self, request, *args, **kwargs):
        spec, obj = self.spec_and_object()
        form = self.form(spec, obj)
        if request.GET.get("to") and "to" in form.fields:  # a menu item chose the target state
            form.initial["to"] = request.GET["to"]
        return self.render_dialog(obj, spec, form)

    def post(self, request, *args, **kwargs):
        from .workflow import TransitionRefused

        spec, obj = self.spec_and_object()
        try:
            obj = self.run(spec, obj, request.POST)
        except TransitionRefused as exc:
            messages.error(request, exc.message)
        except StaleVersionError:
            messages.error(request, _("Someone else changed this record; try again."))
        except ValidationError as exc:
            form = self.form(spec, obj, request.POST)
            add_new_errors(form, exc)
            return self.render_dialog(obj, spec, form, status=200 if request.htmx else 422)
        else:
            messages.success(request, self.done_message(spec, obj))
        # an action may make another record (a quotation's "make order"): the user goes to it
        url = (registry.for_model(type(obj)) or self.rt).get_absolute_url(obj)
        if request.htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)


class ActionView(RecordDialogView):
    """A record action (kehu/core/actions.py)."""

    url_action = "action"

    def spec(self):
        from . import actions

        return actions.get(self.rt, self.kwargs["name"])

    def may(self, spec):
        from . import actions

        return actions.may(self.rt, self.request.user, spec)

    def form(self, spec, obj, data=None):
        from . import actions

        return actions.form(self.rt, spec, obj, data)

    def run(self, spec, obj, data):
        from . import actions

        return actions.take_action(self.rt, obj, spec.name, self.request.user, data)

    def done_message(self, spec, obj):
        return _("%(action)s: done for “%(obj)s”.") % {"action": spec.label, "obj": obj}


class TransitionView(RecordDialogView):
    """A workflow transition (kehu/core/workflow.py)."""

    url_action = "transition"

    def dispatch(self, request, *args, **kwargs):
        if self.rt.workflow is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def spec(self):
        return self.rt.workflow.get(self.kwargs["name"])

    def may(self, spec):
        return self.rt.workflow.may(self.request.user, spec)

    def form(self, spec, obj, data=None):
        return self.rt.workflow.form(spec, obj, data)

    def run(self, spec, obj, data):
        return self.rt.workflow.take(obj, spec.name, self.request.user, data)

    def done_message(self, spec, obj):
        wf = self.rt.workflow
        return _("%(transition)s: “%(obj)s” is now %(state)s.") % {
            "transition": spec.label, "obj": obj, "state": wf.state_label(wf.state(obj), obj)}


def history_for(obj):
    return (
        LogEntry.objects.get_for_object(obj)
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-id")
    )


def prepare_history(entries: list) -> list:
    """Let the entries show their changed foreign keys (owner, type, ...) without a query each:
    django-auditlog reads every related object with its own `get()`; here the values of all the
    entries are read once per related model, and each entry answers from that."""
    from django.db import models as djmodels
    from django.utils.encoding import smart_str

    wanted: dict = {}
    for entry in entries:
        model = entry.content_type.model_class() if entry.content_type_id else None
        if model is None:
            continue
        for name, values in (entry.changes_dict or {}).items():
            try:
                field = model._meta.get_field(name)
            except Exception:  # a field that no longer exists
                continue
            if isinstance(field, djmodels.ForeignKey) and not getattr(field, "choices", None):
                for value in values if isinstance(values, (list, tuple)) else [values]:
                    try:
                        wanted.setdefault(field.related_model, set()).add(
                            field.related_model._meta.pk.to_python(value))
                    except Exception:  # "None" or a legacy text value
                        continue
    found = {model: model._base_manager.in_bulk(pks) for model, pks in wanted.items()}

    def fk_display(field, value, _found=found):
        if value == "None":
            return value
        try:
            pk = field.related_model._meta.pk.to_python(value)
        except Exception:
            return value
        obj = _found.get(field.related_model, {}).get(pk)
        return smart_str(obj) if obj is not None else f"Deleted '{field.related_model.__name__}' ({value})"

    for entry in entries:
        entry._get_changes_display_for_fk_field = fk_display
    return entries


def local_next(request, default: str) -> str:
    """The posted `next` when it is a path of this site, else `default`: never another host (no open
    redirect, "//evil.example" and "/\\evil.example" included)."""
    nxt = request.POST.get("next") or ""
    if nxt.startswith("/") and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                                               require_https=request.is_secure()):
        return nxt
    return default


class BulkActionView(RecordViewMixin, View):
    """POST pk=.. pk=.. action=<name> (+ value). Accepts exactly the record type's declared
    `bulk_actions` (anything else: 404); each names its right and a handler method of this view
    (record types with their own actions subclass it and add the methods)."""

    def actions(self):
        return {a.name: (a, getattr(self, a.handler) if isinstance(a.handler, str)
                         else functools.partial(a.handler, self)) for a in self.rt.get_bulk_actions()}

    def post(self, request, *args, **kwargs):
        name = request.POST.get("action")
        actions = self.actions()
        if name not in actions:
            raise Http404
        action, handler = actions[name]
        require(request.user, self.rt, action.right)
        if not action.allowed(request.user):
            raise PermissionDenied
        pks = [int(p) for p in request.POST.getlist("pk") if p.isdigit()]
        objs = list(self.rt.visible(request.user).filter(pk__in=pks))
        if not objs:
            messages.warning(request, _("Select at least one record."))
        else:
            from django.core.exceptions import ValidationError

            try:
                with transaction.atomic():
                    result = handler(objs, request.POST)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return HttpResponseRedirect(local_next(request, reverse(self.rt.url_name("list"))))
            if isinstance(result, HttpResponse):
                return result
            messages.success(request, _("%(count)s records updated.") % {"count": len(objs)})
        return HttpResponseRedirect(local_next(request, reverse(self.rt.url_name("list"))))

    def bulk_delete(self, objs, data):
        for obj in objs:
            delete_record(self.rt, obj, self.request.user)

    def bulk_tag(self, objs, data):
        name = (data.get("value") or "").strip()
        if not name:
            return
        for obj in objs:
            obj.set_tags([t.name for t in obj.tags] + [name])


# --- attachments ---------------------------------------------------------------

ACTIVE_CONTENT = {"text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml",
                  "application/javascript", "text/javascript"}


class AttachmentListView(RecordViewMixin, View):
    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        return TemplateResponse(request, "core/partials/attachments.html", self.base_context(
            object=obj, attachments=obj.attachments.select_related("uploaded_by")))


class AttachmentUploadView(RecordViewMixin, View):
    action = "edit"

    def post(self, request, *args, **kwargs):
        from .services import add_attachment

        obj = self.get_object()
        upload = request.FILES.get("file")
        error = None
        try:
            add_attachment(obj, upload, request.user)
        except Exception as exc:  # ValidationError from the size/type checks
            from django.core.exceptions import ValidationError

            if not isinstance(exc, ValidationError):
                raise
            error = " ".join(exc.messages)
        ctx = self.base_context(object=obj, attachments=obj.attachments.select_related("uploaded_by"),
                                upload_error=error)
        response = render(request, "core/partials/attachments.html", ctx)
        if error and not request.htmx:
            messages.error(request, error)
            return HttpResponseRedirect(self.rt.get_absolute_url(obj) + "?tab=attachments")
        if not request.htmx:
            return HttpResponseRedirect(self.rt.get_absolute_url(obj) + "?tab=attachments")
        return response


class AttachmentDownloadView(LoginRequiredMixin, View):
    def get(self, request, pk):
        att = get_object_or_404(Attachment, pk=pk)
        parent = _attachment_parent(request.user, att)
        if parent is None:
            raise Http404
        content_type = att.mime_type or mimetypes.guess_type(att.filename)[0] or "application/octet-stream"
        if content_type in ACTIVE_CONTENT or content_type.startswith("text/"):
            content_type = "application/octet-stream"
        response = FileResponse(att.file.open("rb"), as_attachment=True, filename=att.filename,
                                content_type=content_type)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


class AttachmentDeleteView(LoginRequiredMixin, View):
    def post(self, request, pk):
        att = get_object_or_404(Attachment, pk=pk)
        parent = _attachment_parent(request.user, att)
        if parent is None:
            raise Http404
        rt = registry.for_model(type(parent))
        require(request.user, rt, "edit")
        att.file.delete(save=False)
        att.delete()
        return HttpResponseRedirect(rt.get_absolute_url(parent) + "?tab=attachments")


def _attachment_parent(user, att):
    model = att.content_type.model_class()
    rt = registry.for_model(model)
    if rt is None or not user.has_right(rt.module, "view"):
        return None
    return rt.visible(user).filter(pk=att.object_id).first()


def generated_urls(urlpatterns) -> list:
    """URL includes for the record types of installed apps that have no urls.py (and no namespace
    among `urlpatterns`): each app's generic pages under its label's namespace."""
    from django.apps import apps
    from django.urls import URLResolver
    from django.utils.module_loading import module_has_submodule

    taken = {p.namespace for p in urlpatterns if isinstance(p, URLResolver)}
    out = []
    for config in apps.get_app_configs():
        if config.label in taken or module_has_submodule(config.module, "urls"):
            continue
        types = [rt for rt in registry.all() if rt.model._meta.app_label == config.label]
        if types:
            patterns = [p for rt in types for p in record_urls(rt)]
            out.append(path("", include((patterns, config.label))))
    return out


def record_urls(rt: RecordType, views: dict | None = None) -> list:
    """URL patterns for one record type; `views` overrides any of the generic views."""
    v = {
        "list": RecordListView, "add": RecordEditView, "detail": RecordDetailView, "edit": RecordEditView,
        "delete": RecordDeleteView, "history": HistoryView, "bulk": BulkActionView,
        "recycle_bin": RecycleBinView, "restore": RestoreView, "attachments": AttachmentListView,
        "upload": AttachmentUploadView, "transition": TransitionView, "action": ActionView,
        "related": RelatedTabView,
    }
    v.update(views or {})
    k, p = rt.key, rt.url_prefix

    def view(name):
        return v[name].as_view(rt=rt)

    patterns = [
        path(f"{p}/", view("list"), name=f"{k}_list"),
        path(f"{p}/bulk/", view("bulk"), name=f"{k}_bulk"),
        path(f"{p}/<int:pk>/", view("detail"), name=f"{k}_detail"),
        path(f"{p}/<int:pk>/history/", view("history"), name=f"{k}_history"),
        path(f"{p}/<int:pk>/related/<slug:tab>/", view("related"), name=f"{k}_related"),
    ]
    if rt.creatable:  # a read-only record type has no such pages (kehu/core/actions.py)
        patterns.append(path(f"{p}/add/", view("add"), name=f"{k}_add"))
    if rt.editable:
        patterns.append(path(f"{p}/<int:pk>/edit/", view("edit"), name=f"{k}_edit"))
    if rt.deletable:
        patterns.append(path(f"{p}/<int:pk>/delete/", view("delete"), name=f"{k}_delete"))
    if rt.actions:
        patterns.append(path(f"{p}/<int:pk>/actions/<slug:name>/", view("action"), name=f"{k}_action"))
    if rt.workflow is not None:
        patterns.append(path(f"{p}/<int:pk>/transitions/<slug:name>/", view("transition"), name=f"{k}_transition"))
    if rt.is_kehu_model:
        if rt.deletable:
            patterns += [
                path(f"{p}/recycle-bin/", view("recycle_bin"), name=f"{k}_recycle_bin"),
                path(f"{p}/<int:pk>/restore/", view("restore"), name=f"{k}_restore"),
            ]
        patterns += [
            path(f"{p}/<int:pk>/attachments/", view("attachments"), name=f"{k}_attachments"),
            path(f"{p}/<int:pk>/attachments/upload/", view("upload"), name=f"{k}_upload"),
        ]
    return patterns

